// What the timeline shows of a recording, made by a server job: thumbnails (a sprite sheet and its
// WebVTT track), peaks (waveform-data JSON) and keyframe times. The editor works without them.

const POLL_MS = 3000;
const POLLS = 20;

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function json(url, init) {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${response.status}`);
  return response.json();
}

// "01:02:03.400" -> seconds.
function vttTime(text) {
  const [h, m, s] = text.split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

// [{ start, end, x, y, w, h }] from a WebVTT thumbnails track (cues "sprite.jpg#xywh=x,y,w,h").
export function parseThumbnails(vtt) {
  const cues = [];
  const pattern = /(\d+:\d\d:\d\d\.\d+)\s+-->\s+(\d+:\d\d:\d\d\.\d+)\s*\n[^#\n]*#xywh=(\d+),(\d+),(\d+),(\d+)/g;
  for (const match of vtt.matchAll(pattern)) {
    const [x, y, w, h] = match.slice(3).map(Number);
    cues.push({ start: vttTime(match[1]), end: vttTime(match[2]), x, y, w, h });
  }
  return cues;
}

// { thumbnails: { sprite, cues } | null, peaks: waveform-data | null, keyframes: [seconds] | null }, or null
// when the job failed or takes too long. The API answers "queued" until the job has run.
export async function loadTimeline(url, { signal } = {}) {
  let body = null;
  for (let poll = 0; poll < POLLS; poll += 1) {
    body = await json(url, { credentials: 'same-origin', headers: { Accept: 'application/json' }, signal });
    if (body.status !== 'queued') break;
    await sleep(POLL_MS);
  }
  if (body?.status !== 'ready') return null;
  const optional = (promise) => promise.catch(() => null);
  const [vtt, peaks, keyframes] = await Promise.all([
    body.thumbnails ? optional(fetch(body.thumbnails, { signal }).then((r) => (r.ok ? r.text() : null))) : null,
    body.peaks ? optional(json(body.peaks, { signal })) : null,
    body.keyframes ? optional(json(body.keyframes, { signal })) : null,
  ]);
  return {
    thumbnails: vtt && body.sprite ? { sprite: body.sprite, cues: parseThumbnails(vtt) } : null,
    peaks, keyframes,
  };
}

// The keyframe at or before `seconds` (where a stream copy really starts), or null.
export function keyframeBefore(keyframes, seconds) {
  let found = null;
  for (const time of keyframes ?? []) {
    if (time > seconds + 1e-6) break;
    found = time;
  }
  return found;
}
