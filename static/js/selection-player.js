// Play selection: the player plays Start → End and starts over at End, until stopped, so the person
// hears the cut before making it.
import { button } from './dom.js';

export class SelectionPlayer {
  // getRange() -> { start, end } in seconds, or a string saying what is wrong with the fields.
  constructor($media, getRange, onError) {
    Object.assign(this, { $media, getRange, onError, playing: false });
    this.$button = button('Play selection', () => (this.playing ? this.stop() : this.play()));
    this.$button.setAttribute('aria-pressed', 'false');
    $media.addEventListener('pause', () => { if (this.playing && !this.seeking) this.stop(); });
  }

  play() {
    const range = this.getRange();
    if (typeof range === 'string') {
      this.onError(range);
      return;
    }
    this.range = range;
    this.playing = true;
    this.$button.textContent = 'Stop';
    this.$button.setAttribute('aria-pressed', 'true');
    this.$media.currentTime = range.start;
    this.$media.play().catch(() => this.stop());
    const watch = () => {
      if (!this.playing) return;
      const { start, end } = this.getRange() instanceof Object ? this.getRange() : this.range;
      if (this.$media.currentTime >= end || this.$media.currentTime < start - 0.5) {
        this.seeking = true;  // back to Start: a loop, not a stop
        this.$media.currentTime = start;
        this.seeking = false;
      }
      requestAnimationFrame(watch);
    };
    requestAnimationFrame(watch);
  }

  stop() {
    if (!this.playing) return;
    this.playing = false;
    this.$media.pause();
    this.$button.textContent = 'Play selection';
    this.$button.setAttribute('aria-pressed', 'false');
  }
}
