// How numbers and dates read on the page.

export function formatDuration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return '–';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function formatSize(bytes) {
  if (bytes == null || !Number.isFinite(bytes)) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  return `${value.toFixed(value < 10 && unit ? 1 : 0)} ${units[unit]}`;
}

export function formatDate(iso) {
  const date = new Date(iso);
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// "75", "75.5", "1:15", "1:15.5" or "1:01:15" -> seconds; null when it is not a time.
export function parseTime(text) {
  const value = String(text ?? '').trim();
  if (!/^\d+(:\d{1,2}){0,2}(\.\d+)?$/.test(value)) return null;
  const parts = value.split(':');
  if (parts.slice(1).some((part) => Number(part.split('.')[0]) >= 60)) return null;
  return parts.reduce((total, part) => total * 60 + Number(part), 0);
}

// Seconds -> "m:ss" (or "m:ss.s" when there is a fraction) for the Start / End inputs.
export function formatTime(seconds) {
  const inTenths = Math.round(seconds * 10);  // 0.96 s is 0:01, not 0:00.10
  const base = formatDuration(Math.floor(inTenths / 10));
  return inTenths % 10 ? `${base}.${inTenths % 10}` : base;
}

// 63206 -> "63,206", as the platforms write their limits.
export const formatCount = (value) => value.toLocaleString('en-US');
