// Start and End of a clip: two labelled fields (seconds or m:ss), the First 60s / Last 60s presets,
// and the check of what was typed.
import { button, el } from './dom.js';
import { formatTime, parseTime } from './format.js';

// Whole seconds, as the server names a clip: 13:42, or 1:13:42.
function clock(seconds) {
  const total = Math.floor(seconds);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}

export class ClipRange {
  // duration(): the recording's length now (the player's, once known); maxSeconds: the longest clip.
  // recordingTitle: the default title is it and the times, "Weekly sync 13:42–14:42".
  // onChange(start, end) when the fields name a new selection (typed, a preset, a key).
  constructor(idPrefix, { duration, maxSeconds, initialEnd, recordingTitle, onChange = () => {} }) {
    this.idPrefix = idPrefix;
    this.onChange = onChange;
    this.duration = duration;
    this.maxSeconds = maxSeconds;
    this.recordingTitle = recordingTitle;
    this.$root = el('div', 'clip-fields');
    this.$start = this.field('Start', 'start', '0:00');
    this.$end = this.field('End', 'end', formatTime(initialEnd));
    this.$title = this.field('Clip title', 'title', '');
    this.$title.inputMode = 'text';
    this.$title.maxLength = 200;
    this.$title.closest('.clip-field-wrap').classList.add('clip-field-title');
    for (const $input of [this.$start, this.$end]) $input.addEventListener('input', () => this.changed());
    this.showDefaultTitle();
    const $presets = el('div', 'clip-presets');
    $presets.append(
      button('First 60s', () => this.set(0, 60)),
      button('Last 60s', () => this.set(Math.max(0, this.duration() - 60), this.duration())),
    );
    this.$root.append($presets);
  }

  field(label, name, value) {
    const $label = el('label', 'clip-field', label);
    const $input = el('input');
    $input.type = 'text';
    $input.name = name;
    $input.inputMode = 'decimal';
    $input.autocomplete = 'off';
    $input.value = value;
    $input.id = `${this.idPrefix}-${name}`;
    $label.htmlFor = $input.id;
    const $wrap = el('div', 'clip-field-wrap');
    $wrap.append($label, $input);
    this.$root.append($wrap);
    return $input;
  }

  set(start, end) {
    const duration = this.duration();
    this.$start.value = formatTime(Math.max(0, start));
    this.$end.value = formatTime(duration ? Math.min(end, duration) : end);
    this.changed();
  }

  // From the timeline's handles: the fields follow, nobody else is told.
  show(start, end) {
    this.$start.value = formatTime(start);
    this.$end.value = formatTime(end);
    this.showDefaultTitle();
  }

  changed() {
    this.showDefaultTitle();
    const start = parseTime(this.$start.value);
    const end = parseTime(this.$end.value);
    if (start !== null && end !== null && end > start) this.onChange(start, end);
  }

  showDefaultTitle() {
    const start = parseTime(this.$start.value);
    const end = parseTime(this.$end.value);
    this.$title.placeholder = start !== null && end !== null
      ? `${this.recordingTitle} ${clock(start)}–${clock(end)}` : this.recordingTitle;
  }

  // What was typed, or null for the default.
  title() {
    return this.$title.value.trim() || null;
  }

  // `i` / `o` at the playhead.
  mark(which, seconds) {
    (which === 'start' ? this.$start : this.$end).value = formatTime(Math.round(seconds * 10) / 10);
    this.changed();
  }

  // { start, end } in seconds and the title (null: the default), or what is wrong, in words.
  validate() {
    const start = parseTime(this.$start.value);
    const end = parseTime(this.$end.value);
    const duration = this.duration();
    if (start === null) return 'Start is not a time: use seconds (75) or m:ss (1:15).';
    if (end === null) return 'End is not a time: use seconds (75) or m:ss (1:15).';
    if (end <= start) return 'End must be after Start.';
    if (end - start < 1) return 'A clip lasts at least 1 second.';
    if (end - start > this.maxSeconds) return `A clip lasts at most ${formatTime(this.maxSeconds)}.`;
    if (duration && end > duration + 0.05) return `End is past the end of the recording (${formatTime(duration)}).`;
    return { start, end, title: this.title() };
  }
}
