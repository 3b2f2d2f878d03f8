// The palm signature model: per channel (palm surface in visible light, vein pattern in
// near-infrared), a bank of real Gabor line filters sampled on the template's grid, whose
// responses the edge turns into a competitive-code template (edge/biometrics/palm-template-
// encoder.ts). Nothing is learned: the filters are the line detectors of the competitive code, so
// the model carries no bias from any training palms. An all-zero channel (no NIR) gives zero
// responses, which the encoder leaves out of the template.
import { GraphBuilder } from "./onnx/graph-builder.ts";
import { intsAttr, stringAttr, type OnnxGraph } from "./onnx/onnx-model.ts";
import {
  MODEL_INPUT_NIR,
  MODEL_INPUT_VISIBLE,
  MODEL_OUTPUT_SURFACE_CODE,
  MODEL_OUTPUT_VEINS_CODE,
  ROI_SIZE,
} from "../edge/biometrics/signature-model-contract.ts";

/**
 * The template's competitive code (core/palm-template.ts): real Gabor filters of the form used
 * by the competitive code, psi(x', y') = exp(-w^2 / (8 k^2) * (4 x'^2 + y'^2)) * (cos(w x') -
 * exp(-k^2 / 2)) with x' across the line and k = sigma * w, made exactly zero-mean and scaled to
 * unit energy; responses sampled at the centre of each grid cell. The winner (most negative
 * response: palm lines and veins are dark) and the line energy per cell are read by the edge
 * (edge/biometrics/palm-template-encoder.ts).
 */
export interface CompetitiveCodeDesign {
  readonly orientations: number;
  /** Radial frequency, radians per pixel of the (downsampled) ROI. */
  readonly omega: number;
  /** Envelope width across the line, pixels; along the line it is twice this. */
  readonly sigma: number;
  readonly kernel: number;
  /** Average-pool the ROI by this factor before filtering. */
  readonly downsample: number;
  /** Cells per side of the code grid. */
  readonly grid: number;
}

/** On the ROI pooled to 64x64 (a quarter of the filtering work; the same EER and d' as at full
 *  resolution on iitd-touchless, docs/biometrics.md), so wavelength and envelope are half those of
 *  the CompCode reference at 128x128 (omega 0.3666, sigma 5.6179, 35x35). */
export const TEMPLATE_CODE_DESIGN: CompetitiveCodeDesign = {
  orientations: 12,
  omega: 0.7332,
  sigma: 2.809,
  kernel: 17,
  downsample: 2,
  grid: 32,
};

export const competitiveCodeFilters = (d: Pick<CompetitiveCodeDesign, "orientations" | "omega" | "sigma" | "kernel">): Float32Array => {
  const { orientations, kernel, omega, sigma } = d;
  const kappa = sigma * omega;
  const half = (kernel - 1) / 2;
  const out = new Float32Array(orientations * kernel * kernel);
  for (let o = 0; o < orientations; o++) {
    const theta = (o * Math.PI) / orientations;
    const c = Math.cos(theta),
      s = Math.sin(theta);
    const base = o * kernel * kernel;
    let sum = 0;
    for (let y = 0; y < kernel; y++) {
      for (let x = 0; x < kernel; x++) {
        const dx = x - half,
          dy = y - half;
        const across = dx * c + dy * s,
          along = -dx * s + dy * c;
        const v =
          Math.exp(-((omega * omega) / (8 * kappa * kappa)) * (4 * across * across + along * along)) *
          (Math.cos(omega * across) - Math.exp(-(kappa * kappa) / 2));
        out[base + y * kernel + x] = v;
        sum += v;
      }
    }
    const mean = sum / (kernel * kernel);
    let energy = 0;
    for (let i = 0; i < kernel * kernel; i++) {
      out[base + i] = out[base + i]! - mean;
      energy += out[base + i]! ** 2;
    }
    const scale = 1 / Math.sqrt(energy);
    for (let i = 0; i < kernel * kernel; i++) out[base + i] = out[base + i]! * scale;
  }
  return out;
};

/** Responses at the centre of each cell: reflect-padded, strided convolution. */
export const competitiveCodeResponses = (g: GraphBuilder, input: string, d: CompetitiveCodeDesign, label: string, outputName?: string): string => {
  let x = input;
  if (d.downsample > 1) x = g.op("AveragePool", [x], { kernel_shape: intsAttr([d.downsample, d.downsample]), strides: intsAttr([d.downsample, d.downsample]) });
  const size = ROI_SIZE / d.downsample;
  const cell = size / d.grid;
  // Pad so that output cell c is centred on pixel c * cell + floor(cell / 2).
  const before = (d.kernel - 1) / 2 - Math.floor(cell / 2),
    after = d.kernel - 1 - before - (cell - 1);
  const padded = g.op("Pad", [x, g.int64s(`${label}_pads`, [0, 0, before, before, 0, 0, after, after])], { mode: stringAttr("reflect") });
  const weights = g.floats(`${label}_filters`, [d.orientations, 1, d.kernel, d.kernel], competitiveCodeFilters(d));
  return g.op("Conv", [padded, weights], { kernel_shape: intsAttr([d.kernel, d.kernel]), strides: intsAttr([cell, cell]) }, outputName);
};

export const signatureModelGraph = (code: CompetitiveCodeDesign = TEMPLATE_CODE_DESIGN): OnnxGraph => {
  const g = new GraphBuilder();
  const visible = g.input(MODEL_INPUT_VISIBLE, ["batch", 1, ROI_SIZE, ROI_SIZE]);
  const nir = g.input(MODEL_INPUT_NIR, ["batch", 1, ROI_SIZE, ROI_SIZE]);
  competitiveCodeResponses(g, visible, code, "surface_code", MODEL_OUTPUT_SURFACE_CODE);
  competitiveCodeResponses(g, nir, code, "veins_code", MODEL_OUTPUT_VEINS_CODE);
  g.output(MODEL_OUTPUT_SURFACE_CODE, ["batch", code.orientations, code.grid, code.grid]);
  g.output(MODEL_OUTPUT_VEINS_CODE, ["batch", code.orientations, code.grid, code.grid]);
  return g.build("palm_signature", "palmline palm signature: Gabor orientation coding of surface and veins");
};
