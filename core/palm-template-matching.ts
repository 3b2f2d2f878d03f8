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
}

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

const sameShape = (a: PalmTemplate, b: PalmTemplate): boolean =>
  a.grid === b.grid && a.orientations === b.orientations && a.scales === b.scales;

export const prepareProbe = (variants: PalmTemplate | readonly PalmTemplate[], maxShift: number): PreparedProbe => {
  const list = Array.isArray(variants) ? (variants as readonly PalmTemplate[]) : [variants as PalmTemplate];
  const first = list[0];
  if (first === undefined) throw new InvalidPalmTemplate({ reason: "a probe needs at least one template" });
  for (const v of list) {
    if (!sameShape(v, first) || v.channels.join() !== first.channels.join()) throw new InvalidPalmTemplate({ reason: "a probe's rotated variants differ in shape" });
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
  const grid = probe.grid, planes = codePlanes(probe), scales = probe.scales;
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
  let best = Infinity;
  for (let r = 0; r < probe.rotations; r++) {
    for (let ix = 0; ix <= 2 * S; ix++) {
      const a = probe.shifted[r * (2 * S + 1) + ix]!;
      for (let dy = -S; dy <= S; dy++) {
        // Row y of the probe meets row y + dy of the stored template.
        const y0 = Math.max(0, -dy), y1 = Math.min(grid, grid - dy);
        let weighted = 0, weights = 0;
        for (let k = 0; k < blocks.length; k += 3) {
          const pa = blocks[k]!, pb = blocks[k + 1]!;
          let valid = 0, diff = 0;
          const ma = pa + planes * grid, mb = pb + planes * grid;
          for (let y = y0; y < y1; y++) {
            const m = a[ma + y]! & b[mb + y + dy]!;
            if (m === 0) continue;
            valid += popcount32(m);
            for (let p = 0; p < planes; p++) diff += popcount32((a[pa + p * grid + y]! ^ b[pb + p * grid + y + dy]!) & m);
          }
          if (valid < minValid) continue;
          weighted += (blocks[k + 2]! * diff) / (planes * valid);
          weights += blocks[k + 2]!;
        }
        if (weights === 0) continue;
        const d = weighted / weights;
        if (d < best) best = d;
      }
    }
  }
  return best === Infinity ? 0 : 1 - best;
};

export const matchPalmTemplates = (
  probe: PalmTemplate | readonly PalmTemplate[],
  stored: PalmTemplate,
  options: TemplateMatchOptions,
): number => matchPrepared(prepareProbe(probe, options.maxShift), stored, options);
