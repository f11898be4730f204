// The posts of one clip or recording under its row: each one's words, a spinner while it is on its way,
// View post once published, Try again when it failed. A post on its way is asked about every 2 s, less
// often (up to every 10 s) while nothing changes, until it settles or the row leaves the page.
import { getPublication, listRecentPublications, retryPublication } from './api.js';
import { button, el } from './dom.js';
import { showToast } from './toast.js';

const SETTLED = new Set(['published', 'inbox', 'failed']);
const FIRST_DELAY_MS = 2000;
const MAX_DELAY_MS = 10000;
const SHOWN = 5;  // the newest posts of the row
const RECENT_FOR_MS = 5000;

let recent = null;

// The person's recent posts, asked for once for all the rows on the page (each row keeps its own);
// asked again when rows are drawn anew later (a search, the Meet/Voice switch).
function recentPublications() {
  if (!recent || Date.now() - recent.at > RECENT_FOR_MS) {
    recent = { at: Date.now(), promise: listRecentPublications() };
    recent.promise.catch(() => { recent = null; });
  }
  return recent.promise;
}

export const isSettled = (publication) => SETTLED.has(publication.status);

export class PublicationList {
  constructor({ targetType, targetId }) {
    this.target = { targetType, targetId };
    this.$root = el('ul', 'post-status');
    this.$root.setAttribute('aria-label', 'Posts');
    this.timers = new Map();  // publication id -> its next poll
  }

  // The posts made before: shown without being read out, so that a page load says nothing.
  async load() {
    try {
      const { publications } = await recentPublications();
      const own = publications.filter((publication) => publication.target_type === this.target.targetType
        && publication.target_id === String(this.target.targetId));
      for (const publication of own.slice(0, SHOWN).reverse()) this.show(publication);
    } catch {
      // The row works without its past posts; a new post shows anyway.
    }
    this.$root.setAttribute('aria-live', 'polite');
  }

  show(publication, delay = FIRST_DELAY_MS) {
    const $item = this.render(publication);
    const $existing = this.$root.querySelector(`[data-publication-id="${publication.id}"]`);
    if ($existing) $existing.replaceWith($item);
    else this.$root.prepend($item);
    while (this.$root.children.length > SHOWN) this.forget(this.$root.lastElementChild);
    clearTimeout(this.timers.get(publication.id));
    this.timers.delete(publication.id);
    if (!isSettled(publication)) {
      this.timers.set(publication.id, setTimeout(() => this.poll(publication, delay), delay));
    }
  }

  forget($item) {
    clearTimeout(this.timers.get($item.dataset.publicationId));
    this.timers.delete($item.dataset.publicationId);
    $item.remove();
  }

  stop() {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  async poll(publication, delay) {
    if (!this.$root.isConnected) {  // the row was removed (deleted, or the list reloaded)
      this.stop();
      return;
    }
    let fresh = publication;
    try {
      ({ publication: fresh } = await getPublication(publication.links.self));
    } catch (error) {
      const $item = this.$root.querySelector(`[data-publication-id="${publication.id}"]`);
      if (error.status === 404 && $item) { this.forget($item); return; }
    }
    if (!this.$root.isConnected) { this.stop(); return; }
    // Something moved: look again soon. Nothing did: wait longer each time.
    const next = fresh.status !== publication.status ? FIRST_DELAY_MS : Math.min(delay * 1.5, MAX_DELAY_MS);
    this.show(fresh, next);
  }

  async retry(publication, $retry) {
    $retry.disabled = true;
    try {
      const { publication: queued } = await retryPublication(publication.links.retry);
      this.show(queued);
    } catch (error) {
      $retry.disabled = false;
      showToast(error.message, { error: true });
    }
  }

  render(publication) {
    const $item = el('li', `post-state post-state-${publication.status}`);
    $item.dataset.publicationId = publication.id;
    $item.dataset.status = publication.status;
    if (!isSettled(publication)) {
      const $spinner = el('span', 'spinner');
      $spinner.setAttribute('aria-hidden', 'true');
      $item.append($spinner);
    }
    $item.append(el('span', 'post-state-message', publication.message));
    if (publication.destination) $item.append(el('span', 'post-state-destination muted', publication.destination));
    if (publication.permalink) {
      const $view = el('a', 'post-state-link', 'View post');
      $view.href = publication.permalink;
      $view.target = '_blank';
      $view.rel = 'noopener noreferrer';
      $item.append($view);
    }
    if (publication.status === 'failed' && publication.links.reconnect) {
      // The account's token was refused: Try again would fail the same way until it is reconnected.
      const $reconnect = el('a', 'button button-small', 'Reconnect');
      $reconnect.href = publication.links.reconnect;
      $item.append($reconnect);
    } else if (publication.status === 'failed' && publication.links.retry) {
      const $retry = button('Try again', () => this.retry(publication, $retry), 'button button-small');
      $item.append($retry);
    }
    return $item;
  }
}
