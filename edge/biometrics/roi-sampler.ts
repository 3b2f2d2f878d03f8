// Resamples a region of a grey image into the model's square input, bilinearly. The region is
// given by its centre, the direction of its x axis and its side, so the same code serves a palm
// crop (the whole image) and a localised, rotated palm in a full-hand frame.

export interface PalmRoi {
  readonly centreX: number;
  readonly centreY: number;
  /** Side of the square in source pixels. */
  readonly side: number;
  /** Rotation of the region's x axis from the image's x axis, radians. */
  readonly angle: number;
}

/** The ROI of one capture per channel, ROI-sized grey floats (0..255); a channel not captured or
 *  not evaluated is absent. */
export interface PalmRoiChannels {
  readonly visible?: Float32Array;
  readonly nir?: Float32Array;
}

export const wholeImageRoi = (width: number, height: number): PalmRoi => ({
  centreX: width / 2,
  centreY: height / 2,
  side: Math.min(width, height),
  angle: 0,
});

/** Writes `size * size` floats into `out` (0..255 grey); samples outside the image read as 0. */
export const sampleRoi = (pixels: Uint8Array, width: number, height: number, roi: PalmRoi, size: number, out: Float32Array): void => {
  const step = roi.side / size;
  const cos = Math.cos(roi.angle) * step,
    sin = Math.sin(roi.angle) * step;
  const half = size / 2 - 0.5;
  for (let y = 0; y < size; y++) {
    const ly = y - half;
    let sx = roi.centreX - half * cos - ly * sin - 0.5;
    let sy = roi.centreY - half * sin + ly * cos - 0.5;
    for (let x = 0; x < size; x++, sx += cos, sy += sin) {
      const ix = Math.floor(sx),
        iy = Math.floor(sy);
      let value = 0;
      if (ix >= 0 && iy >= 0 && ix < width - 1 && iy < height - 1) {
        const fx = sx - ix,
          fy = sy - iy;
        const i = iy * width + ix;
        const top = pixels[i]! + (pixels[i + 1]! - pixels[i]!) * fx;
        const bottom = pixels[i + width]! + (pixels[i + width + 1]! - pixels[i + width]!) * fx;
        value = top + (bottom - top) * fy;
      } else if (ix >= -1 && iy >= -1 && ix < width && iy < height) {
        value = pixels[Math.min(height - 1, Math.max(0, Math.round(sy))) * width + Math.min(width - 1, Math.max(0, Math.round(sx)))]!;
      }
      out[y * size + x] = value;
    }
  }
};
