// The classic competitive code (Kong and Zhang, 2004), the reference palmline is measured against
// on the same ROIs by the same harness. Written from the method's published description:
//
// - six real Gabor filters, orientations j * 30 degrees, in the neurophysiology-based form
//   psi(x', y') = w / (sqrt(2 pi) k) * exp(-w^2 / (8 k^2) * (4 x'^2 + y'^2)) * (cos(w x') - exp(-k^2 / 2))
//   (x' across the line, y' along it), made exactly zero-mean (the same filter form as palmline's
//   template code, models/signature-model-graph.ts, with the method's own parameters);
// - on a 32x32 grid of the 128x128 ROI (one response per 4x4 cell, at its centre), each cell's
//   code is the orientation whose response is the most negative (palm lines are dark);
// - two codes compare by the angular distance min(|i - j|, 6 - |i - j|) averaged over the cells
//   that overlap, for every shift of up to 3 cells in x and y; the best shift wins.
//
// Codes are stored in palmline's template layout (core/palm-template.ts) with every cell valid,
// so the shifted angular distance is computed by the same bit-plane matcher as palmline's own.
import * as ort from "onnxruntime-node";
import { GraphBuilder } from "../../../models/onnx/graph-builder.ts";
import { serializeModel } from "../../../models/onnx/onnx-model.ts";
import { competitiveCodeResponses } from "../../../models/signature-model-graph.ts";
import { palmTemplateFromCells, type PalmTemplate, type TemplateChannel } from "../../../core/palm-template.ts";
import type { TemplateMatchOptions } from "../../../core/palm-template-matching.ts";
import { ROI_SIZE } from "../signature-model-contract.ts";
import type { PalmRoiChannels } from "../roi-sampler.ts";

export const COMPCODE = {
  orientations: 6,
  grid: 32,
  kernel: 35,
  /** Radial frequency (radians per pixel) and envelope width across the line, in pixels. */
  omega: 0.3666,
  sigma: 5.6179,
  maxShift: 3,
} as const;

/** Matching as the method defines it: shifts of +-3 cells, all cells count, channels weighted equally. */
export const COMPCODE_MATCHING: TemplateMatchOptions = {
  maxShift: COMPCODE.maxShift,
  minOverlap: 0,
  channelWeights: { surface: 1, veins: 1 },
  search: "exhaustive",
};

const responseModel = (): Uint8Array => {
  const g = new GraphBuilder();
  g.input("roi", ["batch", 1, ROI_SIZE, ROI_SIZE]);
  competitiveCodeResponses(g, "roi", { ...COMPCODE, downsample: 1 }, "compcode", "responses");
  g.output("responses", ["batch", COMPCODE.orientations, COMPCODE.grid, COMPCODE.grid]);
  return serializeModel(g.build("compcode"), { name: "palmline-eval", version: "1" });
};

export class CompCodeEncoder {
  readonly #session: ort.InferenceSession;
  private constructor(session: ort.InferenceSession) {
    this.#session = session;
  }

  static async load(): Promise<CompCodeEncoder> {
    return new CompCodeEncoder(await ort.InferenceSession.create(responseModel(), { intraOpNumThreads: 1 }));
  }

  async #winners(roi: Float32Array): Promise<Uint8Array> {
    const { orientations, grid } = COMPCODE;
    const out = await this.#session.run({ roi: new ort.Tensor("float32", roi, [1, 1, ROI_SIZE, ROI_SIZE]) });
    const r = out.responses!.data as Float32Array;
    const cells = grid * grid;
    const winners = new Uint8Array(cells);
    for (let i = 0; i < cells; i++) {
      let best = Infinity;
      for (let o = 0; o < orientations; o++) {
        const v = r[o * cells + i]!;
        if (v < best) (best = v), (winners[i] = o);
      }
    }
    return winners;
  }

  async encode(roi: PalmRoiChannels): Promise<PalmTemplate> {
    const channels: TemplateChannel[] = [];
    const blocks = [];
    const all = new Uint8Array(COMPCODE.grid * COMPCODE.grid).fill(1);
    if (roi.visible !== undefined) channels.push("surface"), blocks.push({ winners: await this.#winners(roi.visible), valid: all });
    if (roi.nir !== undefined) channels.push("veins"), blocks.push({ winners: await this.#winners(roi.nir), valid: all });
    return palmTemplateFromCells({ grid: COMPCODE.grid, orientations: COMPCODE.orientations, scales: 1, channels }, blocks);
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
