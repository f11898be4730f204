// Every network call of the page goes through here.

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? '';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(url, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRFToken'] = csrfToken();
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) window.location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    const error = data?.error ?? {};
    throw new ApiError(response.status, error.code ?? 'http_error', error.message ?? `The server answered ${response.status}.`);
  }
  return data;
}

export function listRecordings(listUrl, { type, cursor, q, limit = 50 }) {
  const params = new URLSearchParams({ type, limit: String(limit) });
  if (cursor) params.set('cursor', cursor);
  if (q) params.set('q', q);
  return request(`${listUrl}?${params}`);
}

// The JSON form of a media endpoint (format=json): {url, ...} to go to, instead of the redirect.
function whereIs(mediaUrl) {
  const url = new URL(mediaUrl, location.href);
  url.searchParams.set('format', 'json');
  return request(url.href);
}

export const getSource = (playUrl) => whereIs(playUrl);
export const getDownload = (downloadUrl) => whereIs(downloadUrl);

export const createClip = (clipsUrl, body) => request(clipsUrl, { method: 'POST', body });
export const completeClip = (completeUrl) => request(completeUrl, { method: 'POST', body: {} });
export const getClip = (clipUrl) => request(clipUrl);
export const deleteClip = (clipUrl) => request(clipUrl, { method: 'DELETE' });
export const renameClip = (clipUrl, title) => request(clipUrl, { method: 'PATCH', body: { title } });
export const assignOwner = (ownerUrl, owner) => request(ownerUrl, { method: 'PATCH', body: { owner } });

export function listClips(clipsUrl, { type, id }) {
  return request(`${clipsUrl}?${new URLSearchParams({ type, id: String(id) })}`);
}

// Fetch a URL into a Blob, reporting (loaded, total) as the bytes arrive.
// `what` names the thing in error messages ("the recording", "FFmpeg").
export async function fetchBlob(url, { onProgress = () => {}, total = 0, signal, what = 'the recording' } = {}) {
  let response;
  try {
    response = await fetch(url, { signal, credentials: 'same-origin' });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', `Fetching ${what} failed. Check your connection.`);
  }
  if (!response.ok) throw new ApiError(response.status, 'fetch_failed', `Fetching ${what} failed (${response.status}).`);
  const length = Number(response.headers.get('Content-Length')) || total;
  const encoded = response.headers.get('Content-Encoding');
  const expected = encoded && total ? total : length;  // compressed lengths do not count decoded bytes
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress(loaded, expected);
  }
  return new Blob(chunks, { type: response.headers.get('Content-Type') ?? '' });
}

// Send the clip to the bucket, in the shape the server signed: a presigned POST `{url, fields}` (fields
// first, then the file, like S3 wants) or a signed PUT `{url, method: 'PUT', headers}` of the raw file
// (Supabase Storage). Progress as it goes.
export function uploadFile(upload, blob, { onProgress = () => {}, filename = 'clip.mp4' } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let body = blob;
    if (upload.method === 'PUT') {
      xhr.open('PUT', upload.url);
      for (const [name, value] of Object.entries(upload.headers ?? {})) xhr.setRequestHeader(name, value);
    } else {
      body = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) body.append(name, value);
      body.append('file', blob, filename);
      xhr.open('POST', upload.url);
    }
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : blob.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      reject(new ApiError(xhr.status, 'upload_failed', uploadRefusal(xhr)));
    };
    xhr.onerror = () => reject(new ApiError(0, 'upload_failed', 'The upload failed. Check your connection and try again.'));
    xhr.send(body);
  });
}

// Why the bucket refused: our own {error: {message}}, Supabase's {statusCode, error, message} (its real
// status is in the body; the HTTP status is 400) or S3's <Error><Message>..</Message></Error>.
function uploadRefusal(xhr) {
  let data = null;
  try {
    data = JSON.parse(xhr.responseText);
  } catch {
    const reason = new DOMParser().parseFromString(xhr.responseText, 'application/xml')
      .querySelector('Error > Message')?.textContent;
    if (reason) return `The storage refused the upload (${xhr.status}): ${reason}`;
  }
  if (typeof data?.error === 'object' && data.error?.message) return data.error.message;
  if (typeof data?.message === 'string' && data.message) {
    return `The storage refused the upload (${data.statusCode ?? xhr.status}): ${data.message}`;
  }
  return `The upload was refused (${xhr.status}).`;
}

export const createShareLink = (body) => request('/api/share-links', { method: 'POST', body });
export const revokeShareLink = (id) => request(`/api/share-links/${encodeURIComponent(id)}`, { method: 'DELETE' });

export function listShareLinks({ targetType, targetId }) {
  return request(`/api/share-links?${new URLSearchParams({ target_type: targetType, target_id: String(targetId) })}`);
}

// Posting to Facebook, Instagram and TikTok (webapp/social/views.py).
export const getSocialDestinations = () => request('/api/social/destinations');
export const getCreatorInfo = (destinationId) => request(`/api/social/destinations/${encodeURIComponent(destinationId)}/creator-info`);
export const createPublication = (body) => request('/api/social/publications', { method: 'POST', body });
export const getPublication = (url) => request(url);
export const retryPublication = (url) => request(url, { method: 'POST', body: {} });

// The person's posts of the last 30 days, every clip and recording at once.
export const listRecentPublications = () => request('/api/social/publications');
