// The compact vector the index (FAISS shards) searches to short-list candidates for the template
// matcher, computed from the template alone so the cloud need store only the template. Per
// channel, the template's code grid is pooled into a coarse grid of overlapping regions (twice
// the pitch, so a line near a region border is not lost), each a histogram of its valid cells'
// winning orientations minus the share chance would give; each channel L2-normalised and weighted,
// the whole renormalised. Inner product = cosine, as before. Both channel blocks are always
// present (zeros for a channel the template lacks), so visible-only vectors compare with fused ones
// on the surface block.
import { PALM_TEMPLATE_MATCHING } from "./palm-template-matching.ts";
import { cellOrientation, cellValid, InvalidPalmTemplate, type PalmTemplate, type TemplateChannel } from "./palm-template.ts";
import { toPalmVector, type PalmVector } from "./palm-vector.ts";

/** Coarse regions per side of the pooling grid. */
export const VECTOR_POOL_GRID = 4;
const CHANNELS: readonly TemplateChannel[] = ["surface", "veins"];

export const palmVectorDimension = (orientations: number): number => CHANNELS.length * VECTOR_POOL_GRID * VECTOR_POOL_GRID * orientations;

export const palmTemplateVector = (t: PalmTemplate, channelWeights: Readonly<Record<TemplateChannel, number>>): PalmVector => {
  const n = t.orientations,
    pool = VECTOR_POOL_GRID;
  const block = pool * pool * n;
  const out = new Float64Array(CHANNELS.length * block);
  const pitch = t.grid / pool;
  CHANNELS.forEach((channel, c) => {
    const ci = t.channels.indexOf(channel);
    if (ci < 0) return;
    const base = c * block;
    for (let s = 0; s < t.scales; s++) {
      for (let y = 0; y < t.grid; y++) {
        for (let x = 0; x < t.grid; x++) {
          if (!cellValid(t, ci, s, x, y)) continue;
          const k = cellOrientation(t, ci, s, x, y);
          // Regions of side 2 * pitch centred on the pooling grid: a cell falls in up to 2 x 2 of them.
          const rx0 = Math.max(0, Math.ceil((x + 0.5) / pitch - 1.5)),
            rx1 = Math.min(pool - 1, Math.floor((x + 0.5) / pitch + 0.5));
          const ry0 = Math.max(0, Math.ceil((y + 0.5) / pitch - 1.5)),
            ry1 = Math.min(pool - 1, Math.floor((y + 0.5) / pitch + 0.5));
          for (let ry = ry0; ry <= ry1; ry++) {
            for (let rx = rx0; rx <= rx1; rx++) {
              const region = base + (ry * pool + rx) * n;
              for (let o = 0; o < n; o++) out[region + o] = out[region + o]! - 1 / n;
              out[region + k] = out[region + k]! + 1;
            }
          }
        }
      }
    }
    let norm = 0;
    for (let i = base; i < base + block; i++) norm += out[i]! ** 2;
    const scale = norm > 0 ? Math.sqrt(channelWeights[channel]) / Math.sqrt(norm) : 0;
    for (let i = base; i < base + block; i++) out[i] = out[i]! * scale;
  });
  return toPalmVector(out, out.length);
};

/** Orientations of the templates the region indexes (the signature model's code design). */
export const INDEXED_ORIENTATIONS = 12;
/** Dimension of the shards' vectors. */
export const PALM_VECTOR_DIMENSION = palmVectorDimension(INDEXED_ORIENTATIONS);

/** The vector the shards index and search for a template: channels weighted as the matcher weighs them. */
export const palmIndexVector = (t: PalmTemplate): PalmVector => {
  if (t.orientations !== INDEXED_ORIENTATIONS)
    throw new InvalidPalmTemplate({ reason: `the index takes templates of ${INDEXED_ORIENTATIONS} orientations, not ${t.orientations}` });
  return palmTemplateVector(t, PALM_TEMPLATE_MATCHING.channelWeights);
};
