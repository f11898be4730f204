// A read-only file whose bytes come from HTTP Range requests, for FFmpeg's worker: a stream copy
// reads the index (moov) and the samples of the clip, so only those are fetched, not the recording.
// Synchronous XMLHttpRequest (allowed in workers) because Emscripten's file reads are synchronous.

export const RANGE_SOURCE_TYPE = 'application/x-reclip-range-source';
const CHUNK_BYTES = 1024 * 1024;  // reads are rounded to whole chunks
const MAX_AHEAD_CHUNKS = 4;       // sequential reads fetch up to this many chunks at once
const CACHE_CHUNKS = 24;          // an LRU of recent chunks: the demuxer goes back now and then
const ATTEMPTS = 3;

function pause(ms) {  // a worker may block: nothing else runs on it while FFmpeg reads
  const until = Date.now() + ms;
  while (Date.now() < until) { /* wait */ }
}

export class RangeSource {
  // desc: { url, size, refreshUrl, channel }; size may be 0 (learnt from the first Content-Range).
  constructor({ url, size = 0, refreshUrl = null, channel = null }) {
    this.url = url;
    this.size = size;
    this.refreshUrl = refreshUrl;
    this.etag = null;
    this.cache = new Map();  // chunk index -> Uint8Array, oldest first
    this.lastChunk = -2;
    this.ahead = 1;
    this.fetched = 0;
    this.requests = 0;
    this.channel = channel ? new BroadcastChannel(channel) : null;
    if (!this.size) this.fetchSpan(0, 0);
  }

  read(buffer, offset, length, position) {
    if (position >= this.size) return 0;
    const end = Math.min(position + length, this.size);
    let copied = 0;
    while (position + copied < end) {
      const at = position + copied;
      const index = Math.floor(at / CHUNK_BYTES);
      const chunk = this.chunk(index);
      const from = at - index * CHUNK_BYTES;
      const count = Math.min(chunk.length - from, end - at);
      buffer.set(chunk.subarray(from, from + count), offset + copied);
      copied += count;
    }
    return copied;
  }

  chunk(index) {
    const hit = this.cache.get(index);
    if (hit) {
      this.cache.delete(index);  // most recently used goes last
      this.cache.set(index, hit);
      return hit;
    }
    // Reading on from the last chunk: fetch more at once (fewer round trips); a jump starts small.
    this.ahead = index === this.lastChunk + 1 ? Math.min(this.ahead * 2, MAX_AHEAD_CHUNKS) : 1;
    const last = Math.min(index + this.ahead - 1, Math.ceil(this.size / CHUNK_BYTES) - 1);
    this.fetchSpan(index, last);
    this.lastChunk = last;
    return this.cache.get(index);
  }

  // Fetch chunks first..last in one request and keep them.
  fetchSpan(first, last) {
    const start = first * CHUNK_BYTES;
    const end = this.size ? Math.min((last + 1) * CHUNK_BYTES, this.size) - 1 : CHUNK_BYTES - 1;
    const bytes = this.request(start, end);
    for (let index = first; index * CHUNK_BYTES - start < bytes.length; index += 1) {
      const from = index * CHUNK_BYTES - start;
      this.cache.set(index, bytes.subarray(from, Math.min(from + CHUNK_BYTES, bytes.length)));
      while (this.cache.size > CACHE_CHUNKS) this.cache.delete(this.cache.keys().next().value);
    }
  }

  request(start, end) {
    let lastError = null;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
      const xhr = new XMLHttpRequest();
      xhr.open('GET', this.url, false);
      xhr.responseType = 'arraybuffer';
      xhr.setRequestHeader('Range', `bytes=${start}-${end}`);
      try {
        xhr.send();
      } catch (error) {
        lastError = new Error('The recording could not be read: the connection failed.');
        pause(300 * attempt);
        continue;
      }
      this.requests += 1;
      if (xhr.status === 206) return this.accept(xhr, start);
      if ((xhr.status === 401 || xhr.status === 403 || xhr.status === 410) && this.refreshUrl) {
        this.refresh();  // a signed URL that ran out: ask the API for a fresh one, carry on
        continue;
      }
      if (xhr.status === 200) throw new Error('The storage does not send parts of the recording.');
      lastError = new Error(`The recording could not be read (${xhr.status}).`);
      if (xhr.status >= 400 && xhr.status < 500 && xhr.status !== 408 && xhr.status !== 429) break;
      pause(300 * attempt);
    }
    throw lastError;
  }

  accept(xhr, start) {
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(xhr.getResponseHeader('Content-Range') ?? '');
    if (!range || Number(range[1]) !== start) throw new Error('The storage answered another part of the recording.');
    const total = Number(range[3]);
    const etag = xhr.getResponseHeader('ETag');
    if ((this.size && total !== this.size) || (this.etag && etag && etag !== this.etag)) {
      throw new Error('The recording changed while it was being cut. Try again.');
    }
    this.size = total;
    this.etag ??= etag;
    const bytes = new Uint8Array(xhr.response);
    this.fetched += bytes.length;
    this.channel?.postMessage({ fetched: this.fetched, requests: this.requests });
    return bytes;
  }

  refresh() {
    const xhr = new XMLHttpRequest();
    xhr.open('GET', this.refreshUrl, false);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.send();
    if (xhr.status !== 200) throw new Error('The recording\'s link ran out and could not be renewed.');
    this.url = new URL(JSON.parse(xhr.responseText).url, this.refreshUrl).href;
  }
}
