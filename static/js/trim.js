// All FFmpeg.wasm use: one lazily loaded instance (its core runs in a worker), and the cut.
import { fetchBlob } from './api.js';
import { RANGE_SOURCE_TYPE } from './range-source.js';

let instance = null;     // Promise<FFmpeg>
let loadListeners = new Set();
let mountCount = 0;

function absolute(path) {
  return new URL(path, location.href).href;  // relative URLs would resolve against the worker script
}

// The versioned .wasm URL this browser has downloaded before (it is then in the HTTP cache for a
// year): asking the cache itself would print an error on every miss.
const DOWNLOADED_KEY = 'reclip.ffmpeg-wasm.downloaded';
const wasDownloaded = (url) => { try { return localStorage.getItem(DOWNLOADED_KEY) === url; } catch { return false; } };
const rememberDownloaded = (url) => { try { localStorage.setItem(DOWNLOADED_KEY, url); } catch { /* private mode */ } };

// Load the core once per page; onProgress(loaded, total) while its .wasm downloads. The core compiles
// the .wasm from its versioned same-origin URL by streaming, so the browser caches the compiled code
// too: a first load downloads it into the HTTP cache (with progress), later ones skip even that.
export function loadFFmpeg({ base, wasmSize, onProgress }) {
  if (onProgress) loadListeners.add(onProgress);
  if (!instance) {
    instance = (async () => {
      const { FFmpeg } = await import(absolute(`${base}ffmpeg/index.js`));
      const wasmURL = absolute(`${base}core/ffmpeg-core.wasm`);
      if (!wasDownloaded(wasmURL)) {
        await fetchBlob(wasmURL, {
          total: wasmSize, what: 'FFmpeg',
          onProgress: (loaded, total) => { for (const listener of loadListeners) listener(loaded, total); },
        });
      }
      const ffmpeg = new FFmpeg();
      const workerURL = new URL('./ffmpeg-worker.js', import.meta.url);
      workerURL.searchParams.set('base', absolute(base));
      await ffmpeg.load({ coreURL: absolute(`${base}core/ffmpeg-core.js`), wasmURL, classWorkerURL: workerURL.href });
      rememberDownloaded(wasmURL);
      return ffmpeg;
    })();
    instance.catch(() => { instance = null; }).finally(() => { loadListeners = new Set(); });
  }
  return instance;
}

// After a failure the worker may hold a broken state or lots of memory: start afresh next time.
export async function resetFFmpeg() {
  const current = instance;
  instance = null;
  if (current) (await current.catch(() => null))?.terminate();
}

// What WORKERFS mounts for a source: the Blob itself, or (read by ranges in the worker) where to read it.
function mountable(source, channel) {
  if (source instanceof Blob) return source;
  const where = { url: source.url, size: source.size, refreshUrl: source.refreshUrl, channel };
  return new Blob([JSON.stringify(where)], { type: RANGE_SOURCE_TYPE });
}

// Stream-copy START..END of the source: a Blob, or a ranged source ({ url, size, refreshUrl }) that the
// worker reads by parts; onFetched(bytes) tells how much of the latter was fetched. Mounted with
// WORKERFS (no copy into wasm memory, no 2 GB limit); -ss before -i, so the clip starts on a keyframe.
export async function trimClip(ffmpeg, { source, start, end, audioOnly, onProgress = () => {}, onFetched = () => {} }) {
  mountCount += 1;
  const dir = `/source-${mountCount}`;
  const channelName = `reclip-source-${mountCount}-${Math.random().toString(36).slice(2)}`;
  const channel = new BroadcastChannel(channelName);
  channel.onmessage = ({ data }) => onFetched(data.fetched);
  const output = `clip-${mountCount}.${audioOnly ? 'm4a' : 'mp4'}`;
  const logs = [];
  const onLog = ({ message }) => { logs.push(message); if (logs.length > 20) logs.shift(); };
  const onProg = ({ progress }) => onProgress(Math.max(0, Math.min(1, progress)));
  await ffmpeg.createDir(dir);
  await ffmpeg.mount('WORKERFS', { blobs: [{ name: 'input', data: mountable(source, channelName) }] }, dir);
  ffmpeg.on('log', onLog);
  ffmpeg.on('progress', onProg);
  try {
    const code = await ffmpeg.exec([
      '-ss', start.toFixed(3), '-i', `${dir}/input`, '-t', (end - start).toFixed(3),
      '-c', 'copy', '-avoid_negative_ts', 'make_zero', '-movflags', '+faststart', output,
    ]);
    // ffmpeg.wasm logs "Aborted()" after every run; the return code is what counts.
    if (code !== 0) {
      const reason = logs.filter((line) => line && !line.startsWith('Aborted')).slice(-2).join(' ');
      throw new Error(`FFmpeg could not cut this recording${reason ? `: ${reason}` : '.'}`);
    }
    const data = await ffmpeg.readFile(output);
    return new Blob([data.buffer], { type: audioOnly ? 'audio/mp4' : 'video/mp4' });
  } finally {
    channel.close();
    ffmpeg.off('log', onLog);
    ffmpeg.off('progress', onProg);
    await ffmpeg.deleteFile(output).catch(() => {});
    await ffmpeg.unmount(dir).catch(() => {});
    await ffmpeg.deleteDir(dir).catch(() => {});
  }
}
