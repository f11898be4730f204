// The clip editor's timeline: the recording as a strip (thumbnails, waveform), the selection between two
// handles that are sliders for assistive technology (Arrow ±1 s, Shift+Arrow ±0.1 s, PageUp/PageDown
// ±10 s, Home/End), the playhead, click or tap to seek, zoom (buttons, Ctrl+wheel, pinch).
import { drawThumbnails, drawWaveform } from './timeline-draw.js';
import { button, el } from './dom.js';
import { formatTime } from './format.js';

const MIN_CLIP = 1;
const MIN_VIEW = 20;  // seconds across the track at the closest zoom: a tenth of a second is a few pixels
const STEPS = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -10, PageUp: 10 };
const tenth = (seconds) => Math.round(seconds * 10) / 10;

export class Timeline {
  // onChange(start, end) when a handle moves; onSeek(seconds) on a click or tap on the strip.
  constructor({ duration, start, end, onChange, onSeek }) {
    Object.assign(this, { duration: Math.max(duration, MIN_CLIP), start, end, onChange, onSeek });
    this.viewStart = 0;
    this.viewEnd = this.duration;
    this.playhead = 0;
    this.active = 'start';  // the handle last moved or focused: zoom keeps it in view
    this.data = {};
    this.render();
    new ResizeObserver(() => this.draw()).observe(this.$lane);
  }

  render() {
    this.$root = el('div', 'timeline');
    const $tools = el('div', 'timeline-tools');
    const $out = button('−', () => this.zoom(2), 'button timeline-zoom');
    $out.setAttribute('aria-label', 'Zoom out');
    const $in = button('+', () => this.zoom(0.5), 'button timeline-zoom');
    $in.setAttribute('aria-label', 'Zoom in');
    this.$view = el('span', 'timeline-view muted');
    $tools.append($out, $in, this.$view);
    this.$track = el('div', 'timeline-track');
    this.$lane = el('div', 'timeline-lane');  // inset by half a handle: a handle at either end stays whole
    this.$strip = el('div', 'timeline-strip');
    this.$wave = el('canvas', 'timeline-wave');
    this.$selection = el('div', 'timeline-selection');
    this.$playhead = el('div', 'timeline-playhead');
    this.$handles = { start: this.handle('Clip start', 'start'), end: this.handle('Clip end', 'end') };
    this.$lane.append(this.$strip, this.$wave, this.$selection, this.$playhead, this.$handles.start, this.$handles.end);
    this.$track.append(this.$lane);
    this.$root.append($tools, this.$track);
    this.listenToTheTrack();
    this.update();
  }

  handle(name, which) {
    const $handle = el('div', `timeline-handle timeline-handle-${which}`);
    $handle.setAttribute('role', 'slider');
    $handle.setAttribute('aria-label', name);
    $handle.tabIndex = 0;
    $handle.addEventListener('focus', () => { this.active = which; });
    $handle.addEventListener('keydown', (event) => {
      const [low, high] = this.bounds(which);
      let to = null;
      if (event.key in STEPS) to = this[which] + STEPS[event.key] * (event.shiftKey && Math.abs(STEPS[event.key]) === 1 ? 0.1 : 1);
      else if (event.key === 'Home') to = low;
      else if (event.key === 'End') to = high;
      if (to === null) return;
      event.preventDefault();
      this.move(which, to);
    });
    $handle.addEventListener('pointerdown', (event) => {
      event.stopPropagation();
      $handle.focus();
      $handle.setPointerCapture(event.pointerId);
    });
    $handle.addEventListener('pointermove', (event) => {
      if ($handle.hasPointerCapture(event.pointerId)) this.move(which, this.timeAt(event.clientX), { follow: false });
    });
    $handle.addEventListener('pointerup', () => this.follow(which));
    return $handle;
  }

  listenToTheTrack() {
    const pointers = new Map();
    let pinch = null;
    this.$track.addEventListener('pointerdown', (event) => {
      pointers.set(event.pointerId, event.clientX);
      this.$track.setPointerCapture(event.pointerId);
      pinch = pointers.size === 2 ? { span: this.spread(pointers), length: this.viewEnd - this.viewStart } : null;
    });
    this.$track.addEventListener('pointermove', (event) => {
      if (!pointers.has(event.pointerId)) return;
      pointers.set(event.pointerId, event.clientX);
      if (pinch && pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        this.zoomTo(pinch.length * pinch.span / Math.max(this.spread(pointers), 1), this.timeAt((a + b) / 2));
      }
    });
    const end = (event) => {
      if (pointers.size === 1 && !pinch) this.onSeek(this.timeAt(event.clientX));  // a tap or a click
      pointers.delete(event.pointerId);
      if (!pointers.size) pinch = null;
    };
    this.$track.addEventListener('pointerup', end);
    this.$track.addEventListener('pointercancel', (event) => { pointers.delete(event.pointerId); pinch = null; });
    this.$track.addEventListener('wheel', (event) => {
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      this.zoom(event.deltaY > 0 ? 1.25 : 0.8, this.timeAt(event.clientX));
    }, { passive: false });
  }

  spread(pointers) {
    const [a, b] = [...pointers.values()];
    return Math.abs(a - b);
  }

  bounds(which) {
    return which === 'start' ? [0, this.end - MIN_CLIP] : [this.start + MIN_CLIP, this.duration];
  }

  // A handle to `seconds` (within its bounds, to a tenth): the view follows it, onChange is told.
  move(which, seconds, { follow = true } = {}) {
    const [low, high] = this.bounds(which);
    this[which] = tenth(Math.min(Math.max(seconds, low), high));
    this.active = which;
    if (follow) this.follow(which);
    this.update();
    this.onChange(this.start, this.end);
  }

  // From the Start / End fields, the presets and the i / o keys.
  setSelection(start, end) {
    if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return;
    this.start = Math.max(0, start);
    this.end = Math.min(end, this.duration);
    this.follow('start');
    this.update();
  }

  setDuration(duration) {
    if (!(duration > 0) || Math.abs(duration - this.duration) < 0.05) return;
    const whole = this.viewEnd - this.viewStart >= this.duration;
    this.duration = duration;
    if (whole) this.viewEnd = duration;
    this.update();
  }

  setPlayhead(seconds) {
    this.playhead = seconds;
    this.update({ draw: false });
  }

  setData(data) {
    this.data = data ?? {};
    this.draw();
  }

  // Keep a handle (or the whole selection when it fits) inside the view.
  follow(which) {
    const length = this.viewEnd - this.viewStart;
    const fits = this.end - this.start <= length * 0.9;
    const [from, to] = fits ? [this.start, this.end] : [this[which], this[which]];
    if (from >= this.viewStart && to <= this.viewEnd) return;
    this.pan((from + to) / 2 - length / 2);
  }

  // Closer or further, around a time (by default the handle last used, so it stays under the eye).
  zoom(factor, around = this[this.active]) {
    this.zoomTo((this.viewEnd - this.viewStart) * factor, around);
  }

  zoomTo(length, around) {
    const span = Math.min(Math.max(length, Math.min(MIN_VIEW, this.duration)), this.duration);
    const ratio = (around - this.viewStart) / (this.viewEnd - this.viewStart || 1);
    this.viewEnd = this.viewStart + span;  // pan() keeps the length
    this.pan(around - ratio * span);
  }

  pan(viewStart) {
    const length = this.viewEnd - this.viewStart;
    this.viewStart = Math.min(Math.max(viewStart, 0), this.duration - length);
    this.viewEnd = this.viewStart + length;
    this.update();
  }

  timeAt(clientX) {
    const box = this.$lane.getBoundingClientRect();
    const fraction = Math.min(Math.max((clientX - box.left) / (box.width || 1), 0), 1);
    return this.viewStart + fraction * (this.viewEnd - this.viewStart);
  }

  percent(seconds) {
    return `${((seconds - this.viewStart) / (this.viewEnd - this.viewStart)) * 100}%`;
  }

  update({ draw = true } = {}) {
    for (const which of ['start', 'end']) {
      const $handle = this.$handles[which];
      const [low, high] = this.bounds(which);
      $handle.style.left = this.percent(this[which]);
      $handle.setAttribute('aria-valuemin', String(tenth(low)));
      $handle.setAttribute('aria-valuemax', String(tenth(high)));
      $handle.setAttribute('aria-valuenow', String(tenth(this[which])));
      $handle.setAttribute('aria-valuetext', formatTime(this[which]));
    }
    this.$selection.style.left = this.percent(this.start);
    this.$selection.style.width = `${((this.end - this.start) / (this.viewEnd - this.viewStart)) * 100}%`;
    this.$playhead.style.left = this.percent(this.playhead);
    this.$playhead.hidden = this.playhead < this.viewStart || this.playhead > this.viewEnd;
    this.$view.textContent = `${formatTime(this.viewStart)}–${formatTime(this.viewEnd)}`;
    if (draw) this.draw();
  }

  draw() {
    const view = [this.viewStart, this.viewEnd];
    drawThumbnails(this.$strip, this.data.thumbnails, view);
    drawWaveform(this.$wave, this.data.peaks, view);
  }
}
