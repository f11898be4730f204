// Where the clip editor reads the recording from. An MP4 (or M4A, MOV) whose storage answers Range
// requests is read by parts inside FFmpeg's worker: only the index and the clip's samples travel.
// Anything else is fetched whole first (and is then limited to BROWSER_TRIM_MAX_BYTES).
import { ApiError, fetchBlob, getSource } from './api.js';

const RANGED_CONTAINERS = new Set(['mp4', 'm4a', 'mov']);

function jsonUrl(playUrl) {
  const url = new URL(playUrl, location.href);
  url.searchParams.set('format', 'json');
  return url.href;
}

// Whether the URL answers a Range request with a 206 whose Content-Range the page may read (a bucket
// whose CORS does not expose it cannot be read by parts), and the size that it gives.
async function answersRanges(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Range: 'bytes=0-0' }, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'The recording cannot be reached. Check your connection.');
  }
  response.body?.cancel().catch(() => {});  // a server that ignores Range would send everything
  if (!response.ok) throw new ApiError(response.status, 'fetch_failed', `Fetching the recording failed (${response.status}).`);
  const total = /\/(\d+)$/.exec(response.headers.get('Content-Range') ?? '');
  return { ranged: response.status === 206 && Boolean(total), size: total ? Number(total[1]) : 0 };
}

// { kind: 'ranged', url, size, refreshUrl }, or { kind: 'whole', size, blob: Promise<Blob> } whose download
// starts at once (onProgress(loaded, total)), or { kind: 'whole', tooLarge: true } over maxWholeBytes.
export async function openSource(recording, { maxWholeBytes = 0, onProgress = () => {} } = {}) {
  const { url: relative, size_bytes: knownSize, container } = await getSource(recording.links.play);
  const url = new URL(relative, location.href).href;
  if (RANGED_CONTAINERS.has(container)) {
    const { ranged, size } = await answersRanges(url);
    if (ranged) return { kind: 'ranged', url, size: size || knownSize || 0, refreshUrl: jsonUrl(recording.links.play) };
  }
  const size = knownSize ?? 0;
  if (maxWholeBytes && size > maxWholeBytes) return { kind: 'whole', size, tooLarge: true };
  const blob = fetchBlob(url, { total: size, onProgress });
  blob.catch(() => {});
  return { kind: 'whole', size, blob };
}
