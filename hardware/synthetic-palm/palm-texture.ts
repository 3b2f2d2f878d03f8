// Renders a palm identity into canonical two-channel textures (hand units -> texture pixels).
// The static part (skin, fine lines, veins) is rendered once per identity; every capture redraws
// the creases with fresh control-point, width and depth jitter, as skin folds a little
// differently each time a hand opens.
import type { PalmLine, PalmPattern } from "./palm-pattern.ts";
import { stampLine, type RasterFrame } from "./line-stamp.ts";
import { SeededRandom } from "./seeded-random.ts";

export const TEXTURE_RASTER: RasterFrame = { uMin: -2.4, vMax: 3.8, scale: 80, width: 384, height: 496 };

export interface PalmTexture {
  readonly raster: RasterFrame;
  /** Visible reflectance, 0..255. */
  readonly visible: Float32Array;
  /** Near-infrared reflectance, 0..255. */
  readonly nir: Float32Array;
}

/** Near-infrared light sees creases only faintly: it is scattered below the surface. */
const NIR_CREASE_VISIBILITY = 0.3;

const valueNoise = (r: SeededRandom, width: number, height: number, cell: number, out: Float32Array, amplitude: number) => {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => r.normal());
  for (let y = 0; y < height; y++) {
    const gy = y / cell,
      iy = Math.floor(gy),
      fy = gy - iy;
    for (let x = 0; x < width; x++) {
      const gx = x / cell,
        ix = Math.floor(gx),
        fx = gx - ix;
      const i = iy * gw + ix;
      const top = grid[i]! + (grid[i + 1]! - grid[i]!) * fx;
      const bottom = grid[i + gw]! + (grid[i + gw + 1]! - grid[i + gw]!) * fx;
      out[y * width + x] = out[y * width + x]! + amplitude * (top + (bottom - top) * fy);
    }
  }
};

export const renderIdentityTexture = (pattern: PalmPattern): PalmTexture => {
  const raster = TEXTURE_RASTER;
  const n = raster.width * raster.height;
  const r = new SeededRandom(pattern.skinSeed);
  const skin = new Float32Array(n);
  valueNoise(r, raster.width, raster.height, 24, skin, 0.05);
  valueNoise(r, raster.width, raster.height, 5, skin, 0.03);
  for (let i = 0; i < n; i++) skin[i] = skin[i]! + 0.025 * r.normal();
  const fine = new Float32Array(n);
  for (const l of pattern.fineLines) stampLine(fine, raster, l);
  const veins = new Float32Array(n);
  for (const l of pattern.veins) stampLine(veins, raster, l);
  const visible = new Float32Array(n);
  const nir = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const texture = 1 + skin[i]!;
    visible[i] = pattern.skinTone * texture * (1 - fine[i]!);
    // Skin texture is weaker in NIR; veins absorb NIR strongly.
    nir[i] = pattern.nirTone * (1 + 0.4 * skin[i]!) * (1 - NIR_CREASE_VISIBILITY * fine[i]!) * (1 - veins[i]!);
  }
  return { raster, visible, nir };
};

const jitterLine = (l: PalmLine, r: SeededRandom, amount: number): PalmLine => ({
  start: { u: l.start.u + amount * r.normal(), v: l.start.v + amount * r.normal() },
  bend: { u: l.bend.u + 1.5 * amount * r.normal(), v: l.bend.v + 1.5 * amount * r.normal() },
  end: { u: l.end.u + amount * r.normal(), v: l.end.v + amount * r.normal() },
  width: l.width,
  depth: l.depth,
});

/** Draws this capture's creases over the identity texture into `out` (same raster). */
export const composeCaptureTexture = (
  identity: PalmTexture,
  pattern: PalmPattern,
  r: SeededRandom,
  out: { visible: Float32Array; nir: Float32Array; creases: Float32Array },
): void => {
  out.creases.fill(0);
  for (const l of pattern.creases) {
    stampLine(out.creases, identity.raster, jitterLine(l, r, 0.012), {
      widthScale: 1 + 0.1 * r.normal(),
      depthScale: 1 + 0.1 * r.normal(),
    });
  }
  const { visible, nir, raster } = identity;
  out.visible.set(visible);
  out.nir.set(nir);
  // Creases lie on the palm; only that window of the texture needs recomputing.
  const x0 = Math.max(0, Math.floor((-1.5 - raster.uMin) * raster.scale));
  const x1 = Math.min(raster.width, Math.ceil((1.5 - raster.uMin) * raster.scale));
  const y0 = Math.max(0, Math.floor((raster.vMax - 1.7) * raster.scale));
  const y1 = Math.min(raster.height, Math.ceil((raster.vMax + 1.6) * raster.scale));
  for (let y = y0; y < y1; y++) {
    for (let i = y * raster.width + x0, end = y * raster.width + x1; i < end; i++) {
      const c = out.creases[i]!;
      if (c === 0) continue;
      out.visible[i] = visible[i]! * (1 - c);
      out.nir[i] = nir[i]! * (1 - NIR_CREASE_VISIBILITY * c);
    }
  }
};
