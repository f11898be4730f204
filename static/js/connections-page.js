// The connected accounts page: Disconnect asks first, since it takes Reclip's access back at the platform.
for (const $form of document.querySelectorAll('form[data-confirm]')) {
  $form.addEventListener('submit', (event) => {
    if (!window.confirm($form.dataset.confirm)) event.preventDefault();
  });
}
