// Making a clip, without the DOM: cut in the browser and upload, or have the server cut it.
// Both report through onStep(step, label) and onProgress(step, loaded, total).
import { completeClip, createClip, deleteClip, getClip, uploadFile } from './api.js';
import { isInProgress, isReady, serverStep } from './clip-states.js';
import { trimClip } from './trim.js';

const SERVER_STEPS = {
  queued: 'Waiting for the server', cutting: 'Cutting on the server',
  uploading: 'Saving the clip', checking: 'Checking the clip',
};

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

const request = (recording, range, mode, extra = {}) => ({
  type: recording.type, id: recording.id, start_seconds: range.start, end_seconds: range.end, mode,
  title: range.title ?? undefined, ...extra,
});

// FFmpeg.wasm (a promise), the source (a promise of source.js's openSource, a whole Blob on its way or
// a ranged source), a presigned upload, then `complete`. The clip made for the upload is deleted again
// when a later step fails (not when the check refused it). onFetched(bytes): read by parts so far.
export async function cutInBrowser({ clipsUrl, recording, range, ffmpeg, source, onStep, onProgress,
  onFetched = () => {} }) {
  const audioOnly = recording.media_kind === 'audio';
  let created = null;
  try {
    onStep('load', 'Loading FFmpeg');
    const core = await ffmpeg;
    onStep('fetch', 'Opening the recording');
    const opened = await source;
    if (opened.kind === 'whole') onStep('fetch', 'Fetching the whole recording (its storage sends no parts)');
    const input = opened.kind === 'ranged' ? opened : await opened.blob;
    onStep('create', 'Preparing the upload');
    created = await createClip(clipsUrl, request(recording, range, 'browser'));
    onStep('trim', opened.kind === 'ranged' ? 'Trimming (reading only the parts it needs)' : 'Trimming');
    const clip = await trimClip(core, { source: input, start: range.start, end: range.end, audioOnly,
      onProgress: (fraction) => onProgress('trim', fraction, 1), onFetched });
    onStep('upload', 'Uploading');
    await uploadFile(created.upload, clip, { filename: audioOnly ? 'clip.m4a' : 'clip.mp4',
      onProgress: (loaded, total) => onProgress('upload', loaded, total) });
    onStep('complete', 'Checking the clip');
    return (await completeClip(created.clip.links.complete)).clip;
  } catch (error) {
    if (created && error.status !== 422) deleteClip(created.clip.links.self).catch(() => {});
    throw error;
  }
}

// A server job, polled with backoff until it is ready or failed.
export async function cutOnServer({ clipsUrl, recording, range, precise, onStep }) {
  onStep('create', 'Sending to the server');
  let { clip } = await createClip(clipsUrl, request(recording, range, 'server', { precise }));
  let delay = 500;
  while (isInProgress(clip)) {
    const step = serverStep(clip);
    onStep(step, SERVER_STEPS[step] ?? 'Cutting on the server');
    await sleep(delay);
    delay = Math.min(delay * 1.5, 5000);
    ({ clip } = await getClip(clip.links.self));
  }
  if (!isReady(clip)) throw new Error(clip.error ?? `The clip ended ${clip.status}.`);
  return clip;
}
