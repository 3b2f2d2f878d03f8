// A finer, slower comparison of two palm signatures for the few candidates the index returns.
//
// The signature is a spatial orientation code: per channel, a grid of cells, each holding a pooled
// response per line orientation (models/signature-model-graph.ts). The index compares cells in
// place, so a palm region found slightly shifted, turned or scaled in one capture loses score.
// Here one signature's grid is resampled under a small similarity transform (shift, rotation,
// scale; a rotation also turns the orientation axis) and the best cosine over the overlapping
// cells is kept, in the spirit of the shifted matching of CompCode and its successors. The search
// is a coarse grid of shifts followed by coordinate descent, which is deterministic and cheap
// enough (about a millisecond) to re-rank a short list.
import type { PalmSignature } from "./palm-signature.ts";

/** One channel's block in the signature: `orientations x grid x grid`, row-major, cells then
 *  orientations outermost, as the model flattens [orientations, grid, grid]. */
export interface CodeBlock {
  readonly offset: number;
  readonly orientations: number;
  readonly grid: number;
  /** Share of the signature's energy the model gives this block. */
  readonly weight: number;
}

/** The signature model's layout (checked against the model's design by a test). */
export const SIGNATURE_CODE_BLOCKS: readonly CodeBlock[] = [
  { offset: 0, orientations: 8, grid: 16, weight: 0.6 },
  { offset: 2048, orientations: 8, grid: 8, weight: 0.4 },
];

/** Decision threshold on finePalmScore for a false-match rate of 1e-4 per comparison, like
 *  MATCH_THRESHOLD: `npm run eval -- --synthetic 2000 --captures 6` (69,927,505 impostor pairs,
 *  those short-listed re-scored) put the two-stage 1e-4 operating point at 0.5278; rounded up
 *  (docs/biometrics.md). Only meaningful for pairs short-listed by FINE_SHORTLIST_THRESHOLD. */
export const FINE_MATCH_THRESHOLD = 0.53;

/** First-stage cosine a candidate needs to be re-scored at all. Below it nearly every pair is an
 *  impostor (0.4 % of impostor pairs reach it; 0.024 % of genuine pairs fall below it), and the
 *  fine search lifts impostor scores too, so re-scoring them would only add false matches. */
export const FINE_SHORTLIST_THRESHOLD = 0.35;

// Scratch for the orientation channels a pose reads from (fine comparisons run one at a time).
const ORIENTATION_OFFSETS = new Int32Array(64);
const NEXT_ORIENTATION_OFFSETS = new Int32Array(64);

interface Pose {
  /** Shift in ROI widths. */
  readonly tx: number;
  readonly ty: number;
  /** Radians. */
  readonly rotation: number;
  readonly scale: number;
}

const IDENTITY: Pose = { tx: 0, ty: 0, rotation: 0, scale: 1 };
/** A cell of the finest grid (16 cells across the ROI). */
const CELL = 1 / 16;
const DEGREE = Math.PI / 180;
/** Coordinate-descent steps per parameter, coarse to fine; bounded by the localiser's measured
 *  errors (about 0.05 ROI widths, 2 degrees, 5 % scale) with a margin. */
const REFINE_STEPS: readonly Pose[] = [
  { tx: CELL / 2, ty: CELL / 2, rotation: 3 * DEGREE, scale: 0.04 },
  { tx: CELL / 4, ty: CELL / 4, rotation: 1.5 * DEGREE, scale: 0.02 },
];
const MAX_SHIFT = 1.5 * CELL;
const MAX_ROTATION = 6 * DEGREE;
const MAX_SCALE_CHANGE = 0.08;

/** Weighted cosine of `a` against `b` seen through `pose`, over the cells that stay in view. */
const scoreAt = (a: PalmSignature, b: PalmSignature, pose: Pose): number => {
  let total = 0, weights = 0;
  const cos = Math.cos(pose.rotation) * pose.scale, sin = Math.sin(pose.rotation) * pose.scale;
  for (const block of SIGNATURE_CODE_BLOCKS) {
    const { offset, orientations: k, grid: g } = block;
    const plane = g * g;
    // A line turned by the rotation reads on a neighbouring orientation channel.
    const turn = (pose.rotation / Math.PI) * k;
    const low = Math.floor(turn), frac = turn - low;
    const from0 = ORIENTATION_OFFSETS, from1 = NEXT_ORIENTATION_OFFSETS;
    for (let o = 0; o < k; o++) {
      from0[o] = offset + (((o + low) % k) + k) % k * plane;
      from1[o] = offset + (((o + low + 1) % k) + k) % k * plane;
    }
    let dot = 0, normA = 0, normB = 0;
    for (let y = 0; y < g; y++) {
      const py = (y + 0.5) / g - 0.5;
      for (let x = 0; x < g; x++) {
        const px = (x + 0.5) / g - 0.5;
        const qx = (cos * px - sin * py + pose.tx + 0.5) * g - 0.5;
        const qy = (sin * px + cos * py + pose.ty + 0.5) * g - 0.5;
        if (qx < 0 || qy < 0 || qx > g - 1 || qy > g - 1) continue;
        const x0 = Math.min(g - 2, Math.floor(qx)), y0 = Math.min(g - 2, Math.floor(qy));
        const fx = qx - x0, fy = qy - y0;
        const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
        const cell = y0 * g + x0;
        for (let o = 0; o < k; o++) {
          const va = a[offset + o * plane + y * g + x]!;
          const o0 = from0[o]! + cell, o1 = from1[o]! + cell;
          const s0 = w00 * b[o0]! + w01 * b[o0 + 1]! + w10 * b[o0 + g]! + w11 * b[o0 + g + 1]!;
          const s1 = w00 * b[o1]! + w01 * b[o1 + 1]! + w10 * b[o1 + g]! + w11 * b[o1 + g + 1]!;
          const vb = s0 + (s1 - s0) * frac;
          dot += va * vb;
          normA += va * va;
          normB += vb * vb;
        }
      }
    }
    // A channel missing from either capture (no NIR) has no say, as in the first stage.
    if (normA < 1e-12 || normB < 1e-12) continue;
    total += block.weight * (dot / Math.sqrt(normA * normB));
    weights += block.weight;
  }
  return weights === 0 ? 0 : total / weights;
};

const within = (p: Pose): boolean =>
  Math.abs(p.tx) <= MAX_SHIFT &&
  Math.abs(p.ty) <= MAX_SHIFT &&
  Math.abs(p.rotation) <= MAX_ROTATION &&
  Math.abs(p.scale - 1) <= MAX_SCALE_CHANGE;

/** Best weighted cosine of two signatures over small shifts, rotations and scalings of their
 *  spatial code, in [-1, 1]; compare with FINE_MATCH_THRESHOLD. */
export const finePalmScore = (a: PalmSignature, b: PalmSignature): number => {
  let best = IDENTITY, bestScore = scoreAt(a, b, IDENTITY);
  // Coarse: whole-cell shifts, where the score surface has its widest basins.
  for (const ty of [-CELL, 0, CELL]) {
    for (const tx of [-CELL, 0, CELL]) {
      if (tx === 0 && ty === 0) continue;
      const pose = { ...IDENTITY, tx, ty };
      const s = scoreAt(a, b, pose);
      if (s > bestScore) (bestScore = s), (best = pose);
    }
  }
  // Fine: coordinate descent on each parameter, halving the steps.
  for (const step of REFINE_STEPS) {
    for (const key of ["tx", "ty", "rotation", "scale"] as const) {
      for (const sign of [-1, 1]) {
        const pose = { ...best, [key]: best[key] + sign * step[key] };
        if (!within(pose)) continue;
        const s = scoreAt(a, b, pose);
        if (s > bestScore) (bestScore = s), (best = pose);
      }
    }
  }
  return bestScore;
};
