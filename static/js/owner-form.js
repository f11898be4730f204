// A super admin gives a recording to someone (an Egress of a room Reclip had not seen has no owner).
import { assignOwner } from './api.js';
import { button, el } from './dom.js';
import { showToast } from './toast.js';

// A button that opens a small form in place: an email, Assign, Cancel. onAssigned(recording JSON).
export function ownerControl(recording, onAssigned) {
  const $open = button(recording.owner ? 'Change owner' : 'Assign owner', () => {
    const $form = el('form', 'owner-form');
    const $email = el('input');
    $email.type = 'email';
    $email.required = true;
    $email.autocomplete = 'off';
    $email.value = recording.owner ?? '';
    $email.setAttribute('aria-label', 'Owner’s email');
    const $save = el('button', 'button', 'Assign');
    $save.type = 'submit';
    $form.append($email, $save, button('Cancel', () => $form.replaceWith($open), 'button button-quiet'));
    $form.addEventListener('submit', async (event) => {
      event.preventDefault();
      $save.disabled = true;
      try {
        const { recording: updated } = await assignOwner(recording.links.owner, $email.value.trim());
        showToast(`Assigned to ${updated.owner}`);
        onAssigned(updated);
        $open.textContent = 'Change owner';
        $form.replaceWith($open);
      } catch (error) {
        $save.disabled = false;
        showToast(error.message, { error: true });
      }
    });
    $open.replaceWith($form);
    $email.focus();
  }, 'button button-quiet');
  return $open;
}
