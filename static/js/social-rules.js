// What each platform takes, as webapp/social/rules.py says (tests/test_browser_social.py keeps the two the
// same): the form refuses what the server would refuse, with the same words.
import { formatCount as number } from './format.js';

export const PLATFORM_RULES = Object.freeze({
  instagram: { label: 'Instagram', captionMax: 2200, hashtagsMax: 30, minSeconds: 3, maxSeconds: 15 * 60 },
  facebook: { label: 'Facebook', captionMax: 63206, hashtagsMax: null, minSeconds: 1, maxSeconds: 240 * 60 },
  tiktok: { label: 'TikTok', captionMax: 2200, hashtagsMax: null, minSeconds: 3, maxSeconds: 10 * 60 },
});

// Python's (?<!\w)#\w+ with Unicode word characters.
const HASHTAG = /(?<![\p{L}\p{N}_])#[\p{L}\p{N}_]+/gu;

function minutes(seconds) {
  const total = Math.round(seconds);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

// The server strips the caption before it counts it.
export const cleanCaption = (text) => text.trim();

// TikTok counts UTF-16 code units, which is what a JS string's length is; the others count characters.
export function captionLength(platform, text) {
  const caption = cleanCaption(text);
  return platform === 'tiktok' ? caption.length : [...caption].length;
}

export const hashtagCount = (text) => (cleanCaption(text).match(HASHTAG) ?? []).length;

// Why the caption cannot go to the platform, in words; null when it can.
export function captionProblem(platform, text) {
  const rules = PLATFORM_RULES[platform];
  const length = captionLength(platform, text);
  if (length > rules.captionMax) {
    return `${rules.label} captions are at most ${number(rules.captionMax)} characters; this one has ${number(length)}.`;
  }
  const hashtags = hashtagCount(text);
  if (rules.hashtagsMax != null && hashtags > rules.hashtagsMax) {
    return `${rules.label} allows at most ${rules.hashtagsMax} hashtags; this caption has ${hashtags}.`;
  }
  return null;
}

// Why a video of that length cannot go to the platform; null when it can (or the length is unknown).
// maxSeconds: the account's own, lower limit (TikTok's creator_info).
export function durationProblem(platform, seconds, maxSeconds = null) {
  const rules = PLATFORM_RULES[platform];
  if (seconds == null || !Number.isFinite(seconds)) return null;
  const limit = maxSeconds ? Math.min(rules.maxSeconds, maxSeconds) : rules.maxSeconds;
  if (seconds < rules.minSeconds) {
    return `${rules.label} takes videos of ${rules.minSeconds} seconds or more; this one is ${seconds.toFixed(1)} s.`;
  }
  if (seconds > limit) return `${rules.label} takes videos up to ${minutes(limit)}; this one is ${minutes(seconds)}.`;
  return null;
}
