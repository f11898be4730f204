// The caption of a post: a textarea with a live count against the chosen platform's limits
// (social-rules.js), saying what is wrong before the server has to.
import { el } from './dom.js';
import { formatCount as number } from './format.js';
import { PLATFORM_RULES, captionLength, captionProblem, hashtagCount } from './social-rules.js';

export class CaptionField {
  constructor(idPrefix) {
    this.platform = null;
    this.$root = el('div', 'post-field post-caption');
    const $label = el('label', null, 'Caption');
    this.$input = el('textarea');
    this.$input.id = `${idPrefix}-caption`;
    this.$input.name = 'caption';
    this.$input.rows = 4;
    $label.htmlFor = this.$input.id;
    this.$count = el('p', 'post-count muted');
    this.$count.id = `${idPrefix}-caption-count`;
    this.$problem = el('p', 'post-problem');
    this.$problem.id = `${idPrefix}-caption-problem`;
    this.$input.setAttribute('aria-describedby', `${this.$count.id} ${this.$problem.id}`);
    this.$input.addEventListener('input', () => this.update());
    this.$root.append($label, this.$input, this.$count, this.$problem);
    this.update();
  }

  get value() {
    return this.enabled ? this.$input.value : '';
  }

  get enabled() {
    return !this.$input.disabled;
  }

  // Off when the caption is written elsewhere (TikTok's inbox): hidden, and not sent.
  setEnabled(enabled) {
    this.$root.hidden = !enabled;
    this.$input.disabled = !enabled;
    this.update();
  }

  setPlatform(platform) {
    this.platform = platform;
    this.update();
  }

  problem() {
    return this.platform && this.enabled ? captionProblem(this.platform, this.$input.value) : null;
  }

  update() {
    const text = this.$input.value;
    const rules = PLATFORM_RULES[this.platform];
    if (!rules) {
      this.$count.textContent = `${number([...text.trim()].length)} characters`;
    } else {
      const length = captionLength(this.platform, text);
      let count = `${number(length)} / ${number(rules.captionMax)} characters`;
      if (rules.hashtagsMax != null) count += ` · ${hashtagCount(text)} / ${rules.hashtagsMax} hashtags`;
      this.$count.textContent = count;
    }
    const problem = this.problem();
    this.$problem.textContent = problem ?? '';
    this.$problem.hidden = !problem;
    this.$count.classList.toggle('post-count-over', Boolean(problem));
    this.$input.setAttribute('aria-invalid', String(Boolean(problem)));
  }
}
