// Drawing the timeline's strip for the time in view: thumbnails from the sprite sheet, the waveform
// from its peaks (waveform-data JSON, 8 bits, min/max pairs).

// Tiles that fill the strip; each shows the thumbnail whose cue covers the middle of its time.
export function drawThumbnails($strip, thumbnails, [from, to]) {
  if (!thumbnails?.cues.length) {
    $strip.replaceChildren();
    return;
  }
  const height = $strip.clientHeight || 40;
  const width = Math.round(height * 16 / 9);
  const count = Math.max(1, Math.ceil(($strip.clientWidth || 320) / width));
  const { cues, sprite } = thumbnails;
  const spriteWidth = Math.max(...cues.map((cue) => cue.x + cue.w));
  const tiles = [];
  for (let index = 0; index < count; index += 1) {
    const at = from + ((index + 0.5) / count) * (to - from);
    const cue = cues.find((c) => at >= c.start && at < c.end) ?? cues[cues.length - 1];
    const scale = height / cue.h;
    const $tile = document.createElement('span');
    $tile.className = 'timeline-tile';
    $tile.style.width = `${100 / count}%`;
    $tile.style.backgroundImage = `url("${sprite}")`;
    $tile.style.backgroundSize = `${spriteWidth * scale}px auto`;
    $tile.style.backgroundPosition = `${-cue.x * scale}px ${-cue.y * scale}px`;
    tiles.push($tile);
  }
  $strip.replaceChildren(...tiles);
}

// One vertical line per device pixel: the lowest and highest level of the peaks in its time.
export function drawWaveform($canvas, peaks, [from, to]) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(($canvas.clientWidth || 320) * ratio));
  const height = Math.max(1, Math.round(($canvas.clientHeight || 32) * ratio));
  if ($canvas.width !== width) $canvas.width = width;
  if ($canvas.height !== height) $canvas.height = height;
  const context = $canvas.getContext('2d');
  context.clearRect(0, 0, width, height);
  if (!peaks?.data?.length) return;
  const perSecond = peaks.sample_rate / peaks.samples_per_pixel;  // peak pairs per second
  const middle = height / 2;
  context.fillStyle = getComputedStyle($canvas).color;
  for (let x = 0; x < width; x += 1) {
    const first = Math.floor((from + (x / width) * (to - from)) * perSecond);
    const last = Math.max(first, Math.ceil((from + ((x + 1) / width) * (to - from)) * perSecond) - 1);
    let low = 0;
    let high = 0;
    for (let index = first; index <= last && index < peaks.length; index += 1) {
      low = Math.min(low, peaks.data[2 * index]);
      high = Math.max(high, peaks.data[2 * index + 1]);
    }
    const top = middle - (high / 128) * middle;
    context.fillRect(x, top, 1, Math.max(1, ((high - low) / 128) * middle));
  }
}
