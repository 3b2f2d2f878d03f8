// Rasterises a palm line into a depth map by stamping a Gaussian cross-section along the curve.
// Depths combine by maximum, so a line crossing itself or another line does not darken twice
// (skin folds do not stack like ink).
import type { PalmLine } from "./palm-pattern.ts";

const LUT_STEPS_PER_UNIT = 32;
const LUT_LIMIT = 9; // (distance / sigma)^2 beyond which the profile is treated as zero
const gaussianLut = Float32Array.from({ length: LUT_LIMIT * LUT_STEPS_PER_UNIT + 1 }, (_, i) => Math.exp(-i / LUT_STEPS_PER_UNIT / 2));

/** Maps hand units to raster pixels: x = (u - uMin) * scale, y = (vMax - v) * scale. */
export interface RasterFrame {
  readonly uMin: number;
  readonly vMax: number;
  readonly scale: number;
  readonly width: number;
  readonly height: number;
}

export const stampLine = (
  depthMap: Float32Array,
  raster: RasterFrame,
  line: PalmLine,
  jitter?: { readonly widthScale: number; readonly depthScale: number },
): void => {
  const { uMin, vMax, scale, width, height } = raster;
  const x0 = (line.start.u - uMin) * scale,
    y0 = (vMax - line.start.v) * scale;
  const x1 = (line.bend.u - uMin) * scale,
    y1 = (vMax - line.bend.v) * scale;
  const x2 = (line.end.u - uMin) * scale,
    y2 = (vMax - line.end.v) * scale;
  const sigma = Math.max(0.5, line.width * scale * (jitter?.widthScale ?? 1));
  const depth = Math.min(0.95, line.depth * (jitter?.depthScale ?? 1));
  const reach = Math.ceil(3 * sigma);
  const invSigma2 = LUT_STEPS_PER_UNIT / (sigma * sigma);
  const polygon = Math.hypot(x1 - x0, y1 - y0) + Math.hypot(x2 - x1, y2 - y1);
  const samples = Math.max(2, Math.ceil(polygon / 0.6));
  for (let s = 0; s <= samples; s++) {
    const t = s / samples;
    const a = (1 - t) * (1 - t),
      b = 2 * (1 - t) * t,
      c = t * t;
    const cx = a * x0 + b * x1 + c * x2;
    const cy = a * y0 + b * y1 + c * y2;
    // Lines taper at their ends, as real creases fade out rather than stop.
    const taper = Math.min(1, 4 * t, 4 * (1 - t));
    const peak = depth * (0.35 + 0.65 * taper);
    const xa = Math.max(0, Math.floor(cx - reach)),
      xb = Math.min(width - 1, Math.ceil(cx + reach));
    const ya = Math.max(0, Math.floor(cy - reach)),
      yb = Math.min(height - 1, Math.ceil(cy + reach));
    for (let y = ya; y <= yb; y++) {
      const dy = y - cy;
      const row = y * width;
      for (let x = xa; x <= xb; x++) {
        const dx = x - cx;
        const k = ((dx * dx + dy * dy) * invSigma2) | 0;
        if (k >= gaussianLut.length) continue;
        const value = peak * gaussianLut[k]!;
        if (value > depthMap[row + x]!) depthMap[row + x] = value;
      }
    }
  }
};
