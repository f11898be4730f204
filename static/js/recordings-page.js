// The recordings page: the list with loading, empty and error states, paging, Meet/Voice.
import { listRecordings } from './api.js';
import { preloadFFmpeg } from './clip-editor.js';
import { RecordingRow } from './recording-row.js';

class RecordingsPage {
  constructor($root) {
    if (!$root) throw new Error('recordings-page: no [data-module="recordings-page"] element');
    this.$root = $root;
    this.listUrl = $root.dataset.listUrl;
    this.settings = {
      clipsUrl: $root.dataset.clipsUrl,
      wasmBase: $root.dataset.wasmBase,
      wasmSize: Number($root.dataset.wasmSize) || 0,
      maxSeconds: Number($root.dataset.clipMaxSeconds) || 600,
      browserMaxBytes: Number($root.dataset.browserTrimMaxBytes) || 0,
      superAdmin: $root.dataset.superAdmin === 'true',
    };
    this.$list = $root.querySelector('[data-list]');
    this.$more = $root.querySelector('[data-action="more"]');
    this.$count = $root.querySelector('[data-search-count]');
    this.query = '';
    const $search = $root.querySelector('[data-search]');
    let typing = null;
    const search = () => {
      clearTimeout(typing);
      const query = $search.elements.q.value.trim();
      if (query !== this.query) { this.query = query; this.load({ reset: true }); }
    };
    $search.addEventListener('submit', (event) => { event.preventDefault(); search(); });
    $search.elements.q.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(search, 300); });
    this.$states = Object.fromEntries([...$root.querySelectorAll('[data-state]')].map(($s) => [$s.dataset.state, $s]));
    this.type = 'meet';
    this.cursor = null;
    this.loading = false;

    $root.querySelector('[data-action="retry"]').addEventListener('click', () => this.load({ reset: this.$list.children.length === 0 }));
    this.$more.addEventListener('click', () => this.load());
    for (const $tab of $root.querySelectorAll('.switch-option')) {
      $tab.addEventListener('click', () => this.switchType($tab.dataset.type));
    }
    this.load({ reset: true });
    // Once the page is idle, get FFmpeg ready on a device that will cut in the browser.
    const idle = window.requestIdleCallback ?? ((callback) => setTimeout(callback, 2000));
    idle(() => preloadFFmpeg(this.settings), { timeout: 5000 });
  }

  switchType(type) {
    if (type === this.type) return;
    this.type = type;
    for (const $tab of this.$root.querySelectorAll('.switch-option')) {
      $tab.setAttribute('aria-selected', String($tab.dataset.type === type));
    }
    this.load({ reset: true });
  }

  // How many recordings the search found so far (more may follow with Load more), or why there are none.
  showCount() {
    const shown = this.$list.children.length;
    this.$count.hidden = !this.query || !shown;
    this.$count.textContent = `${shown}${this.cursor ? '+' : ''} recording${shown === 1 && !this.cursor ? '' : 's'} match “${this.query}”`;
    if (shown) this.showState(null);
    else if (this.query) {
      this.$states['no-match'].querySelector('[data-no-match-message]').textContent = `Nothing is titled with “${this.query}”.`;
      this.showState('no-match');
    } else this.showState('empty');
  }

  showState(name) {
    for (const [state, $el] of Object.entries(this.$states)) $el.hidden = state !== name;
  }

  // A reset (a new type) supersedes a load in flight, whose answer is then dropped.
  async load({ reset = false } = {}) {
    if (this.loading && !reset) return;
    this.loading = true;
    this.generation = (this.generation ?? 0) + 1;
    const generation = this.generation;
    if (reset) {
      this.cursor = null;
      this.$list.replaceChildren();
      this.$more.hidden = true;
      this.$count.hidden = true;
    }
    this.showState(reset ? 'loading' : null);
    this.$more.disabled = true;
    this.$more.textContent = 'Loading…';
    try {
      const data = await listRecordings(this.listUrl, { type: this.type, cursor: this.cursor, q: this.query });
      if (generation !== this.generation) return;
      for (const recording of data.recordings) this.$list.append(new RecordingRow(recording, this.settings).$root);
      this.cursor = data.next_cursor;
      this.$more.hidden = !this.cursor;
      this.showCount();
    } catch (error) {
      if (generation !== this.generation) return;
      this.$states.error.querySelector('[data-error-message]').textContent = error.message;
      this.showState('error');
    } finally {
      if (generation === this.generation) this.loading = false;
      this.$more.disabled = false;
      this.$more.textContent = 'Load more';
    }
  }
}

new RecordingsPage(document.querySelector('[data-module="recordings-page"]'));
