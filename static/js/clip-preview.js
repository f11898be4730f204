// Seeing and hearing the clip before making it: the timeline under the player (kept in step with the
// Start / End fields), Play selection, and where a stream copy will really start (the keyframe before
// Start) when that is more than half a second earlier.
import { el } from './dom.js';
import { formatTime } from './format.js';
import { SelectionPlayer } from './selection-player.js';
import { Timeline } from './timeline.js';
import { keyframeBefore, loadTimeline } from './timeline-data.js';

const KEYFRAME_NOTICE_S = 0.5;

export class ClipPreview {
  // range: the editor's ClipRange; isExact(): whether Exact cut is ticked; onError(text) for the message.
  constructor({ recording, $media, range, initialEnd, isExact, onError }) {
    Object.assign(this, { range, isExact, keyframes: null });
    this.timeline = new Timeline({
      duration: recording.duration_seconds || initialEnd, start: 0, end: initialEnd,
      onChange: (start, end) => { range.show(start, end); this.showKeyframe(); },
      onSeek: (seconds) => { $media.currentTime = seconds; },
    });
    range.onChange = (start, end) => { this.timeline.setSelection(start, end); this.showKeyframe(); };
    $media.addEventListener('loadedmetadata', () => this.timeline.setDuration($media.duration));
    $media.addEventListener('timeupdate', () => this.timeline.setPlayhead($media.currentTime));
    this.player = new SelectionPlayer($media, () => range.validate(), onError);
    this.$keyframe = el('p', 'clip-keyframe muted');
    this.$keyframe.hidden = true;
    this.$root = el('div', 'clip-preview');
    const $tools = el('div', 'clip-preview-tools');
    $tools.append(this.player.$button);
    this.$root.append(this.timeline.$root, $tools);
    this.loading = new AbortController();
    if (recording.links.timeline) {
      loadTimeline(recording.links.timeline, { signal: this.loading.signal }).then((data) => {
        this.timeline.setData(data);
        this.keyframes = data?.keyframes ?? null;
        this.showKeyframe();
      }).catch(() => {});  // no thumbnails or waveform: the editor works all the same
    }
  }

  showKeyframe() {
    const range = this.range.validate();
    const keyframe = typeof range === 'string' ? null : keyframeBefore(this.keyframes, range.start);
    const early = keyframe !== null && range.start - keyframe > KEYFRAME_NOTICE_S && !this.isExact();
    this.$keyframe.hidden = !early;
    if (early) {
      this.$keyframe.textContent = `The clip will start at ${formatTime(keyframe)}, on the keyframe before Start: `
        + `a copy starts on one. Exact cut starts at ${formatTime(range.start)}.`;
    }
  }

  close() {
    this.loading.abort();
    this.player.stop();
  }
}
