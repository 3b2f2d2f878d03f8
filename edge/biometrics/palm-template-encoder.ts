// From the signature model's competitive-code responses to a palm template (core/palm-template.ts),
// and the probe's rotated variants. Per cell the winner is the orientation with the most negative
// response (dark lines); the cell's line energy is the mean response minus that minimum. The
// weakest MASKED_SHARE of a channel's cells are marked invalid: flat skin has no line to code and
// its winner is noise that only adds impostor-like disagreement. Cells whose centre a rotation
// takes outside the ROI are invalid too.
//
// The probe is also coded at a few small turns and scalings of its ROI (PROBE_VARIANTS); the
// matcher keeps the best. Only the probe carries them: the stored template is variant 0.
import { palmTemplateFromCells, type CodeBlockCells, type PalmTemplate, type TemplateChannel } from "../../core/palm-template.ts";
import { TEMPLATE_CODE_DESIGN } from "../../models/signature-model-graph.ts";
import { ROI_SIZE } from "./signature-model-contract.ts";

/** Share of each channel's cells, the lowest in line energy, left out of the comparison. */
export const MASKED_SHARE = 0.15;

/** A small turn and scaling of the ROI about its centre, at which the probe is also coded. */
export interface ProbeVariant {
  readonly degrees: number;
  /** Above 1 the ROI samples a larger region (the palm looks smaller). */
  readonly scale: number;
}

/** The variants the probe carries; the first, unchanged, is the stored template. Chosen on the
 *  development sets (docs/biometrics.md): contactless captures vary by several degrees and
 *  several per cent in scale even after localisation. */
export const PROBE_VARIANTS: readonly ProbeVariant[] = [
  { degrees: 0, scale: 1 },
  { degrees: -8, scale: 1 },
  { degrees: 8, scale: 1 },
  { degrees: 0, scale: 0.93 },
  { degrees: 0, scale: 1.07 },
];

const variantMap = ({ degrees, scale }: ProbeVariant) => {
  const a = (degrees * Math.PI) / 180,
    c = Math.cos(a) * scale,
    s = Math.sin(a) * scale,
    h = ROI_SIZE / 2 - 0.5;
  return (x: number, y: number): readonly [number, number] => [c * (x - h) - s * (y - h) + h, s * (x - h) + c * (y - h) + h];
};

/** The ROI turned and scaled about its centre (bilinear; samples beyond the border clamp to it). */
export const transformRoi = (roi: Float32Array, variant: ProbeVariant, out: Float32Array): void => {
  if (variant.degrees === 0 && variant.scale === 1) return void out.set(roi);
  const source = variantMap(variant),
    last = ROI_SIZE - 1.001;
  for (let y = 0; y < ROI_SIZE; y++) {
    for (let x = 0; x < ROI_SIZE; x++) {
      const [u, v] = source(x, y);
      const sx = Math.min(last, Math.max(0, u)),
        sy = Math.min(last, Math.max(0, v));
      const ix = Math.floor(sx),
        iy = Math.floor(sy),
        fx = sx - ix,
        fy = sy - iy,
        i = iy * ROI_SIZE + ix;
      const top = roi[i]! + (roi[i + 1]! - roi[i]!) * fx;
      const bottom = roi[i + ROI_SIZE]! + (roi[i + ROI_SIZE + 1]! - roi[i + ROI_SIZE]!) * fx;
      out[y * ROI_SIZE + x] = top + (bottom - top) * fy;
    }
  }
};

/** Per cell of the code grid: does its centre come from inside the ROI in this variant? */
export const cellsInside = (variant: ProbeVariant, grid = TEMPLATE_CODE_DESIGN.grid): Uint8Array => {
  const source = variantMap(variant),
    cell = ROI_SIZE / grid;
  const inside = new Uint8Array(grid * grid);
  for (let i = 0; i < inside.length; i++) {
    const [u, v] = source((i % grid) * cell + cell / 2, Math.floor(i / grid) * cell + cell / 2);
    inside[i] = u >= 0 && v >= 0 && u <= ROI_SIZE - 1 && v <= ROI_SIZE - 1 ? 1 : 0;
  }
  return inside;
};

/** One channel's cells from its responses ([orientations, grid, grid], one batch element). */
export const codeCells = (
  responses: Float32Array,
  inside: Uint8Array,
  maskedShare = MASKED_SHARE,
): CodeBlockCells & { readonly winners: Uint8Array; readonly valid: Uint8Array } => {
  const { orientations, grid } = TEMPLATE_CODE_DESIGN;
  const cells = grid * grid;
  const winners = new Uint8Array(cells),
    energy = new Float32Array(cells),
    valid = new Uint8Array(cells);
  for (let i = 0; i < cells; i++) {
    let min = Infinity,
      sum = 0;
    for (let o = 0; o < orientations; o++) {
      const v = responses[o * cells + i]!;
      sum += v;
      if (v < min) (min = v), (winners[i] = o);
    }
    energy[i] = sum / orientations - min;
  }
  const floor = maskedShare > 0 ? Float32Array.from(energy).sort()[Math.floor(maskedShare * cells)]! : -Infinity;
  for (let i = 0; i < cells; i++) valid[i] = energy[i]! >= floor && inside[i] === 1 ? 1 : 0;
  return { winners, valid };
};

export const templateFromResponses = (responses: Partial<Record<TemplateChannel, Float32Array>>, inside: Uint8Array): PalmTemplate => {
  const channels = (["surface", "veins"] as const).filter((c) => responses[c] !== undefined);
  const { orientations, grid } = TEMPLATE_CODE_DESIGN;
  return palmTemplateFromCells(
    { grid, orientations, scales: 1, channels },
    channels.map((c) => codeCells(responses[c]!, inside)),
  );
};
