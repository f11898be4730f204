// One recording in the list: its facts, Play (in place) and Download.
import { ClipEditor, preloadFFmpeg } from './clip-editor.js';
import { ClipList } from './clip-list.js';
import { createShareLink } from './api.js';
import { formatDate, formatDuration, formatSize } from './format.js';
import { ManageLinks } from './manage-links.js';
import { ShareMenu } from './share-menu.js';
import { button, el } from './dom.js';
import { downloadLink } from './download-link.js';
import { ownerControl } from './owner-form.js';
import { PostTo } from './post-to.js';

export class RecordingRow {
  // settings: what the clip editor needs ({ clipsUrl, wasmBase, wasmSize, maxSeconds }).
  constructor(recording, settings) {
    this.recording = recording;
    this.settings = settings;
    this.$root = el('li', 'recording');
    this.$root.dataset.recordingId = String(recording.id);
    this.$root.dataset.recordingType = recording.type;
    this.render();
  }

  render() {
    const r = this.recording;
    const $thumb = el('div', 'recording-thumb');
    $thumb.setAttribute('aria-hidden', 'true');  // the title says what it is
    if (r.links.poster) {
      const $img = el('img');
      $img.src = r.links.poster;
      $img.alt = '';
      $img.loading = 'lazy';
      $thumb.append($img);
    }
    const $info = el('div', 'recording-info');
    $info.append(el('h2', 'recording-title', r.title));
    const $meta = el('p', 'recording-meta muted');
    const $date = el('time', null, formatDate(r.created_at));
    $date.dateTime = r.created_at;
    $meta.append($date, el('span', null, formatDuration(r.duration_seconds)), el('span', null, formatSize(r.size_bytes)));
    const $owner = el('span', 'recording-owner', r.owner ?? 'No owner yet');
    if (r.owner || this.settings.superAdmin) $meta.append($owner);
    $info.append($meta);
    if (r.failure) $info.append(el('p', 'recording-failure', r.failure));

    this.$actions = el('div', 'recording-actions');
    const $assign = this.settings.superAdmin && ownerControl(r, (updated) => {
      r.owner = updated.owner;
      $owner.textContent = updated.owner ?? 'No owner yet';
    });
    if (r.failure) {  // an Egress that failed: nothing to play, download, clip or share
      if ($assign) this.$actions.append($assign);
      this.$root.append($thumb, $info, this.$actions);
      return;
    }

    this.$play = button('Play', () => this.togglePlayer(), 'button button-primary');
    this.$play.setAttribute('aria-expanded', 'false');
    // The API answers with a redirect to an attachment URL (or an attachment stream), so the
    // browser saves the file instead of opening it, on phones too.
    const $download = downloadLink(r.links.download);
    $download.dataset.action = 'download';
    this.$clip = button('Create clip', () => this.toggleEditor());
    this.$clip.setAttribute('aria-expanded', 'false');
    for (const intent of ['pointerenter', 'focus']) {
      this.$clip.addEventListener(intent, () => preloadFFmpeg(this.settings), { once: true });
    }
    const share = new ShareMenu({
      title: r.title,
      downloadUrl: r.links.download,
      getLink: () => createShareLink({ target_type: r.type, target_id: r.id, default: true })
        .then(({ share_link: link }) => link.url),
      onManage: () => new ManageLinks({ targetType: r.type, targetId: r.id, title: r.title }),
    });
    const post = new PostTo({ targetType: r.type, targetId: r.id, title: r.title, seconds: r.duration_seconds });
    this.$actions.append(this.$play, $download, this.$clip, share.$root, post.$button);
    if ($assign) this.$actions.append($assign);

    this.$player = el('div', 'recording-player');
    this.$player.hidden = true;
    this.$editorSlot = el('div', 'recording-editor');
    this.clips = new ClipList(r.clips ?? []);
    this.$root.append($thumb, $info, this.$actions, post.$status, this.$player, this.$editorSlot, this.clips.$root);
  }

  toggleEditor() {
    if (this.editor) {
      this.editor.close();
      return;
    }
    if (!this.$player.hidden) this.togglePlayer();
    this.editor = new ClipEditor(this.recording, this.settings, {
      onReady: (clip) => this.clips.add(clip),
      onClose: () => {
        this.editor = null;
        this.$clip.setAttribute('aria-expanded', 'false');
        this.$clip.textContent = 'Create clip';
      },
    });
    this.$editorSlot.append(this.editor.$root);
    this.$clip.setAttribute('aria-expanded', 'true');
    this.$clip.textContent = 'Close editor';
  }

  togglePlayer() {
    const open = this.$player.hidden;
    this.$player.hidden = !open;
    this.$play.textContent = open ? 'Close player' : 'Play';
    this.$play.setAttribute('aria-expanded', String(open));
    if (!open) {
      this.$player.querySelector('video, audio')?.pause();
      return;
    }
    if (!this.$player.firstChild) {
      const $media = el(this.recording.media_kind === 'audio' ? 'audio' : 'video');
      $media.controls = true;
      $media.preload = 'metadata';
      $media.playsInline = true;
      $media.src = this.recording.links.play;
      // A failure (storage down, say) stays until Try again asks the play URL anew: a fresh signed URL.
      const $failure = el('div', 'player-failure');
      $failure.setAttribute('role', 'alert');
      $failure.hidden = true;
      const $retry = button('Try again', () => {
        $failure.hidden = true;
        $media.src = this.recording.links.play;
        $media.load();
        $media.play().catch(() => {});
      });
      $failure.append(el('p', 'player-error', 'This recording cannot be played right now. Try Download instead.'), $retry);
      $media.addEventListener('error', () => { $failure.hidden = false; });
      this.$player.append($media, $failure);
    }
    this.$player.querySelector('video, audio').play().catch(() => {});
  }
}
