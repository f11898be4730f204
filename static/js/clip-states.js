// The clip statuses of webapp/clips/states.py (tests/test_clip_states.py keeps the two the same).
const LABELS = Object.freeze({
  awaiting_upload: 'Uploading', queued: 'Queued', processing: 'Cutting on the server',
  ready: 'Clip ready', failed: 'Failed', expired: 'Expired',
});
export const CLIP_STATUSES = Object.freeze(Object.keys(LABELS));

export const isReady = (clip) => clip.status === 'ready';
// The server still works on it: poll again.
export const isInProgress = (clip) => clip.status === 'queued' || clip.status === 'processing';

// Where a server job is: its step, or where its status puts it.
export const serverStep = (clip) => clip.step ?? (clip.status === 'processing' ? 'cutting' : 'queued');

export function statusLabel(clip) {
  if (clip.status === 'processing' && clip.step === 'checking') return 'Checking';
  return LABELS[clip.status] ?? clip.status;
}
