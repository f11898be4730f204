// The Post to… dialog: where (the connected Pages and accounts, by platform), the caption, TikTok's own
// options, and the shape (Original, Vertical 9:16, Square; a blurred or cropped fill). Posting hands the
// new post to onPosted and closes; Escape and Close close too, and focus goes back to the opener.
import { createPublication, getSocialDestinations } from './api.js';
import { CaptionField } from './caption-field.js';
import { button, el } from './dom.js';
import { durationProblem } from './social-rules.js';
import { TikTokOptions } from './tiktok-options.js';

const GROUP_NAMES = { facebook: 'Facebook Pages', instagram: 'Instagram', tiktok: 'TikTok' };
const SHAPES = [['original', 'Original'], ['vertical', 'Vertical 9:16'], ['square', 'Square']];
const FILLS = [['blur', 'Blurred background'], ['crop', 'Crop to fill']];
const PORTRAIT_PLATFORMS = new Set(['instagram', 'tiktok']);  // Reels and TikTok are 9:16

let setupPromise = null;
let dialogs = 0;

// What the server offers ({platforms, destinations, connect_url, tiktok_direct_post}), asked once per page;
// fresh: ask again (the dialog does, so that a connection lost meanwhile shows Reconnect).
export function socialSetup({ fresh = false } = {}) {
  if (fresh || !setupPromise) {
    setupPromise = getSocialDestinations();
    setupPromise.catch(() => { setupPromise = null; });
  }
  return setupPromise;
}

function radio(name, value, text, id) {
  const $wrap = el('div', 'post-choice');
  const $input = el('input');
  $input.type = 'radio';
  $input.name = name;
  $input.value = value;
  $input.id = id;
  const $label = el('label', null, text);
  $label.htmlFor = id;
  $wrap.append($input, $label);
  return { $wrap, $input, $label };
}

function fieldset(className, legend) {
  const $set = el('fieldset', className);
  $set.append(el('legend', null, legend));
  return $set;
}

export class PostDialog {
  // target: { targetType, targetId, title, seconds }; onPosted(publication JSON); $opener gets focus back.
  constructor(target, { onPosted, $opener = null }) {
    this.target = target;
    this.onPosted = onPosted;
    this.id = `post-${++dialogs}`;
    this.shapeChosen = false;
    this.$dialog = el('dialog', 'post-dialog');
    this.$dialog.setAttribute('aria-labelledby', `${this.id}-title`);
    const $head = el('div', 'post-dialog-head');
    const $title = el('h2', null, 'Post to…');
    $title.id = `${this.id}-title`;
    $head.append($title, button('Close', () => this.$dialog.close(), 'button button-quiet'));
    this.$form = el('form', 'post-form');
    this.$form.noValidate = true;  // the form says what is wrong itself, in the platform's words
    this.$destinations = fieldset('post-destinations', 'Where');
    this.$destinations.append(el('p', 'muted', 'Loading your connected accounts…'));
    this.caption = new CaptionField(this.id);
    this.tiktok = new TikTokOptions(this.id);
    this.$error = el('p', 'post-error');
    this.$error.setAttribute('role', 'alert');
    this.$post = el('button', 'button button-primary', 'Post');
    this.$post.type = 'submit';
    const $buttons = el('div', 'post-buttons');
    $buttons.append(this.$post, button('Cancel', () => this.$dialog.close(), 'button button-quiet'));
    this.$form.append(this.$destinations, this.tiktok.$root, this.caption.$root, this.renderShape(), this.$error,
      $buttons);
    this.$form.addEventListener('submit', (event) => this.submit(event));
    this.$dialog.append($head, el('p', 'post-dialog-target muted', target.title), this.$form);
    this.$dialog.addEventListener('close', () => {
      this.$dialog.remove();
      if ($opener?.isConnected) $opener.focus();
    });
    document.body.append(this.$dialog);
    this.$dialog.showModal();
    this.load();
  }

  async load() {
    try {
      this.setup = await socialSetup({ fresh: true });
      this.renderDestinations();
    } catch (error) {
      this.$destinations.replaceChildren(el('legend', null, 'Where'), el('p', 'post-problem', error.message));
    }
  }

  renderDestinations() {
    const { platforms, destinations, connect_url: connectUrl } = this.setup;
    const $legend = el('legend', null, 'Where');
    const shown = destinations.filter((destination) => platforms.includes(destination.platform));
    this.$post.hidden = !shown.length;
    if (!shown.length) {
      const $none = el('p', 'post-none', 'No account is connected for posting yet. ');
      const $connect = el('a', null, 'Connect an account');
      $connect.href = connectUrl;
      $none.append($connect);
      this.$destinations.replaceChildren($legend, $none);
      $connect.focus();
      return;
    }
    const $groups = platforms.filter((platform) => shown.some((d) => d.platform === platform)).map((platform) => {
      const $group = fieldset('post-destination-group', GROUP_NAMES[platform]);
      for (const destination of shown.filter((d) => d.platform === platform)) {
        $group.append(this.renderDestination(destination, connectUrl));
      }
      return $group;
    });
    const $manage = el('a', 'post-manage', 'Manage connected accounts');
    $manage.href = connectUrl;
    this.$destinations.replaceChildren($legend, ...$groups, $manage);
    const $choices = [...this.$destinations.querySelectorAll('input[name="destination"]:not(:disabled)')];
    if ($choices.length === 1) {
      $choices[0].checked = true;
      this.choose($choices[0]);
    }
    ($choices[0] ?? this.$destinations.querySelector('a')).focus();
  }

  renderDestination(destination, connectUrl) {
    const id = `${this.id}-destination-${destination.id}`;
    const { $wrap, $input } = radio('destination', String(destination.id), destination.name, id);
    $input.destination = destination;
    $input.addEventListener('change', () => this.choose($input));
    const stopped = destination.status === 'needs_reconnect';
    const why = stopped ? 'The connection stopped working.' : durationProblem(destination.platform, this.target.seconds);
    if (why) {
      $input.disabled = true;
      const $why = el('span', 'post-choice-why muted', why);
      $why.id = `${id}-why`;
      $input.setAttribute('aria-describedby', $why.id);
      $wrap.append($why);
    }
    if (stopped) {
      const $reconnect = el('a', 'post-reconnect', 'Reconnect');
      $reconnect.href = connectUrl;
      $reconnect.setAttribute('aria-describedby', `${id}-why`);
      $wrap.append($reconnect);
    }
    return $wrap;
  }

  renderShape() {
    const $shape = fieldset('post-shape', 'Shape');
    this.$fill = fieldset('post-fill', 'Fill the frame with');
    for (const [value, text] of SHAPES) {
      const { $wrap, $input } = radio('shape', value, text, `${this.id}-shape-${value}`);
      $input.checked = value === 'original';
      $input.addEventListener('change', () => { this.shapeChosen = true; this.showFill(); });
      $shape.append($wrap);
    }
    for (const [value, text] of FILLS) {
      const { $wrap, $input } = radio('fill', value, text, `${this.id}-fill-${value}`);
      $input.checked = value === 'blur';
      this.$fill.append($wrap);
    }
    this.$fill.hidden = true;
    const $wrap = el('div', 'post-shapes');
    $wrap.append($shape, this.$fill);
    return $wrap;
  }

  showFill() {
    this.$fill.hidden = this.$form.elements.shape.value === 'original';
  }

  // A destination was chosen: its limits, TikTok's options, and (until the person picks one) its shape.
  choose($input) {
    const { destination } = $input;
    const { platform } = destination;
    this.$error.textContent = '';
    if (!this.shapeChosen) {
      this.$form.elements.shape.value = PORTRAIT_PLATFORMS.has(platform) ? 'vertical' : 'original';
      this.showFill();
    }
    const directPost = Boolean(this.setup.tiktok_direct_post);
    this.caption.setEnabled(platform !== 'tiktok' || directPost);
    this.caption.setPlatform(platform);
    if (platform === 'tiktok') this.tiktok.show(destination, { directPost, seconds: this.target.seconds });
    else this.tiktok.hide();
  }

  // [words (null: the field says them itself), the field to focus] of what stops the post; null when it can go.
  problem() {
    const $chosen = this.$form.querySelector('input[name="destination"]:checked');
    if (!$chosen) {
      return ['Choose where to post.', this.$destinations.querySelector('input[name="destination"]:not(:disabled)')];
    }
    const caption = this.caption.problem();
    if (caption) return [null, this.caption.$input];  // said under the field, which describes it
    return this.tiktok.problem();
  }

  async submit(event) {
    event.preventDefault();
    const problem = this.problem();
    if (problem) {
      this.$error.textContent = problem[0] ?? '';
      problem[1]?.focus();
      return;
    }
    const $chosen = this.$form.querySelector('input[name="destination"]:checked');
    const { elements } = this.$form;
    this.$error.textContent = '';
    this.$post.disabled = true;
    this.$post.textContent = 'Posting…';
    try {
      const { publication } = await createPublication({
        target_type: this.target.targetType, target_id: this.target.targetId,
        destination_id: $chosen.destination.id, shape: elements.shape.value, fill: elements.fill.value,
        caption: this.caption.value, privacy_level: this.tiktok.privacyLevel,
      });
      this.onPosted(publication);
      this.$dialog.close();
    } catch (error) {
      this.$error.textContent = error.message;
      if (error.code === 'reconnect_needed') this.load();
    } finally {
      this.$post.disabled = false;
      this.$post.textContent = 'Post';
    }
  }
}
