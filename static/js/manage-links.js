// Manage links: the share links of one recording or clip, with expiry, views, password, Revoke, New link.
import { createShareLink, listShareLinks, revokeShareLink } from './api.js';
import { copyText } from './share-menu.js';
import { showToast } from './toast.js';
import { button, el } from './dom.js';

const EXPIRY_PRESETS = [['1 day', 86400], ['7 days', 7 * 86400], ['30 days', 30 * 86400], ['Never', null]];

function describeExpiry(link) {
  if (link.state === 'revoked') return 'Revoked';
  if (link.state === 'expired') return 'Expired';
  return link.expires_at ? `Expires ${new Date(link.expires_at).toLocaleString()}` : 'Never expires';
}

export class ManageLinks {
  constructor({ targetType, targetId, title }) {
    this.target = { targetType, targetId };
    this.$dialog = el('dialog', 'manage-links');
    this.$dialog.setAttribute('aria-label', `Share links of ${title}`);
    const $head = el('div', 'manage-links-head');
    const $close = button('Close', () => this.$dialog.close(), 'button button-quiet');
    $head.append(el('h2', null, 'Share links'), $close);
    this.$list = el('ul', 'manage-links-list');
    this.$status = el('p', 'muted', 'Loading links…');
    this.$dialog.append($head, el('p', 'muted', title), this.$status, this.$list, this.renderForm());
    this.$dialog.addEventListener('close', () => this.$dialog.remove());
    document.body.append(this.$dialog);
    this.$dialog.showModal();
    this.refresh();
  }

  renderForm() {
    const $form = el('form', 'manage-links-form');
    $form.append(el('h3', null, 'New link'));
    const $expiry = el('select');
    $expiry.name = 'expiry';
    $expiry.id = `expiry-${this.target.targetType}-${this.target.targetId}`;
    for (const [label, seconds] of EXPIRY_PRESETS) {
      const $option = el('option', null, label);
      $option.value = seconds ?? '';
      $expiry.append($option);
    }
    $expiry.value = String(7 * 86400);
    const $expiryLabel = el('label', null, 'Expires after');
    $expiryLabel.htmlFor = $expiry.id;
    const $download = el('input');
    $download.type = 'checkbox';
    $download.checked = true;
    const $downloadLabel = el('label', 'manage-links-check');
    $downloadLabel.append($download, document.createTextNode(' Allow download'));
    const $password = el('input');
    $password.type = 'text';
    $password.autocomplete = 'off';
    $password.placeholder = 'Optional, 8 or more characters';
    $password.minLength = 8;
    $password.maxLength = 128;
    $password.id = `password-${this.target.targetType}-${this.target.targetId}`;
    const $passwordLabel = el('label', null, 'Password');
    $passwordLabel.htmlFor = $password.id;
    const $create = el('button', 'button button-primary', 'Create link');
    $create.type = 'submit';
    this.$created = el('p', 'manage-links-created');
    this.$created.hidden = true;
    $form.append($expiryLabel, $expiry, $downloadLabel, $passwordLabel, $password, $create, this.$created);
    $form.addEventListener('submit', async (event) => {
      event.preventDefault();
      $create.disabled = true;
      try {
        const { share_link: link } = await createShareLink({
          target_type: this.target.targetType, target_id: this.target.targetId,
          expires_in_seconds: $expiry.value ? Number($expiry.value) : null,
          allow_download: $download.checked, password: $password.value || null,
        });
        await copyText(link.url).then(() => showToast('Link copied')).catch(() => {});
        this.$created.textContent = link.url;
        this.$created.hidden = false;
        $password.value = '';
        this.refresh();
      } catch (error) {
        showToast(error.message, { error: true });
      } finally {
        $create.disabled = false;
      }
    });
    return $form;
  }

  async refresh() {
    try {
      const { share_links: links } = await listShareLinks(this.target);
      this.$status.textContent = links.length ? '' : 'No links yet.';
      this.$status.hidden = links.length > 0;
      this.$list.replaceChildren(...links.map((link) => this.renderLink(link)));
    } catch (error) {
      this.$status.textContent = `Links could not be loaded: ${error.message}`;
    }
  }

  renderLink(link) {
    const $item = el('li', `manage-link manage-link-${link.state}`);
    const $info = el('div', 'manage-link-info');
    $info.append(
      el('span', null, link.is_default ? 'Copy-link link' : `Link created ${new Date(link.created_at).toLocaleDateString()}`),
      el('span', 'muted', describeExpiry(link)),
      el('span', 'muted', `${link.view_count} ${link.view_count === 1 ? 'view' : 'views'}`),
      el('span', 'muted', link.has_password ? 'Password: yes' : 'Password: no'),
      el('span', 'muted', link.allow_download ? 'Download allowed' : 'No download'),
    );
    $item.append($info);
    if (link.state === 'active') {
      const $revoke = button('Revoke', async () => {
        $revoke.disabled = true;
        try {
          await revokeShareLink(link.id);
          showToast('Link revoked');
          this.refresh();
        } catch (error) {
          $revoke.disabled = false;
          showToast(error.message, { error: true });
        }
      });
      $item.append($revoke);
    }
    return $item;
  }
}
