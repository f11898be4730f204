// Building the DOM: text is always set with textContent.

export function el(tag, className, text) {
  const $el = document.createElement(tag);
  if (className) $el.className = className;
  if (text !== undefined) $el.textContent = text;
  return $el;
}

export function button(text, onClick, className = 'button') {
  const $button = el('button', className, text);
  $button.type = 'button';
  $button.addEventListener('click', onClick);
  return $button;
}
