// What this device can do: one answer for the clip editor, FFmpeg's preload and the share menu.

export function webAssemblySupported() {
  return typeof WebAssembly === 'object' && typeof WebAssembly.instantiate === 'function';
}

export function isPhone() {
  if (navigator.userAgentData?.mobile) return true;
  if (/iPhone|iPod|Android.+Mobile|Windows Phone/i.test(navigator.userAgent)) return true;
  return window.matchMedia('(pointer: coarse)').matches && Math.min(screen.width, screen.height) < 600;
}

const hasLittleMemory = () => Boolean(navigator.deviceMemory && navigator.deviceMemory < 4);

// Why this device should not cut in the browser, in words; null when it can.
export function browserCutBlocker() {
  if (!webAssemblySupported()) return 'this browser has no WebAssembly';
  if (isPhone()) return 'this device is a phone';
  if (hasLittleMemory()) return 'this device has little memory';
  return null;
}
