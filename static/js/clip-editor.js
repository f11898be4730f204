// The clip editor: player, Start / End, presets, i / o keys, Generate clip with named progress.
import { completeClip, createClip, deleteClip, fetchBlob, getClip, getSource, uploadFile } from './api.js';
import { formatSize, formatTime, parseTime } from './format.js';
import { loadFFmpeg, resetFFmpeg, trimClip, webAssemblySupported } from './trim.js';
import { button, el } from './dom.js';
import { isInProgress, isReady } from './clip-states.js';

let editorCount = 0;

const SERVER_STEPS = {
  queued: 'Waiting for the server', cutting: 'Cutting on the server',
  uploading: 'Saving the clip', checking: 'Checking the clip',
};

function looksLikePhone() {
  if (navigator.userAgentData?.mobile) return true;
  if (/iPhone|iPod|Android.+Mobile|Windows Phone/i.test(navigator.userAgent)) return true;
  return window.matchMedia('(pointer: coarse)').matches && Math.min(screen.width, screen.height) < 600;
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// Start loading FFmpeg as soon as someone shows the intent to clip (hover or focus on Create clip),
// where the browser will cut: the editor then opens with the core (nearly) ready.
export function preloadFFmpeg(settings) {
  if (!webAssemblySupported() || looksLikePhone() || (navigator.deviceMemory && navigator.deviceMemory < 4)) return;
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
    this.progress = {};
    this.progressBytes = {};
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

    const $fields = el('div', 'clip-fields');
    this.$start = this.field($fields, 'Start', 'start', '0:00');
    const end = this.recording.duration_seconds ? Math.min(this.recording.duration_seconds, 60) : 60;
    this.$end = this.field($fields, 'End', 'end', formatTime(end));
    const $presets = el('div', 'clip-presets');
    const $first = button('First 60s', () => this.setRange(0, 60));
    const $last = button('Last 60s', () => {
      const duration = this.duration();
      this.setRange(Math.max(0, duration - 60), duration);
    });
    $presets.append($first, $last);
    $fields.append($presets);

    const $hint = el('p', 'clip-hint muted', 'Times in seconds or m:ss. Keys: i sets Start, o sets End at the playhead.');
    const $exactLabel = el('label', 'clip-exact');
    this.$exact = el('input');
    this.$exact.type = 'checkbox';
    this.$exact.name = 'precise';
    this.$exact.addEventListener('change', () => this.showMode());
    $exactLabel.append(this.$exact, document.createTextNode(' Exact cut (slower, on the server)'));
    this.$mode = el('p', 'clip-mode muted');
    this.$mode.hidden = true;
    this.$generate = button('Generate clip', () => this.generate(), 'button button-primary');
    this.$tryServer = button('Try on the server', () => this.generate({ forceServer: true }));
    this.$tryServer.hidden = true;
    const $close = button('Close', () => this.close(), 'button button-quiet');
    const $buttons = el('div', 'clip-buttons');
    $buttons.append(this.$generate, this.$tryServer, $close);

    this.$progress = el('div', 'clip-progress');
    this.$progress.hidden = true;
    this.$step = el('span', 'clip-progress-step');
    this.$bar = el('progress', 'clip-progress-bar');
    this.$bar.max = 1;
    this.$detail = el('span', 'clip-progress-detail muted');
    this.$progress.append(this.$step, this.$bar, this.$detail);
    this.$progress.setAttribute('role', 'status');
    this.$message = el('p', 'clip-message');
    this.$message.setAttribute('role', 'alert');
    this.$message.hidden = true;
    this.$root.append(this.$media, $fields, $hint, $exactLabel, this.$mode, $buttons, this.$progress, this.$message);
  }

  field($parent, label, name, value) {
    const $label = el('label', 'clip-field');
    const $input = el('input');
    $input.type = 'text';
    $input.name = name;
    $input.inputMode = 'decimal';
    $input.autocomplete = 'off';
    $input.value = value;
    $input.id = `${this.id}-${name}`;
    $label.htmlFor = $input.id;
    $label.textContent = label;
    const $wrap = el('div', 'clip-field-wrap');
    $wrap.append($label, $input);
    $parent.append($wrap);
    return $input;
  }

  duration() {
    const fromMedia = this.$media.duration;
    return Number.isFinite(fromMedia) && fromMedia > 0 ? fromMedia : (this.recording.duration_seconds ?? 0);
  }

  setRange(start, end) {
    const duration = this.duration();
    this.$start.value = formatTime(Math.max(0, start));
    this.$end.value = formatTime(duration ? Math.min(end, duration) : end);
  }

  handleKey(event) {
    if (this.busy || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) return;
    const key = event.key.toLowerCase();
    if (key !== 'i' && key !== 'o') return;
    event.preventDefault();
    const at = formatTime(Math.round(this.$media.currentTime * 10) / 10);
    (key === 'i' ? this.$start : this.$end).value = at;
  }

  // Start loading FFmpeg and fetching the source while the person picks in and out points.
  // Why this clip must be cut on the server, in words; null when the browser can do it.
  serverReason() {
    if (this.$exact.checked) return 'an exact cut is made on the server';
    if (!webAssemblySupported()) return 'this browser has no WebAssembly';
    if (looksLikePhone()) return 'this device is a phone';
    if (navigator.deviceMemory && navigator.deviceMemory < 4) return 'this device has little memory';
    const size = this.recording.size_bytes;
    if (size && this.settings.browserMaxBytes && size > this.settings.browserMaxBytes) return 'the recording is too large to cut in the browser';
    return null;
  }

  showMode() {
    const reason = this.serverReason();
    this.$mode.textContent = reason ? `Cutting on the server: ${reason}.` : '';
    this.$mode.hidden = !reason;
    if (!reason && !this.ffmpeg) this.prepare();
  }

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
      onProgress: (loaded, total) => this.report('load', loaded, total) });
    this.ffmpeg.catch(() => {});
  }

  prepareSource() {
    this.source = getSource(this.recording.links.play).then(({ url, size_bytes: size }) => (
      fetchBlob(url, { total: size ?? 0, onProgress: (loaded, total) => this.report('fetch', loaded, total) })
    ));
    this.source.catch(() => {});
  }

  report(step, loaded, total) {
    this.progress[step] = total ? loaded / total : null;
    this.progressBytes[step] = [loaded, total];
    if (this.currentStep === step) this.showProgress();
  }

  validate() {
    const start = parseTime(this.$start.value);
    const end = parseTime(this.$end.value);
    const duration = this.duration();
    if (start === null) return 'Start is not a time: use seconds (75) or m:ss (1:15).';
    if (end === null) return 'End is not a time: use seconds (75) or m:ss (1:15).';
    if (end <= start) return 'End must be after Start.';
    if (end - start < 1) return 'A clip lasts at least 1 second.';
    if (end - start > this.settings.maxSeconds) return `A clip lasts at most ${formatTime(this.settings.maxSeconds)}.`;
    if (duration && end > duration + 0.05) return `End is past the end of the recording (${formatTime(duration)}).`;
    return { start, end };
  }

  setStep(step, label) {
    this.currentStep = step;
    this.stepLabel = label;
    this.$progress.hidden = false;
    this.showProgress();
  }

  showProgress() {
    const fraction = this.progress[this.currentStep];
    this.$step.textContent = this.stepLabel;
    this.$root.dataset.step = this.currentStep;
    if (fraction === null || fraction === undefined) {
      this.$bar.removeAttribute('value');
      this.$detail.textContent = '';
    } else {
      this.$bar.value = fraction;
      const [loaded, total] = this.progressBytes[this.currentStep] ?? [];
      this.$detail.textContent = total ? `${formatSize(loaded)} of ${formatSize(total)}` : `${Math.round(fraction * 100)}%`;
    }
  }

  showMessage(text, { error = false } = {}) {
    this.$message.textContent = text;
    this.$message.classList.toggle('clip-message-error', error);
    this.$message.hidden = !text;
  }

  async generate({ forceServer = false } = {}) {
    if (this.busy) return;
    const range = this.validate();
    if (typeof range === 'string') {
      this.showMessage(range, { error: true });
      return;
    }
    this.$tryServer.hidden = true;
    const reason = forceServer ? 'the browser could not cut it' : this.serverReason();
    if (reason) {
      await this.generateOnServer(range, reason);
      return;
    }
    this.busy = true;
    this.$generate.disabled = true;
    this.showMessage('');
    let created = null;
    try {
      if (!this.ffmpeg) this.prepareFFmpeg();
      if (!this.source) this.prepareSource();
      this.setStep('load', 'Loading FFmpeg');
      const ffmpeg = await this.ffmpeg;
      this.setStep('fetch', 'Fetching the recording');
      const source = await this.source;
      this.setStep('create', 'Preparing the upload');
      created = await createClip(this.settings.clipsUrl, {
        type: this.recording.type, id: this.recording.id,
        start_seconds: range.start, end_seconds: range.end, mode: 'browser',
      });
      this.setStep('trim', 'Trimming');
      const clip = await trimClip(ffmpeg, { source, start: range.start, end: range.end, audioOnly: this.audioOnly,
        onProgress: (fraction) => this.report('trim', fraction, 1) });
      this.progressBytes.trim = null;
      this.setStep('upload', 'Uploading');
      await uploadFile(created.upload, clip, { filename: this.audioOnly ? 'clip.m4a' : 'clip.mp4',
        onProgress: (loaded, total) => this.report('upload', loaded, total) });
      this.setStep('complete', 'Checking the clip');
      const { clip: ready } = await completeClip(created.clip.links.complete);
      this.$progress.hidden = true;
      this.showMessage('Clip ready');
      this.$root.dataset.step = 'ready';
      this.onReady(ready);
    } catch (error) {
      this.$progress.hidden = true;
      this.$root.dataset.step = 'failed';
      this.showMessage(`${this.stepLabel} failed: ${error.message}`, { error: true });
      if (created && error.status !== 422) deleteClip(created.clip.links.self).catch(() => {});
      if (this.currentStep === 'load' || this.currentStep === 'trim') {
        await resetFFmpeg();  // frees the worker's memory; the next try loads afresh
        this.ffmpeg = null;
      }
      if (this.currentStep === 'fetch') this.source = null;
      this.$tryServer.hidden = false;
    } finally {
      this.busy = false;
      this.$generate.disabled = false;
    }
  }

  // The server cuts the clip (a phone, no WebAssembly, a huge source, an exact cut, or a wasm failure);
  // the job's progress is polled with backoff.
  async generateOnServer(range, reason) {
    this.busy = true;
    this.$generate.disabled = true;
    this.$mode.textContent = `Cutting on the server: ${reason}.`;
    this.$mode.hidden = false;
    this.showMessage('');
    try {
      this.setStep('create', 'Sending to the server');
      let { clip } = await createClip(this.settings.clipsUrl, {
        type: this.recording.type, id: this.recording.id, start_seconds: range.start, end_seconds: range.end,
        mode: 'server', precise: this.$exact.checked,
      });
      let delay = 500;
      while (isInProgress(clip)) {
        const step = clip.step ?? (clip.status === 'processing' ? 'cutting' : 'queued');
        this.setStep(step, SERVER_STEPS[step] ?? 'Cutting on the server');
        await sleep(delay);
        delay = Math.min(delay * 1.5, 5000);
        ({ clip } = await getClip(clip.links.self));
      }
      this.$progress.hidden = true;
      if (!isReady(clip)) throw new Error(clip.error ?? `The clip ended ${clip.status}.`);
      this.showMessage('Clip ready');
      this.$root.dataset.step = 'ready';
      this.onReady(clip);
    } catch (error) {
      this.$progress.hidden = true;
      this.$root.dataset.step = 'failed';
      this.showMessage(`Cutting on the server failed: ${error.message}`, { error: true });
    } finally {
      this.busy = false;
      this.$generate.disabled = false;
    }
  }

  close() {
    document.removeEventListener('keydown', this.onKey);
    this.$media.pause();
    this.$media.removeAttribute('src');
    this.$root.remove();
    this.onClose?.();
  }
}
