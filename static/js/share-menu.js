// Copy link and Share (Facebook, Instagram, TikTok, the system share sheet) for a recording or a clip.
import { isPhone } from './device.js';
import { button, el } from './dom.js';
import { downloadLink } from './download-link.js';
import { showToast } from './toast.js';

const UPLOAD_PAGES = {
  Instagram: 'https://www.instagram.com/',
  TikTok: 'https://www.tiktok.com/upload',
};
const SHARE_FILE_MAX_BYTES = 100_000_000;

// Copy text while keeping the click's user activation across the await (Safari needs the promise form).
export async function copyText(textPromise) {
  if (window.ClipboardItem && navigator.clipboard?.write) {
    const blob = Promise.resolve(textPromise).then((text) => new Blob([text], { type: 'text/plain' }));
    try {
      await navigator.clipboard.write([new ClipboardItem({ 'text/plain': blob })]);
      return;
    } catch {
      // Falls through: either the link itself failed (rethrown below) or no promise support.
    }
  }
  await navigator.clipboard.writeText(await textPromise);
}

export class ShareMenu {
  // options: getLink() -> Promise<url>; title; downloadUrl (when downloads are allowed);
  // fileName (a clip, whose file may be shared itself on phones); onManage() for the owner.
  constructor({ getLink, title, downloadUrl = null, fileName = null, onManage = null }) {
    this.getLink = getLink;
    this.title = title;
    this.downloadUrl = downloadUrl;
    this.fileName = fileName;
    this.onManage = onManage;
    this.render();
  }

  render() {
    this.$root = el('div', 'share-menu');
    const $copy = button('Copy link', () => this.copyLink());
    this.$toggle = button('Share', () => this.toggle());
    this.$toggle.setAttribute('aria-expanded', 'false');
    this.$panel = el('div', 'share-panel');
    this.$panel.hidden = true;
    this.$panel.setAttribute('role', 'group');
    this.$panel.setAttribute('aria-label', 'Share to');
    this.$panel.append(
      button('Facebook', () => this.openFacebook()),
      button('Instagram', () => this.openUploadPage('Instagram')),
      button('TikTok', () => this.openUploadPage('TikTok')),
    );
    if (navigator.share) this.$panel.append(button('Share…', () => this.systemShare()));
    // Links may be revoked in Manage links: forget the remembered one so Copy link asks again.
    const manage = () => { this.linkPromise = null; this.onManage(); };
    if (this.onManage) this.$panel.append(button('Manage links', manage, 'button button-quiet'));
    this.$hint = el('div', 'share-hint');
    this.$hint.hidden = true;
    this.$root.append($copy, this.$toggle, this.$panel, this.$hint);
    // A click elsewhere closes the open menu; listened to only while it is open.
    this.onOutsideClick = (event) => { if (!this.$root.contains(event.target)) this.toggle(); };
    this.$root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.$panel.hidden) this.toggle();
    });
  }

  toggle() {
    const open = this.$panel.hidden;
    this.$panel.hidden = !open;
    this.$toggle.setAttribute('aria-expanded', String(open));
    if (open) document.addEventListener('click', this.onOutsideClick);
    else document.removeEventListener('click', this.onOutsideClick);
    if (!open) this.$hint.hidden = true;
    // The share sheet needs the tap's user activation: fetch the clip file before the tap.
    if (open && this.fileName && this.downloadUrl && isPhone() && navigator.canShare) this.prefetchFile();
  }

  link() {
    this.linkPromise ??= this.getLink();
    this.linkPromise.catch(() => { this.linkPromise = null; });
    return this.linkPromise;
  }

  async copyLink() {
    try {
      await copyText(this.link());
      showToast('Link copied');
    } catch (error) {
      showToast(error.message && error.name !== 'NotAllowedError' ? error.message : 'The link could not be copied.', { error: true });
    }
  }

  async openFacebook() {
    const tab = window.open('', '_blank');  // opened during the click, so no popup blocker
    try {
      const url = await this.link();
      const target = `https://www.facebook.com/sharer/sharer.php?u=${encodeURIComponent(url)}`;
      if (tab) { tab.opener = null; tab.location.href = target; } else window.open(target, '_blank', 'noopener');
    } catch (error) {
      tab?.close();
      showToast(error.message, { error: true });
    }
  }

  openUploadPage(name) {
    window.open(UPLOAD_PAGES[name], '_blank', 'noopener');
    this.$hint.replaceChildren(el('p', null, `Download the clip, then upload it in the ${name} app.`));
    if (this.downloadUrl) this.$hint.append(downloadLink(this.downloadUrl));
    this.$hint.hidden = false;
  }

  async prefetchFile() {
    if (this.filePromise) return;
    this.filePromise = (async () => {
      const response = await fetch(this.downloadUrl, { credentials: 'same-origin' });
      const size = Number(response.headers.get('Content-Length'));
      if (!response.ok || size > SHARE_FILE_MAX_BYTES) return null;
      const blob = await response.blob();
      const file = new File([blob], this.fileName, { type: blob.type || 'video/mp4' });
      return navigator.canShare({ files: [file] }) ? file : null;
    })().catch(() => null);
  }

  async systemShare() {
    const file = this.filePromise ? await this.filePromise : null;
    try {
      if (file) await navigator.share({ files: [file], title: this.title });
      else await navigator.share({ title: this.title, url: await this.link() });
    } catch (error) {
      if (error.name !== 'AbortError') showToast('Sharing did not work here: use Copy link instead.', { error: true });
    }
  }
}
