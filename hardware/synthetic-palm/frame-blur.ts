// Optical degradations applied in place to a rendered 8-bit channel, within a window (the hand's
// bounding box: blurring the empty background changes nothing that matters and costs time).
// Defocus is a separable box blur; motion is a smear along a direction.

export interface PixelWindow {
  readonly x0: number;
  readonly y0: number;
  /** Exclusive. */
  readonly x1: number;
  readonly y1: number;
}

export const boxBlur = (
  pixels: Uint8Array,
  width: number,
  height: number,
  radius: number,
  scratch: Uint8Array,
  w: PixelWindow = { x0: 0, y0: 0, x1: width, y1: height },
): void => {
  const span = 2 * radius + 1;
  const clampX = (x: number) => (x < w.x0 ? w.x0 : x >= w.x1 ? w.x1 - 1 : x);
  const clampY = (y: number) => (y < w.y0 ? w.y0 : y >= w.y1 ? w.y1 - 1 : y);
  for (let y = w.y0; y < w.y1; y++) {
    const row = y * width;
    let sum = 0;
    for (let x = w.x0 - radius - 1; x < w.x0 + radius; x++) sum += pixels[row + clampX(x)]!;
    for (let x = w.x0; x < w.x1; x++) {
      sum += pixels[row + clampX(x + radius)]! - pixels[row + clampX(x - radius - 1)]!;
      scratch[row + x] = sum / span;
    }
  }
  for (let x = w.x0; x < w.x1; x++) {
    let sum = 0;
    for (let y = w.y0 - radius - 1; y < w.y0 + radius; y++) sum += scratch[clampY(y) * width + x]!;
    for (let y = w.y0; y < w.y1; y++) {
      sum += scratch[clampY(y + radius) * width + x]! - scratch[clampY(y - radius - 1) * width + x]!;
      pixels[y * width + x] = sum / span;
    }
  }
  void height;
};

export const motionBlur = (
  pixels: Uint8Array,
  width: number,
  height: number,
  length: number,
  angle: number,
  scratch: Uint8Array,
  w: PixelWindow = { x0: 0, y0: 0, x1: width, y1: height },
): void => {
  const offsets = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const t = i - (length - 1) / 2;
    offsets[i] = Math.round(t * Math.sin(angle)) * width + Math.round(t * Math.cos(angle));
  }
  const reach = Math.ceil(length / 2) + 1;
  const y0 = Math.max(reach, w.y0),
    y1 = Math.min(height - reach, w.y1);
  const x0 = Math.max(reach, w.x0),
    x1 = Math.min(width - reach, w.x1);
  for (let y = y0 - reach; y < y1 + reach; y++) scratch.set(pixels.subarray(y * width + x0 - reach, y * width + x1 + reach), y * width + x0 - reach);
  for (let y = y0; y < y1; y++) {
    for (let i = y * width + x0, end = y * width + x1; i < end; i++) {
      let sum = 0;
      for (let k = 0; k < length; k++) sum += scratch[i + offsets[k]!]!;
      pixels[i] = sum / length;
    }
  }
};
