// Download: ask the API where the file is first (format=json), so that a refusal (storage down, the
// file gone) is said in words on the page; then one navigation to the signed URL, whose attachment
// response the browser saves under its own file name, on phones too. The href stays the API's URL:
// a middle-click, "Save link as" and a page without JavaScript still download.
import { getDownload } from './api.js';
import { el } from './dom.js';
import { showToast } from './toast.js';

export function downloadLink(href, className = 'button', text = 'Download') {
  const $link = el('a', className, text);
  $link.href = href;
  $link.setAttribute('download', '');
  $link.addEventListener('click', async (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if ($link.getAttribute('aria-busy') === 'true') return;  // a double tap asks once
    $link.setAttribute('aria-busy', 'true');
    try {
      const { url } = await getDownload(href);
      window.location.assign(url);
    } catch (error) {
      showToast(`Download failed: ${error.message}`, { error: true });
    } finally {
      $link.removeAttribute('aria-busy');
    }
  });
  return $link;
}
