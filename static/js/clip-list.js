// The clips under a recording: range, length, size, status, Download and Delete.
import { createShareLink, deleteClip, renameClip } from './api.js';
import { formatDuration, formatSize, formatTime } from './format.js';
import { ManageLinks } from './manage-links.js';
import { PostTo } from './post-to.js';
import { ShareMenu } from './share-menu.js';
import { showToast } from './toast.js';
import { button, el } from './dom.js';
import { downloadLink } from './download-link.js';
import { isReady, statusLabel } from './clip-states.js';

export class ClipList {
  constructor(clips) {
    this.$root = el('ul', 'clip-list');
    this.$root.setAttribute('aria-label', 'Clips');
    for (const clip of clips) this.add(clip, { prepend: false });
  }

  add(clip, { prepend = true } = {}) {
    const $item = this.renderClip(clip);
    const $existing = this.$root.querySelector(`[data-clip-id="${clip.id}"]`);
    if ($existing) $existing.replaceWith($item);
    else if (prepend) this.$root.prepend($item);
    else this.$root.append($item);
  }

  // The title becomes a field in place: Enter or Save keeps it, Escape or Cancel leaves it as it was.
  rename(clip, $item) {
    const $form = el('form', 'clip-rename');
    const $input = el('input');
    $input.value = clip.title ?? '';
    $input.maxLength = 200;
    $input.setAttribute('aria-label', 'Clip title');
    const $cancel = button('Cancel', () => $form.replaceWith($title), 'button button-quiet');
    const $save = el('button', 'button', 'Save');
    $save.type = 'submit';
    $form.append($input, $save, $cancel);
    const $title = $item.querySelector('.clip-title');
    $title.replaceWith($form);
    $input.focus();
    $input.addEventListener('keydown', (event) => { if (event.key === 'Escape') $cancel.click(); });
    $form.addEventListener('submit', async (event) => {
      event.preventDefault();
      $save.disabled = true;
      try {
        const { clip: renamed } = await renameClip(clip.links.self, $input.value);
        this.add(renamed);
        showToast('Clip renamed');
      } catch (error) {
        $save.disabled = false;
        showToast(error.message, { error: true });
      }
    });
  }

  renderClip(clip) {
    const $item = el('li', 'clip');
    $item.dataset.clipId = clip.id;
    $item.dataset.status = clip.status;
    const $info = el('div', 'clip-info');
    const $title = el('span', 'clip-title', clip.title ?? `${formatTime(clip.start_seconds)}–${formatTime(clip.end_seconds)}`);
    $info.append($title, el('span', 'clip-range muted', `${formatTime(clip.start_seconds)}–${formatTime(clip.end_seconds)}`));
    if (clip.duration_seconds != null) $info.append(el('span', 'muted', formatDuration(clip.duration_seconds)));
    if (clip.size_bytes != null) $info.append(el('span', 'muted', formatSize(clip.size_bytes)));
    $info.append(el('span', `clip-status clip-status-${clip.status}`, statusLabel(clip)));
    if (clip.error) $info.append(el('span', 'clip-error', clip.error));

    const $actions = el('div', 'clip-actions');
    if (clip.links.download) $actions.append(downloadLink(clip.links.download));
    $actions.append(button('Rename', () => this.rename(clip, $item), 'button button-quiet'));
    const $delete = button('Delete', async () => {
      if (!window.confirm('Delete this clip? Its file is deleted too.')) return;
      $delete.disabled = true;
      try {
        await deleteClip(clip.links.self);
        $item.remove();
        showToast('Clip deleted');
      } catch (error) {
        $delete.disabled = false;
        showToast(error.message, { error: true });
      }
    }, 'button button-quiet');
    let $posts = null;
    if (isReady(clip)) {
      const title = `Clip ${formatTime(clip.start_seconds)}–${formatTime(clip.end_seconds)}`;
      const share = new ShareMenu({
        title,
        downloadUrl: clip.links.download,
        fileName: `clip-${clip.id.slice(0, 8)}.${clip.media_kind === 'audio' ? 'm4a' : 'mp4'}`,
        getLink: () => createShareLink({ target_type: 'clip', target_id: clip.id, default: true })
          .then(({ share_link: link }) => link.url),
        onManage: () => new ManageLinks({ targetType: 'clip', targetId: clip.id, title }),
      });
      const post = new PostTo({ targetType: 'clip', targetId: clip.id, title: clip.title ?? title, seconds: clip.duration_seconds });
      $actions.append(share.$root, post.$button);
      $posts = post.$status;
    }
    $actions.append($delete);
    $item.append($info, $actions);
    if ($posts) $item.append($posts);
    return $item;
  }
}
