// FFmpeg.wasm's own worker (loaded from the versioned /wasm/ base given as ?base=), with two
// changes to WORKERFS, the file system the source is mounted with:
// - a mounted Blob of type RANGE_SOURCE_TYPE is not the recording but where to read it: the file
//   reads by HTTP Range requests (range-source.js), so a cut fetches the index and the clip only;
// - a real Blob (the whole-file fallback) is read in 8 MB windows instead of one FileReaderSync
//   call per 32 KB read, which made cutting a long recording several times slower.
import { RANGE_SOURCE_TYPE, RangeSource } from './range-source.js';

const WINDOW_BYTES = 8 * 1024 * 1024;

function readRangesOrWindows(workerfs) {
  const createNode = workerfs.createNode;
  workerfs.createNode = (parent, name, mode, dev, contents, mtime) => {
    if (!(contents instanceof Blob) || contents.type !== RANGE_SOURCE_TYPE) {
      return createNode(parent, name, mode, dev, contents, mtime);
    }
    const source = new RangeSource(JSON.parse(new FileReaderSync().readAsText(contents)));
    const node = createNode(parent, name, mode, dev, { size: source.size }, mtime);
    node.contents = source;
    return node;
  };
  const ops = workerfs.stream_ops;
  const windows = new WeakMap();  // node -> { start, bytes }
  ops.read = (stream, buffer, offset, length, position) => {
    const { node } = stream;
    if (node.contents instanceof RangeSource) return node.contents.read(buffer, offset, length, position);
    if (position >= node.size) return 0;
    const end = Math.min(position + length, node.size);
    let view = windows.get(node);
    if (!view || position < view.start || end > view.start + view.bytes.length) {
      const stop = Math.min(node.size, position + Math.max(WINDOW_BYTES, length));
      const data = new FileReaderSync().readAsArrayBuffer(node.contents.slice(position, stop));
      view = { start: position, bytes: new Uint8Array(data) };
      windows.set(node, view);
    }
    buffer.set(view.bytes.subarray(position - view.start, end - view.start), offset);
    return end - position;
  };
}

// The package's worker assigns self.createFFmpegCore and then calls it: wrap it on the way.
let createCore = null;
Object.defineProperty(self, 'createFFmpegCore', {
  configurable: true,
  get: () => createCore && (async (options) => {
    const core = await createCore(options);
    readRangesOrWindows(core.FS.filesystems.WORKERFS);
    return core;
  }),
  set: (fn) => { createCore = fn; },
});

// Messages that arrive while the package's worker is still loading are held, then replayed.
const held = [];
let loaded = false;
self.addEventListener('message', (event) => {
  if (loaded) return;
  held.push(event);
  event.stopImmediatePropagation();
});
const base = new URL(self.location.href).searchParams.get('base');
await import(new URL('ffmpeg/worker.js', base).href);
loaded = true;
for (const event of held) self.onmessage(event);
