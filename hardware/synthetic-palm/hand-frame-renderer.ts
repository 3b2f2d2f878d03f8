// Renders one two-channel full-hand frame: the hand's silhouette placed by the capture's pose,
// filled from the identity's canonical textures (with this capture's creases), shaded, lit,
// noised, blurred and partly occluded; or, for a presentation attack, an artefact that looks like
// the hand in visible light but betrays itself physically.
import type { PalmFrame } from "../palm-sensor.ts";
import type { PalmPattern } from "./palm-pattern.ts";
import { composeCaptureTexture, type PalmTexture } from "./palm-texture.ts";
import { handPolygons, type HandShape } from "./hand-shape.ts";
import { fillConvex } from "./convex-fill.ts";
import { drawCaptureConditions, type CaptureConditions } from "./capture-conditions.ts";
import { boxBlur, motionBlur } from "./frame-blur.ts";
import { NOISE_TABLE, NOISE_TABLE_MASK, noiseWalk } from "./noise-table.ts";
import { SeededRandom } from "./seeded-random.ts";

export type Presentation = "live" | "printed-photo" | "screen-replay" | "veinless-replica";

/** Reusable per-renderer buffers, so a capture allocates only its output frame. */
export class HandFrameWorkspace {
  readonly width: number;
  readonly height: number;
  readonly mask: Uint8Array;
  readonly scratch: Uint8Array;
  readonly texture: { visible: Float32Array; nir: Float32Array; creases: Float32Array };

  constructor(width: number, height: number, textureSize: number) {
    this.width = width;
    this.height = height;
    this.mask = new Uint8Array(width * height);
    this.scratch = new Uint8Array(width * height);
    this.texture = {
      visible: new Float32Array(textureSize),
      nir: new Float32Array(textureSize),
      creases: new Float32Array(textureSize),
    };
  }
}

const BACKGROUND_VISIBLE = 18;
const BACKGROUND_NIR = 12;

export interface HandCapture {
  readonly frame: PalmFrame;
  readonly conditions: CaptureConditions;
}

export const renderHandFrame = (
  pattern: PalmPattern,
  shape: HandShape,
  identity: PalmTexture,
  captureSeed: number,
  presentation: Presentation,
  work: HandFrameWorkspace,
  capturedAt: number,
): HandCapture => {
  const { width, height, mask } = work;
  const r = new SeededRandom(captureSeed);
  const c = drawCaptureConditions(r, width, height);
  composeCaptureTexture(identity, pattern, r, work.texture);

  const cos = Math.cos(c.rotation),
    sin = Math.sin(c.rotation);
  const toFrame = (p: { u: number; v: number }) => ({
    x: c.centreX + c.scale * (p.u * cos + p.v * sin),
    y: c.centreY + c.scale * (p.u * sin - p.v * cos),
  });
  mask.fill(0);
  let bx0 = width,
    by0 = height,
    bx1 = 0,
    by1 = 0;
  for (const polygon of handPolygons(shape, c.spread)) {
    const pixels = polygon.map(toFrame);
    for (const p of pixels) {
      bx0 = Math.min(bx0, p.x);
      bx1 = Math.max(bx1, p.x);
      by0 = Math.min(by0, p.y);
      by1 = Math.max(by1, p.y);
    }
    fillConvex(mask, width, height, pixels, 1);
  }
  const margin = 8;
  const handWindow = {
    x0: Math.max(0, Math.floor(bx0) - margin),
    y0: Math.max(0, Math.floor(by0) - margin),
    x1: Math.min(width, Math.ceil(bx1) + margin),
    y1: Math.min(height, Math.ceil(by1) + margin),
  };

  const visible = new Uint8Array(width * height);
  const nir = new Uint8Array(width * height);
  const { raster } = identity;
  const S = raster.scale;
  const tw = raster.width;
  const txMax = raster.width - 1.001,
    tyMax = raster.height - 1.001;
  const texVisible = work.texture.visible,
    texNir = work.texture.nir,
    creases = work.texture.creases;
  const walk = noiseWalk(r);
  let at = walk.start;
  const stride = walk.stride;
  const live = presentation === "live";
  const flat = presentation === "printed-photo" || presentation === "screen-replay";
  // Artefact parameters, drawn even for live captures so that every presentation of a seed sees
  // the same pose and light.
  const moirePeriod = r.range(3.2, 5.5),
    moireAngle = r.range(0, Math.PI),
    halftone = r.range(2.5, 4);
  const paperNir = r.range(170, 215);
  const du = cos / c.scale,
    dv = sin / c.scale;
  const backgroundVisible = BACKGROUND_VISIBLE * c.visibleGain,
    backgroundNir = BACKGROUND_NIR * c.nirGain;
  const visibleNoise = c.visibleNoise,
    nirNoise = c.nirNoise;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const ly = y + 0.5 - c.centreY;
    const light = 1 + c.gradientY * (y / height - 0.5);
    let u = (0.5 - c.centreX) * du + ly * (sin / c.scale);
    let v = (0.5 - c.centreX) * dv - ly * (cos / c.scale);
    for (let x = 0; x < width; x++, u += du, v += dv) {
      const i = row + x;
      const lit = light + c.gradientX * (x / width - 0.5);
      if (mask[i] === 0) {
        at = (at + stride) & NOISE_TABLE_MASK;
        const n = NOISE_TABLE[at]!;
        const vis = backgroundVisible * lit + visibleNoise * n;
        const ir = backgroundNir + nirNoise * n;
        visible[i] = vis < 0 ? 0 : vis;
        nir[i] = ir < 0 ? 0 : ir;
        continue;
      }
      let tx = (u - raster.uMin) * S,
        ty = (raster.vMax - v) * S;
      tx = tx < 0 ? 0 : tx > txMax ? txMax : tx;
      ty = ty < 0 ? 0 : ty > tyMax ? tyMax : ty;
      const ix = tx | 0,
        iy = ty | 0,
        fx = tx - ix,
        fy = ty - iy;
      const t = iy * tw + ix;
      const a = (1 - fx) * (1 - fy),
        b = fx * (1 - fy),
        cc = (1 - fx) * fy,
        d = fx * fy;
      const surface = a * texVisible[t]! + b * texVisible[t + 1]! + cc * texVisible[t + tw]! + d * texVisible[t + tw + 1]!;
      // A live hand is a curved, translucent body: it darkens towards its edges.
      const vc = v - 0.6;
      const curved = 1 - 0.09 * u * u - 0.025 * vc * vc;
      const shade = !flat ? (curved < 0.55 ? 0.55 : curved) : 1;
      let vis: number, ir: number;
      if (live) {
        vis = surface * shade * lit * c.visibleGain;
        ir = (a * texNir[t]! + b * texNir[t + 1]! + cc * texNir[t + tw]! + d * texNir[t + tw + 1]!) * shade * lit * c.nirGain;
      } else if (presentation === "printed-photo") {
        // Ink on paper: compressed dynamic range and a halftone screen; in NIR the paper is
        // bright and flat, and the (mostly NIR-transparent) inks leave only a faint imprint.
        const screen = Math.cos((2 * Math.PI * x) / halftone) * Math.cos((2 * Math.PI * y) / halftone);
        vis = (35 + 0.72 * surface * (1 + 0.1 * screen)) * lit * c.visibleGain;
        ir = (paperNir - 0.12 * (pattern.skinTone - surface)) * lit * c.nirGain;
      } else if (presentation === "screen-replay") {
        // A display: its pixel grid beats against the sensor's (moire); it emits no NIR, so the
        // NIR channel sees only faint, uniform reflection from the glass.
        const phase = (x * Math.cos(moireAngle) + y * Math.sin(moireAngle)) / moirePeriod;
        vis = (surface * (1 + 0.12 * Math.sin(2 * Math.PI * phase)) + 10) * lit * c.visibleGain;
        ir = 28 * c.nirGain;
      } else {
        // A silicone or latex hand: moulded creases, but no blood, so no veins in NIR.
        const crease = a * creases[t]! + b * creases[t + 1]! + cc * creases[t + tw]! + d * creases[t + tw + 1]!;
        vis = surface * shade * lit * c.visibleGain;
        ir = pattern.nirTone * (1 - 0.3 * crease) * shade * lit * c.nirGain;
      }
      at = (at + stride) & NOISE_TABLE_MASK;
      vis += visibleNoise * NOISE_TABLE[at]!;
      at = (at + stride) & NOISE_TABLE_MASK;
      ir += nirNoise * NOISE_TABLE[at]!;
      visible[i] = vis < 0 ? 0 : vis > 255 ? 255 : vis;
      nir[i] = ir < 0 ? 0 : ir > 255 ? 255 : ir;
    }
  }
  if (c.occluder !== undefined) {
    const o = c.occluder;
    const y0 = Math.max(0, Math.floor(o.y - o.ry)),
      y1 = Math.min(height - 1, Math.ceil(o.y + o.ry));
    for (let y = y0; y <= y1; y++) {
      const dy = (y - o.y) / o.ry;
      const half = o.rx * Math.sqrt(Math.max(0, 1 - dy * dy));
      const x0 = Math.max(0, Math.ceil(o.x - half)),
        x1 = Math.min(width - 1, Math.floor(o.x + half));
      if (x1 >= x0) {
        visible.fill(o.level, y * width + x0, y * width + x1 + 1);
        nir.fill(o.level * 0.8, y * width + x0, y * width + x1 + 1);
      }
    }
  }
  for (const channel of [visible, nir]) {
    if (c.defocus > 0) boxBlur(channel, width, height, c.defocus, work.scratch, handWindow);
    if (c.motionLength > 1) motionBlur(channel, width, height, c.motionLength, c.motionAngle, work.scratch, handWindow);
  }
  work.texture.visible.fill(0);
  work.texture.nir.fill(0);
  return { frame: { width, height, visible, nir, capturedAt }, conditions: c };
};
