// The clip editor: player, Start / End, presets, i / o keys, Generate clip with named progress.
// Making the clip itself is make-clip.js; what the device can do is device.js.
import { browserCutBlocker } from './device.js';
import { button, el } from './dom.js';
import { ClipPreview } from './clip-preview.js';
import { ClipRange } from './clip-range.js';
import { formatSize } from './format.js';
import { cutInBrowser, cutOnServer } from './make-clip.js';
import { Progress } from './progress.js';
import { openSource } from './source.js';
import { loadFFmpeg, resetFFmpeg } from './trim.js';

let editorCount = 0;

// Start loading FFmpeg as soon as someone shows the intent to clip (hover or focus on Create clip),
// where the browser will cut: the editor then opens with the core (nearly) ready.
export function preloadFFmpeg(settings) {
  if (browserCutBlocker()) return;
  loadFFmpeg({ base: settings.wasmBase, wasmSize: settings.wasmSize }).catch(() => {});
}

export class ClipEditor {
  // settings: { clipsUrl, wasmBase, wasmSize, maxSeconds, browserMaxBytes }; onReady(clip) when a clip is made.
  constructor(recording, settings, { onReady, onClose }) {
    this.recording = recording;
    this.settings = settings;
    this.onReady = onReady;
    this.onClose = onClose;
    this.audioOnly = recording.media_kind === 'audio';
    this.busy = false;
    editorCount += 1;
    this.id = `clip-editor-${editorCount}`;
    this.render();
    this.onKey = (event) => this.handleKey(event);
    document.addEventListener('keydown', this.onKey);
    this.prepare();
  }

  render() {
    this.$root = el('section', 'clip-editor');
    this.$root.setAttribute('aria-label', `Create a clip of ${this.recording.title}`);
    this.$media = el(this.audioOnly ? 'audio' : 'video', 'clip-editor-player');
    this.$media.controls = true;
    this.$media.preload = 'metadata';
    this.$media.playsInline = true;
    this.$media.src = this.recording.links.play;

    const initialEnd = this.recording.duration_seconds ? Math.min(this.recording.duration_seconds, 60) : 60;
    this.range = new ClipRange(this.id, {
      duration: () => this.duration(), maxSeconds: this.settings.maxSeconds, initialEnd,
      recordingTitle: this.recording.title,
    });
    this.preview = new ClipPreview({ recording: this.recording, $media: this.$media, range: this.range, initialEnd,
      isExact: () => this.$exact.checked, onError: (text) => this.showMessage(text, { error: true }) });

    const $hint = el('p', 'clip-hint muted', 'Times in seconds or m:ss. Keys: i sets Start, o sets End at the playhead.');
    const $exactLabel = el('label', 'clip-exact');
    this.$exact = el('input');
    this.$exact.type = 'checkbox';
    this.$exact.name = 'precise';
    this.$exact.addEventListener('change', () => { this.showMode(); this.preview.showKeyframe(); });
    $exactLabel.append(this.$exact, document.createTextNode(' Exact cut (slower, on the server)'));
    this.$mode = el('p', 'clip-mode muted');
    this.$mode.hidden = true;
    this.$generate = button('Generate clip', () => this.generate(), 'button button-primary');
    this.$tryServer = button('Try on the server', () => this.generate({ forceServer: true }));
    this.$tryServer.hidden = true;
    const $close = button('Close', () => this.close(), 'button button-quiet');
    const $buttons = el('div', 'clip-buttons');
    $buttons.append(this.$generate, this.$tryServer, $close);

    this.progress = new Progress();
    this.$message = el('p', 'clip-message');
    this.$message.setAttribute('role', 'alert');
    this.$message.hidden = true;
    this.$root.append(this.$media, this.preview.$root, this.range.$root, $hint, $exactLabel, this.preview.$keyframe, this.$mode, $buttons, this.progress.$root, this.$message);
  }

  duration() {
    const fromMedia = this.$media.duration;
    return Number.isFinite(fromMedia) && fromMedia > 0 ? fromMedia : (this.recording.duration_seconds ?? 0);
  }

  handleKey(event) {
    if (this.busy || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) return;
    const key = event.key.toLowerCase();
    if (key !== 'i' && key !== 'o') return;
    event.preventDefault();
    this.range.mark(key === 'i' ? 'start' : 'end', this.$media.currentTime);
  }

  // Why this clip must be cut on the server, in words; null when the browser can do it.
  serverReason() {
    if (this.$exact.checked) return 'an exact cut is made on the server';
    // Only a recording fetched whole is limited by its size: read by parts, any length is cut here.
    if (this.opened?.tooLarge) return 'the recording is too large to fetch whole, and its storage sends no parts';
    return browserCutBlocker();
  }

  showMode() {
    const reason = this.serverReason();
    this.$mode.textContent = reason ? `Cutting on the server: ${reason}.` : '';
    this.$mode.hidden = !reason;
    if (!reason && !this.ffmpeg) this.prepare();
  }

  // Start loading FFmpeg and fetching the source while the person picks in and out points.
  prepare() {
    if (this.serverReason()) {
      this.showMode();
      return;
    }
    this.prepareFFmpeg();
    this.prepareSource();
  }

  prepareFFmpeg() {
    this.ffmpeg = loadFFmpeg({ base: this.settings.wasmBase, wasmSize: this.settings.wasmSize,
      onProgress: (loaded, total) => this.progress.report('load', loaded, total) });
    this.ffmpeg.catch(() => {});
  }

  // Open the source: an MP4 in storage that sends parts is read by parts while cutting (nothing now);
  // anything else starts downloading whole right away, unless it is too large for that.
  prepareSource() {
    this.source = openSource(this.recording, { maxWholeBytes: this.settings.browserMaxBytes,
      onProgress: (loaded, total) => this.progress.report('fetch', loaded, total) }).then((opened) => {
      this.opened = opened;
      if (opened.tooLarge) this.showMode();
      return opened;
    });
    this.source.catch(() => {});
  }

  setStep(step, label) {
    this.currentStep = step;
    this.stepLabel = label;
    this.$root.dataset.step = step;
    this.progress.show(step, label);
  }

  showMessage(text, { error = false } = {}) {
    this.$message.textContent = text;
    this.$message.classList.toggle('clip-message-error', error);
    this.$message.hidden = !text;
  }

  async generate({ forceServer = false } = {}) {
    if (this.busy) return;
    const range = this.range.validate();
    if (typeof range === 'string') {
      this.showMessage(range, { error: true });
      return;
    }
    this.$tryServer.hidden = true;
    this.busy = true;
    this.$generate.disabled = true;
    this.showMessage('');
    const onStep = (step, label) => this.setStep(step, label);
    let reason = forceServer ? 'the browser could not cut it' : this.serverReason();
    try {
      if (!reason) {
        if (!this.ffmpeg) this.prepareFFmpeg();
        if (!this.source) this.prepareSource();
        await this.source.catch(() => {});  // read by parts, or whole, or too large to fetch whole (the server)
        reason = this.serverReason();
      }
      if (reason) {
        this.$mode.textContent = `Cutting on the server: ${reason}.`;
        this.$mode.hidden = false;
      }
      const clip = reason
        ? await cutOnServer({ clipsUrl: this.settings.clipsUrl, recording: this.recording, range,
          precise: this.$exact.checked, onStep })
        : await cutInBrowser({ clipsUrl: this.settings.clipsUrl, recording: this.recording, range,
          ffmpeg: this.ffmpeg, source: this.source, onStep,
          onProgress: (step, loaded, total) => this.progress.report(step, loaded, total),
          onFetched: (bytes) => this.progress.note('trim', `${formatSize(bytes)} read`) });
      this.progress.hide();
      this.showMessage('Clip ready');
      this.$root.dataset.step = 'ready';
      this.onReady(clip);
    } catch (error) {
      this.progress.hide();
      this.$root.dataset.step = 'failed';
      this.showMessage(`${reason ? 'Cutting on the server' : this.stepLabel} failed: ${error.message}`, { error: true });
      if (!reason) await this.forgetAfterFailure();
    } finally {
      this.busy = false;
      this.$generate.disabled = false;
    }
  }

  // After a failure in the browser, the next try starts afresh where it broke, and the server is offered.
  async forgetAfterFailure() {
    if (this.currentStep === 'load' || this.currentStep === 'trim') {
      await resetFFmpeg();  // frees the worker's memory; the next try loads afresh
      this.ffmpeg = null;
    }
    if (this.currentStep === 'fetch') this.source = this.opened = null;
    this.$tryServer.hidden = false;
  }

  close() {
    document.removeEventListener('keydown', this.onKey);
    this.preview.close();
    this.$media.pause();
    this.$media.removeAttribute('src');
    this.$root.remove();
    this.onClose?.();
  }
}
