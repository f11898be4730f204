// The TikTok part of the Post form, as TikTok's content sharing guidelines ask. Direct post: the creator's
// nickname, who can see the video (from creator_info, no choice made for them), their own length limit and
// the Music Usage Confirmation. Inbox upload: where the video goes, and that the caption is written in TikTok.
import { getCreatorInfo } from './api.js';
import { el } from './dom.js';
import { durationProblem } from './social-rules.js';

const PRIVACY_LABELS = {
  PUBLIC_TO_EVERYONE: 'Everyone',
  MUTUAL_FOLLOW_FRIENDS: 'Friends (followers you follow back)',
  FOLLOWER_OF_CREATOR: 'Followers',
  SELF_ONLY: 'Only me',
};
const MUSIC_USAGE_URL = 'https://www.tiktok.com/legal/page/global/music-usage-confirmation/en';

export class TikTokOptions {
  constructor(idPrefix) {
    this.idPrefix = idPrefix;
    this.$root = el('div', 'post-tiktok');
    this.$root.hidden = true;
    this.info = new Map();  // destination id -> creator_info promise
  }

  hide() {
    this.generation = (this.generation ?? 0) + 1;
    this.$root.hidden = true;
    this.$root.replaceChildren();
    this.state = null;
  }

  // destination: the chosen TikTok account; directPost: the app may publish (else the inbox).
  async show(destination, { directPost, seconds }) {
    this.hide();
    this.$root.hidden = false;
    const generation = this.generation;
    if (!directPost) {
      this.state = { ready: true };
      this.$root.append(
        el('p', 'post-tiktok-account', `TikTok account: ${destination.name}`),
        el('p', 'post-note', 'The video goes to your TikTok inbox. Open TikTok to write the caption and post it.'));
      return;
    }
    this.state = { loading: true };
    const $status = el('p', 'muted', 'Asking TikTok what this account can post…');
    this.$root.append($status);
    if (!this.info.has(destination.id)) {
      const promise = getCreatorInfo(destination.id);
      promise.catch(() => this.info.delete(destination.id));
      this.info.set(destination.id, promise);
    }
    try {
      const { creator_info: info } = await this.info.get(destination.id);
      if (generation !== this.generation) return;
      this.renderDirect(info, durationProblem('tiktok', seconds, info.max_video_post_duration_sec));
    } catch (error) {
      if (generation !== this.generation) return;
      this.state = { problem: error.message };
      $status.className = 'post-problem';
      $status.textContent = error.message;
    }
  }

  renderDirect(info, tooLong) {
    const nickname = info.creator_nickname || info.creator_username || 'your account';
    this.$privacy = el('select');
    this.$privacy.id = `${this.idPrefix}-privacy`;
    this.$privacy.name = 'privacy_level';
    this.$privacy.required = true;
    const $none = el('option', null, 'Choose who can see it');
    $none.value = '';
    this.$privacy.append($none);
    for (const level of info.privacy_level_options ?? []) {
      const $option = el('option', null, PRIVACY_LABELS[level] ?? level);
      $option.value = level;
      this.$privacy.append($option);
    }
    this.$privacy.value = '';
    const $label = el('label', null, 'Who can see this video');
    $label.htmlFor = this.$privacy.id;
    const $field = el('div', 'post-field');
    $field.append($label, this.$privacy);
    const $music = el('p', 'post-note muted', 'By posting, you agree to TikTok’s ');
    const $link = el('a', null, 'Music Usage Confirmation');
    $link.href = MUSIC_USAGE_URL;
    $link.target = '_blank';
    $link.rel = 'noopener noreferrer';
    $music.append($link, document.createTextNode('.'));
    this.$root.replaceChildren(el('p', 'post-tiktok-account', `Posting to TikTok as ${nickname}`), $field, $music);
    if (tooLong) this.$root.append(el('p', 'post-problem', tooLong));
    this.state = { ready: !tooLong, problem: tooLong, direct: true };
  }

  get privacyLevel() {
    return this.state?.direct ? this.$privacy.value || null : null;
  }

  // [words, the field to focus] when the form cannot be sent yet; null when it can.
  problem() {
    if (!this.state || this.$root.hidden) return null;
    if (this.state.loading) return ['TikTok has not answered yet; wait a moment.', null];
    if (this.state.problem) return [this.state.problem, null];
    if (this.state.direct && !this.$privacy.value) return ['Choose who can see the TikTok video.', this.$privacy];
    return null;
  }
}
