// How two palm templates (core/palm-template.ts) are compared: per block (channel and scale) the
// mean angular distance between the two codes over the cells valid in both, in orientation steps
// scaled to [0, 1] (divided by N/2); blocks weighted per channel; the best (smallest) over shifts
// of the stored grid of up to `maxShift` cells in x and y, and over the probe's rotated variants
// (the probe is never stored, so it may carry its code at a few rotations). Similarity = 1 -
// distance: 1 for identical codes, about 0.5 for unrelated ones.
//
// A shift counts only when the cells valid in both cover at least `minOverlap` of the grid, so a
// near-empty overlap cannot produce a lucky score. With every cell valid and one channel this is
// the classic competitive-code distance with translated matching.
import { blockOffset, codePlanes, InvalidPalmTemplate, type PalmTemplate, type TemplateChannel } from "./palm-template.ts";

export interface TemplateMatchOptions {
  /** Largest shift tried along x and along y, in cells. */
  readonly maxShift: number;
  /** Least share of the grid's cells valid in both templates for a shift to be scored. */
  readonly minOverlap: number;
  /** Weight of each channel in the fused distance (channels present in both templates only). */
  readonly channelWeights: Readonly<Record<TemplateChannel, number>>;
  /** "exhaustive": every shift at every rotation. "coarse-to-fine": shifts on a 2-cell lattice
   *  with the probe's first (unrotated) variant, then every shift within one cell of the best one
   *  at every rotation; about a third of the work at +-4 cells and three rotations. */
  readonly search: "exhaustive" | "coarse-to-fine";
}

/** palmline's matching (docs/biometrics.md, chosen on the development sets): shifts of up to 5
 *  cells (1/6 of the ROI) with the coarse-to-fine search, channels weighted equally, a quarter of
 *  the grid valid in both at least. */
export const PALM_TEMPLATE_MATCHING: TemplateMatchOptions = {
  maxShift: 5,
  minOverlap: 0.25,
  channelWeights: { surface: 0.5, veins: 0.5 },
  search: "coarse-to-fine",
};

export const popcount32 = (x: number): number => {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
};

/** A probe prepared for many comparisons: its blocks' rows pre-shifted for every x shift. */
export interface PreparedProbe {
  readonly grid: number;
  readonly orientations: number;
  readonly scales: number;
  readonly channels: readonly TemplateChannel[];
  readonly rotations: number;
  readonly maxShift: number;
  /** [rotation][shift x index][words of the template], rows shifted so column x holds the probe's x - dx. */
  readonly shifted: readonly Uint32Array[];
}

const sameShape = (a: PalmTemplate, b: PalmTemplate): boolean => a.grid === b.grid && a.orientations === b.orientations && a.scales === b.scales;

export const prepareProbe = (variants: PalmTemplate | readonly PalmTemplate[], maxShift: number): PreparedProbe => {
  const list = Array.isArray(variants) ? (variants as readonly PalmTemplate[]) : [variants as PalmTemplate];
  const first = list[0];
  if (first === undefined) throw new InvalidPalmTemplate({ reason: "a probe needs at least one template" });
  for (const v of list) {
    if (!sameShape(v, first) || v.channels.join() !== first.channels.join())
      throw new InvalidPalmTemplate({ reason: "a probe's rotated variants differ in shape" });
  }
  const shifted: Uint32Array[] = [];
  for (const v of list) {
    for (let dx = -maxShift; dx <= maxShift; dx++) {
      // Column x of the shifted probe is column x - dx of the probe: a right shift by dx.
      const w = new Uint32Array(v.words.length);
      for (let i = 0; i < w.length; i++) w[i] = dx >= 0 ? (v.words[i]! << dx) >>> 0 : v.words[i]! >>> -dx;
      shifted.push(w);
    }
  }
  return { grid: first.grid, orientations: first.orientations, scales: first.scales, channels: first.channels, rotations: list.length, maxShift, shifted };
};

/** Similarity in [0, 1] of a prepared probe and a stored template; 0 when nothing overlaps. */
export const matchPrepared = (probe: PreparedProbe, stored: PalmTemplate, options: TemplateMatchOptions): number => {
  if (probe.grid !== stored.grid || probe.orientations !== stored.orientations || probe.scales !== stored.scales) {
    throw new InvalidPalmTemplate({ reason: "probe and stored template have different shapes" });
  }
  const grid = probe.grid,
    planes = codePlanes(probe),
    scales = probe.scales;
  const S = probe.maxShift;
  const minValid = options.minOverlap * grid * grid;
  // Blocks present in both: (probe offset, stored offset, weight).
  const blocks: number[] = [];
  for (let c = 0; c < probe.channels.length; c++) {
    const sc = stored.channels.indexOf(probe.channels[c]!);
    if (sc < 0) continue;
    const w = options.channelWeights[probe.channels[c]!] / scales;
    for (let s = 0; s < scales; s++) blocks.push(blockOffset(probe, c, s), blockOffset(stored, sc, s), w);
  }
  if (blocks.length === 0) return 0;
  const b = stored.words;
  // Weighted mean distance at one rotation and shift; Infinity when no block overlaps enough.
  const distance = (r: number, dx: number, dy: number): number => {
    const a = probe.shifted[r * (2 * S + 1) + dx + S]!;
    // Row y of the probe meets row y + dy of the stored template.
    const y0 = Math.max(0, -dy),
      y1 = Math.min(grid, grid - dy);
    let weighted = 0,
      weights = 0;
    for (let k = 0; k < blocks.length; k += 3) {
      const pa = blocks[k]!,
        pb = blocks[k + 1]!;
      let valid = 0,
        diff = 0;
      const ma = pa + planes * grid,
        mb = pb + planes * grid;
      for (let y = y0; y < y1; y++) {
        const m = a[ma + y]! & b[mb + y + dy]!;
        if (m === 0) continue;
        valid += popcount32(m);
        // Sum of the planes' disagreements per column as a 3-bit binary counter (ones, twos,
        // fours): three popcounts instead of one per plane (at most 7 planes, N <= 14).
        let ones = 0,
          twos = 0,
          fours = 0;
        for (let p = 0; p < planes; p++) {
          const x = (a[pa + p * grid + y]! ^ b[pb + p * grid + y + dy]!) & m;
          const carry = ones & x;
          ones ^= x;
          const carry2 = twos & carry;
          twos ^= carry;
          fours ^= carry2;
        }
        diff += popcount32(ones) + 2 * popcount32(twos) + 4 * popcount32(fours);
      }
      if (valid < minValid) continue;
      weighted += (blocks[k + 2]! * diff) / (planes * valid);
      weights += blocks[k + 2]!;
    }
    return weights === 0 ? Infinity : weighted / weights;
  };
  let best = Infinity;
  if (options.search === "exhaustive") {
    for (let r = 0; r < probe.rotations; r++) {
      for (let dx = -S; dx <= S; dx++) for (let dy = -S; dy <= S; dy++) best = Math.min(best, distance(r, dx, dy));
    }
  } else {
    let bx = 0,
      by = 0;
    for (let dx = -S + (S % 2); dx <= S; dx += 2) {
      for (let dy = -S + (S % 2); dy <= S; dy += 2) {
        const d = distance(0, dx, dy);
        if (d < best) (best = d), (bx = dx), (by = dy);
      }
    }
    for (let r = 0; r < probe.rotations; r++) {
      for (let dx = Math.max(-S, bx - 1); dx <= Math.min(S, bx + 1); dx++) {
        for (let dy = Math.max(-S, by - 1); dy <= Math.min(S, by + 1); dy++) best = Math.min(best, distance(r, dx, dy));
      }
    }
  }
  return best === Infinity ? 0 : 1 - best;
};

export const matchPalmTemplates = (probe: PalmTemplate | readonly PalmTemplate[], stored: PalmTemplate, options: TemplateMatchOptions): number =>
  matchPrepared(prepareProbe(probe, options.maxShift), stored, options);
