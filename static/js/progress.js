// A named step with a progress bar (bytes or percent) that screen readers hear as a status.
import { formatSize } from './format.js';
import { el } from './dom.js';

export class Progress {
  constructor() {
    this.$root = el('div', 'clip-progress');
    this.$root.hidden = true;
    this.$root.setAttribute('role', 'status');
    this.$step = el('span', 'clip-progress-step');
    this.$bar = el('progress', 'clip-progress-bar');
    this.$bar.max = 1;
    this.$detail = el('span', 'clip-progress-detail muted');
    this.$root.append(this.$step, this.$bar, this.$detail);
    this.amounts = {};  // step -> [loaded, total]: a step may report before it is shown
    this.notes = {};  // step -> words shown beside its amount
  }

  note(step, text) {
    this.notes[step] = text;
    if (this.step === step) this.render();
  }

  report(step, loaded, total) {
    this.amounts[step] = [loaded, total];
    if (this.step === step) this.render();
  }

  show(step, label) {
    this.step = step;
    this.label = label;
    this.$root.hidden = false;
    this.render();
  }

  hide() {
    this.$root.hidden = true;
  }

  render() {
    const [loaded, total] = this.amounts[this.step] ?? [];
    const note = this.notes[this.step];
    this.$step.textContent = this.label;
    if (!total) {
      this.$bar.removeAttribute('value');
      this.$detail.textContent = note ?? '';
      return;
    }
    this.$bar.value = loaded / total;
    const amount = total === 1 ? `${Math.round(loaded * 100)}%` : `${formatSize(loaded)} of ${formatSize(total)}`;
    this.$detail.textContent = note ? `${amount} · ${note}` : amount;
  }
}
