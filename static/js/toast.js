// One polite status message at the bottom of the page.

let timer;

export function showToast(message, { error = false } = {}) {
  const $toast = document.querySelector('.toast');
  if (!$toast) throw new Error('toast: the page has no .toast element');
  $toast.textContent = message;
  $toast.classList.toggle('toast-error', error);
  $toast.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => { $toast.hidden = true; }, 3500);
}
