// FFmpeg.wasm's own worker (loaded from the versioned /wasm/ base given as ?base=), with one
// change: a WORKERFS file (the mounted source Blob) is read in 8 MB windows instead of one
// FileReaderSync call per 32 KB read, which made cutting a long recording several times slower.
const WINDOW_BYTES = 8 * 1024 * 1024;

function readInWindows(workerfs) {
  const ops = workerfs.stream_ops;
  const windows = new WeakMap();  // node -> { start, bytes }
  ops.read = (stream, buffer, offset, length, position) => {
    const { node } = stream;
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
    readInWindows(core.FS.filesystems.WORKERFS);
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
