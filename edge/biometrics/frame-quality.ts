// The quality gate: cheap checks on a palm image before any expensive work, each failing with the
// reason a person can act on. Thresholds are on 8-bit grey levels.
import type { PalmFrame } from "../../hardware/palm-sensor.ts";
import { InvalidFrame, PoorQuality } from "./capture-errors.ts";

export interface QualityMeasures {
  readonly mean: number;
  readonly contrast: number;
  /** Share of pixels at or near saturation. */
  readonly clipped: number;
  /** Mean absolute Laplacian over the central region: low when defocused or smeared. */
  readonly sharpness: number;
}

export const QUALITY_LIMITS = {
  minMean: 35,
  maxMean: 235,
  /** Contrast and sharpness sit at about two thirds of the lowest real palm seen: real NIR palms
   *  (casia-hand-940, 128 px ROI) go down to contrast 6.1 and sharpness 0.98, synthetic palms to
   *  7.8 and 0.94 (docs/biometrics.md, Localisation). */
  minContrast: 4,
  maxClipped: 0.2,
  minSharpness: 0.65,
  /** Sharpness per unit of contrast above which an image is noise, not a palm: skin and creases
   *  are smooth at the pixel scale, so their Laplacian is small next to their contrast. */
  maxNoiseRatio: 2,
} as const;

export const checkFrameShape = (frame: PalmFrame): void => {
  const { width, height } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 32 || height < 32 || width > 8192 || height > 8192) {
    throw new InvalidFrame({ reason: `impossible dimensions ${width}x${height}` });
  }
  if (!(frame.visible instanceof Uint8Array) || frame.visible.length !== width * height) {
    throw new InvalidFrame({ reason: `visible channel has ${frame.visible?.length} bytes, expected ${width * height}` });
  }
  if (frame.nir !== undefined && (!(frame.nir instanceof Uint8Array) || frame.nir.length !== width * height)) {
    throw new InvalidFrame({ reason: `nir channel has ${frame.nir.length} bytes, expected ${width * height}` });
  }
};

/** Measures a grey image (or a region of it) without copying it. */
export const measureQuality = (pixels: Uint8Array | Float32Array, width: number, height: number): QualityMeasures => {
  let sum = 0,
    sumSq = 0,
    clipped = 0;
  const n = width * height;
  for (let i = 0; i < n; i++) {
    const p = pixels[i]!;
    sum += p;
    sumSq += p * p;
    if (p >= 250) clipped++;
  }
  const mean = sum / n;
  const contrast = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
  let lap = 0,
    count = 0;
  const x0 = Math.floor(width / 4),
    x1 = Math.ceil((3 * width) / 4);
  const y0 = Math.floor(height / 4),
    y1 = Math.ceil((3 * height) / 4);
  for (let y = Math.max(1, y0); y < Math.min(height - 1, y1); y++) {
    for (let x = Math.max(1, x0); x < Math.min(width - 1, x1); x++) {
      const i = y * width + x;
      lap += Math.abs(4 * pixels[i]! - pixels[i - 1]! - pixels[i + 1]! - pixels[i - width]! - pixels[i + width]!);
      count++;
    }
  }
  return { mean, contrast, clipped: clipped / n, sharpness: count === 0 ? 0 : lap / count };
};

export const requireQuality = (m: QualityMeasures): void => {
  const L = QUALITY_LIMITS;
  if (m.contrast < L.minContrast && m.mean < L.minMean) {
    throw new PoorQuality({ reason: "no-hand", detail: `dark, featureless field (mean ${m.mean.toFixed(1)})` });
  }
  if (m.mean < L.minMean) throw new PoorQuality({ reason: "underexposed", detail: `mean level ${m.mean.toFixed(1)}` });
  if (m.mean > L.maxMean || m.clipped > L.maxClipped) {
    throw new PoorQuality({ reason: "overexposed", detail: `mean ${m.mean.toFixed(1)}, ${(100 * m.clipped).toFixed(1)}% clipped` });
  }
  if (m.contrast < L.minContrast) throw new PoorQuality({ reason: "low-contrast", detail: `contrast ${m.contrast.toFixed(2)}` });
  if (m.sharpness > L.maxNoiseRatio * m.contrast) {
    throw new PoorQuality({ reason: "no-hand", detail: `no palm structure, only pixel noise (sharpness ${m.sharpness.toFixed(1)})` });
  }
  if (m.sharpness < L.minSharpness) throw new PoorQuality({ reason: "out-of-focus", detail: `sharpness ${m.sharpness.toFixed(2)}` });
};
