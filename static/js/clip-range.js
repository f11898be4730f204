// Start and End of a clip: two labelled fields (seconds or m:ss), the First 60s / Last 60s presets,
// and the check of what was typed.
import { button, el } from './dom.js';
import { formatTime, parseTime } from './format.js';

export class ClipRange {
  // duration(): the recording's length now (the player's, once known); maxSeconds: the longest clip.
  constructor(idPrefix, { duration, maxSeconds, initialEnd }) {
    this.idPrefix = idPrefix;
    this.duration = duration;
    this.maxSeconds = maxSeconds;
    this.$root = el('div', 'clip-fields');
    this.$start = this.field('Start', 'start', '0:00');
    this.$end = this.field('End', 'end', formatTime(initialEnd));
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
  }

  // `i` / `o` at the playhead.
  mark(which, seconds) {
    (which === 'start' ? this.$start : this.$end).value = formatTime(Math.round(seconds * 10) / 10);
  }

  // { start, end } in seconds, or what is wrong, in words.
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
    return { start, end };
  }
}
