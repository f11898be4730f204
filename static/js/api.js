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

export function listRecordings(listUrl, { type, cursor, limit = 50 }) {
  const params = new URLSearchParams({ type, limit: String(limit) });
  if (cursor) params.set('cursor', cursor);
  return request(`${listUrl}?${params}`);
}
