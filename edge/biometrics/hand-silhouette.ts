// Segments the hand from a frame: half-resolution grey image -> Otsu threshold -> largest
// connected region. Contactless scanners light the hand actively, so the hand is the bright
// foreground against a dark field.
import { PoorQuality } from "./capture-errors.ts";

export interface HandSilhouette {
  /** Binary mask at reduced resolution (1 = hand). */
  readonly mask: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Full-resolution pixels per mask pixel. */
  readonly factor: number;
  readonly area: number;
  readonly threshold: number;
}

export const SILHOUETTE_FACTOR = 2;

const otsu = (histogram: Float64Array, total: number): { threshold: number; separation: number } => {
  let sumAll = 0;
  for (let i = 0; i < 256; i++) sumAll += i * histogram[i]!;
  let weightBg = 0,
    sumBg = 0,
    best = -1,
    threshold = 0;
  for (let t = 0; t < 256; t++) {
    weightBg += histogram[t]!;
    if (weightBg === 0) continue;
    const weightFg = total - weightBg;
    if (weightFg === 0) break;
    sumBg += t * histogram[t]!;
    const meanBg = sumBg / weightBg,
      meanFg = (sumAll - sumBg) / weightFg;
    const between = weightBg * weightFg * (meanBg - meanFg) ** 2;
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  return { threshold, separation: best > 0 ? Math.sqrt(best / (total * total)) : 0 };
};

/** Dark creases and shadows inside the hand must not read as background: fill every background
 *  region that does not reach the frame's border. */
const fillHoles = (mask: Uint8Array, w: number, h: number, queue: Int32Array, outside: Uint8Array): void => {
  outside.fill(0);
  let tail = 0;
  const seed = (i: number) => {
    if (mask[i] === 0 && outside[i] === 0) (outside[i] = 1), (queue[tail++] = i);
  };
  for (let x = 0; x < w; x++) seed(x), seed((h - 1) * w + x);
  for (let y = 0; y < h; y++) seed(y * w), seed(y * w + w - 1);
  let head = 0;
  while (head < tail) {
    const i = queue[head++]!;
    const x = i % w;
    if (x > 0) seed(i - 1);
    if (x < w - 1) seed(i + 1);
    if (i >= w) seed(i - w);
    if (i < w * (h - 1)) seed(i + w);
  }
  for (let i = 0; i < w * h; i++) if (outside[i] === 0) mask[i] = 1;
};

export const segmentHand = (pixels: Uint8Array, width: number, height: number): HandSilhouette => {
  const f = SILHOUETTE_FACTOR;
  const w = Math.floor(width / f),
    h = Math.floor(height / f);
  const small = new Uint8Array(w * h);
  const histogram = new Float64Array(256);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * f * width + x * f;
      const v = (pixels[i]! + pixels[i + 1]! + pixels[i + width]! + pixels[i + width + 1]!) >> 2;
      small[y * w + x] = v;
      histogram[v] = histogram[v]! + 1;
    }
  }
  const { threshold, separation } = otsu(histogram, w * h);
  // Half the difference of class means, in grey levels: a hand under active light stands well
  // clear of the background.
  if (separation < 12) throw new PoorQuality({ reason: "no-hand", detail: `no foreground stands out (separation ${separation.toFixed(1)})` });
  const mask = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) mask[i] = small[i]! > threshold ? 1 : 0;
  small.fill(0);
  // Keep the largest 4-connected region; label 2 marks visited pixels of the current region.
  const queue = new Int32Array(w * h);
  let bestStart = -1,
    bestArea = 0;
  const label = new Uint8Array(w * h);
  for (let start = 0; start < w * h; start++) {
    if (mask[start] === 0 || label[start] !== 0) continue;
    let head = 0,
      tail = 0,
      area = 0;
    queue[tail++] = start;
    label[start] = 1;
    while (head < tail) {
      const i = queue[head++]!;
      area++;
      const x = i % w;
      if (x > 0 && mask[i - 1] === 1 && label[i - 1] === 0) (label[i - 1] = 1), (queue[tail++] = i - 1);
      if (x < w - 1 && mask[i + 1] === 1 && label[i + 1] === 0) (label[i + 1] = 1), (queue[tail++] = i + 1);
      if (i >= w && mask[i - w] === 1 && label[i - w] === 0) (label[i - w] = 1), (queue[tail++] = i - w);
      if (i < w * (h - 1) && mask[i + w] === 1 && label[i + w] === 0) (label[i + w] = 1), (queue[tail++] = i + w);
    }
    if (area > bestArea) {
      bestArea = area;
      bestStart = start;
    }
  }
  mask.fill(0);
  if (bestStart >= 0) {
    let head = 0,
      tail = 0;
    queue[tail++] = bestStart;
    mask[bestStart] = 1;
    while (head < tail) {
      const i = queue[head++]!;
      const x = i % w;
      for (const j of [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, i - w, i + w]) {
        if (j >= 0 && j < w * h && label[j] === 1 && mask[j] === 0) {
          mask[j] = 1;
          queue[tail++] = j;
        }
      }
    }
  }
  fillHoles(mask, w, h, queue, label);
  return { mask, width: w, height: h, factor: f, area: bestArea, threshold };
};
