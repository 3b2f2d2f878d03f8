// Frame -> palm probe, on the scanner: frame checks -> palm localisation from the hand's shape
// (rotation- and scale-normalised ROI) -> quality gate on the palm -> liveness (when the frame has
// NIR) -> the signature model's competitive-code responses in onnxruntime-node -> template and its
// turned and scaled variants (palm-template-encoder.ts). Working buffers are zeroed after every extraction;
// pixels are never written anywhere but memory.
import * as ort from "onnxruntime-node";
import { fileURLToPath } from "node:url";
import type { PalmFrame } from "../../hardware/palm-sensor.ts";
import { checkFrameShape, measureQuality, requireQuality } from "./frame-quality.ts";
import { sampleRoi, wholeImageRoi, type PalmRoi, type PalmRoiChannels } from "./roi-sampler.ts";
import { locatePalm } from "./palm-localiser.ts";
import { PoorQuality, PresentationAttackSuspected } from "./capture-errors.ts";
import { assessLiveness, LIVENESS_THRESHOLD, type LivenessAssessment } from "./liveness-check.ts";
import {
  DEFAULT_MODEL_PATH,
  MODEL_INPUT_NIR,
  MODEL_INPUT_VISIBLE,
  MODEL_OUTPUT_SURFACE_CODE,
  MODEL_OUTPUT_VEINS_CODE,
  ROI_SIZE,
} from "./signature-model-contract.ts";
import type { PalmProbe } from "../../core/palm-template.ts";
import { cellsInside, PROBE_VARIANTS, templateFromResponses, transformRoi } from "./palm-template-encoder.ts";

/** How frames are framed: full hands that need localising, or palm crops used whole. */
export type PalmFraming = "hand" | "palm-crop";

/** Which channels feed the model: both when the frame has NIR ("fused"), or only one. */
export type ModelChannels = "fused" | "visible" | "nir";

export interface SignatureExtractorOptions {
  readonly framing?: PalmFraming;
  readonly channels?: ModelChannels;
  /** Check liveness on frames that have a NIR channel (default true). */
  readonly liveness?: boolean;
}

/** Share of the ROI that must lie on the hand for the palm to count as in view. Below 1 because
 *  something held against the palm's side may cover a corner of it: the covered cells cost some
 *  genuine score, far less than rejecting the capture (measured on synthetic training seeds). */
const MIN_ROI_ON_HAND = 0.85;

export class SignatureExtractor {
  readonly #session: ort.InferenceSession;
  readonly #framing: PalmFraming;
  readonly #liveness: boolean;
  readonly #channels: ModelChannels;
  readonly #visible = new Float32Array(ROI_SIZE * ROI_SIZE);
  readonly #nir = new Float32Array(ROI_SIZE * ROI_SIZE);

  private constructor(session: ort.InferenceSession, options: SignatureExtractorOptions) {
    this.#session = session;
    this.#framing = options.framing ?? "hand";
    this.#liveness = options.liveness ?? true;
    this.#channels = options.channels ?? "fused";
  }

  static async load(modelPath: string | URL = DEFAULT_MODEL_PATH, options: SignatureExtractorOptions = {}): Promise<SignatureExtractor> {
    const path = modelPath instanceof URL ? fileURLToPath(modelPath) : modelPath;
    // One intra-op thread: the latency budget is set for one core, and scanners run other work.
    const session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
    });
    return new SignatureExtractor(session, options);
  }

  /** The ROI the model would see, after the same checks as `extract` (for evaluating other
   *  methods on the same ROIs): copies the caller must zero after use; a channel the model is not
   *  fed is absent. */
  acquireRoi(frame: PalmFrame): PalmRoiChannels {
    try {
      const hasNir = this.#acquire(frame);
      return {
        ...(this.#channels === "nir" ? {} : { visible: this.#visible.slice() }),
        ...(hasNir && this.#channels !== "visible" ? { nir: this.#nir.slice() } : {}),
      };
    } finally {
      this.#visible.fill(0);
      this.#nir.fill(0);
    }
  }

  /** The palm probe of a frame: its template (variant 0, what enrolment stores) and the same
   *  capture coded at the small turns and scalings the matcher also tries (palm-template-encoder.ts).
   *  Fails with InvalidFrame, PoorQuality or PresentationAttackSuspected when the frame cannot
   *  give a trustworthy probe. */
  async extract(frame: PalmFrame): Promise<PalmProbe> {
    try {
      this.#acquire(frame);
      return await this.#probe(frame.nir !== undefined);
    } finally {
      this.#visible.fill(0);
      this.#nir.fill(0);
    }
  }

  /** The probe of an ROI from `acquireRoi`. */
  async probeOfRoi(roi: PalmRoiChannels): Promise<PalmProbe> {
    try {
      if (roi.visible !== undefined) this.#visible.set(roi.visible);
      if (roi.nir !== undefined) this.#nir.set(roi.nir);
      return await this.#probe(roi.nir !== undefined, roi.visible !== undefined);
    } finally {
      this.#visible.fill(0);
      this.#nir.fill(0);
    }
  }

  async #probe(hasNir: boolean, hasVisible = true): Promise<PalmProbe> {
    const useVisible = hasVisible && this.#channels !== "nir",
      useNir = hasNir && this.#channels !== "visible";
    const rotations = PROBE_VARIANTS.length,
      size = ROI_SIZE * ROI_SIZE;
    const visible = new Float32Array(rotations * size),
      nir = new Float32Array(rotations * size);
    try {
      PROBE_VARIANTS.forEach((variant, r) => {
        if (useVisible) transformRoi(this.#visible, variant, visible.subarray(r * size, (r + 1) * size));
        if (useNir) transformRoi(this.#nir, variant, nir.subarray(r * size, (r + 1) * size));
      });
      const dims = [rotations, 1, ROI_SIZE, ROI_SIZE];
      const result = await this.#session.run(
        { [MODEL_INPUT_VISIBLE]: new ort.Tensor("float32", visible, dims), [MODEL_INPUT_NIR]: new ort.Tensor("float32", nir, dims) },
        [MODEL_OUTPUT_SURFACE_CODE, MODEL_OUTPUT_VEINS_CODE],
      );
      const surface = result[MODEL_OUTPUT_SURFACE_CODE]!.data as Float32Array,
        veins = result[MODEL_OUTPUT_VEINS_CODE]!.data as Float32Array;
      const per = surface.length / rotations;
      try {
        return PROBE_VARIANTS.map((variant, r) =>
          templateFromResponses(
            {
              ...(useVisible ? { surface: surface.subarray(r * per, (r + 1) * per) } : {}),
              ...(useNir ? { veins: veins.subarray(r * per, (r + 1) * per) } : {}),
            },
            cellsInside(variant),
          ),
        );
      } finally {
        surface.fill(0);
        veins.fill(0);
      }
    } finally {
      visible.fill(0);
      nir.fill(0);
    }
  }

  /** Fills the ROI buffers from the frame (checks, localisation, quality, liveness); true when the
   *  NIR buffer holds a channel fed to the model. */
  #acquire(frame: PalmFrame): boolean {
    checkFrameShape(frame);
    const roi = this.#framing === "hand" ? this.#locate(frame) : wholeImageRoi(frame.width, frame.height);
    sampleRoi(frame.visible, frame.width, frame.height, roi, ROI_SIZE, this.#visible);
    requireQuality(measureQuality(this.#visible, ROI_SIZE, ROI_SIZE));
    if (frame.nir !== undefined) {
      sampleRoi(frame.nir, frame.width, frame.height, roi, ROI_SIZE, this.#nir);
      if (this.#liveness) {
        const live = assessLiveness(this.#visible, this.#nir, ROI_SIZE);
        if (live.score < LIVENESS_THRESHOLD) throw new PresentationAttackSuspected({ score: live.score, tell: live.tell });
      }
    } else this.#nir.fill(0);
    // A zero input contributes a zero block to the signature: the other channel alone decides.
    if (this.#channels === "visible") this.#nir.fill(0);
    if (this.#channels === "nir") this.#visible.fill(0);
    return frame.nir !== undefined;
  }

  /** Liveness of a frame on its own (for PAD evaluation); undefined without a NIR channel. */
  assessLiveness(frame: PalmFrame): LivenessAssessment | undefined {
    checkFrameShape(frame);
    if (frame.nir === undefined) return undefined;
    try {
      const roi = this.#framing === "hand" ? this.#locate(frame) : wholeImageRoi(frame.width, frame.height);
      sampleRoi(frame.visible, frame.width, frame.height, roi, ROI_SIZE, this.#visible);
      sampleRoi(frame.nir, frame.width, frame.height, roi, ROI_SIZE, this.#nir);
      return assessLiveness(this.#visible, this.#nir, ROI_SIZE);
    } finally {
      this.#visible.fill(0);
      this.#nir.fill(0);
    }
  }

  #locate(frame: PalmFrame): PalmRoi {
    const location = locatePalm(frame);
    const { roi, silhouette: s } = location;
    // The palm is wholly in view when the ROI's samples fall on the hand, inside the frame.
    const cos = Math.cos(roi.angle),
      sin = Math.sin(roi.angle);
    let on = 0,
      total = 0;
    for (let j = -4; j <= 4; j++) {
      for (let i = -4; i <= 4; i++) {
        const lx = (i / 8) * roi.side,
          ly = (j / 8) * roi.side;
        const x = Math.floor((roi.centreX + lx * cos - ly * sin) / s.factor);
        const y = Math.floor((roi.centreY + lx * sin + ly * cos) / s.factor);
        total++;
        if (x >= 0 && y >= 0 && x < s.width && y < s.height && s.mask[y * s.width + x] === 1) on++;
      }
    }
    s.mask.fill(0);
    if (on / total < MIN_ROI_ON_HAND) {
      throw new PoorQuality({ reason: "palm-not-in-view", detail: `${Math.round((100 * on) / total)}% of the palm region is on the hand` });
    }
    return roi;
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
