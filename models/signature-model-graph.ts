// The palm signature model: orientation coding of the palm surface (visible) and of the vein
// pattern (near-infrared), pooled into a fixed-length vector. Nothing is learned: the filters are
// Gabor line detectors (as in CompCode), so the model carries no bias from any training palms.
//
// Per channel: even Gabor bank (dark lines give strongly negative responses at the line's
// orientation) -> per-pixel normalisation across orientations -> soft competitive code
// (softmax of the negated responses) centred to zero mean -> average pooling over a grid of
// cells -> L2 normalisation. The two channel vectors are weighted, concatenated and renormalised,
// so the cosine of two signatures is a weighted mean of the per-channel cosines. An all-zero
// channel (no NIR) contributes a zero block and leaves the other channel's scores unchanged.
import { GraphBuilder } from "./onnx/graph-builder.ts";
import { intAttr, intsAttr, stringAttr, type OnnxGraph } from "./onnx/onnx-model.ts";
import {
  MODEL_INPUT_NIR,
  MODEL_INPUT_VISIBLE,
  MODEL_OUTPUT_SIGNATURE,
  MODEL_OUTPUT_SURFACE_CODE,
  MODEL_OUTPUT_VEINS_CODE,
  ROI_SIZE,
} from "../edge/biometrics/signature-model-contract.ts";

export interface OrientationBranch {
  /** Number of filter orientations, evenly spaced over 180 degrees. */
  readonly orientations: number;
  /** Gabor wavelength across the line, in pixels of the branch's working resolution. */
  readonly wavelength: number;
  /** Envelope sigma across and along the line, in pixels. */
  readonly sigmaAcross: number;
  readonly sigmaAlong: number;
  readonly kernel: number;
  /** Average-pool the ROI by this factor before filtering (veins need less resolution). */
  readonly downsample: number;
  readonly stride: number;
  /** Sharpness of the soft competition between orientations. */
  readonly sharpness: number;
  /** Cells per side of the pooling grid. */
  readonly grid: number;
  /** Pool over cells twice the grid pitch, so a line moving across a cell border is not lost. */
  readonly overlap: boolean;
  /** Weight each pixel's code by its line energy relative to the ROI's mean energy. */
  readonly energyWeighted: boolean;
  /** Share of the final vector's energy. */
  readonly weight: number;
}

export interface SignatureModelDesign {
  readonly surface: OrientationBranch;
  readonly veins: OrientationBranch;
}

export const SIGNATURE_MODEL_DESIGN: SignatureModelDesign = {
  surface: {
    orientations: 8,
    wavelength: 12,
    sigmaAcross: 3.5,
    sigmaAlong: 7,
    kernel: 21,
    downsample: 1,
    stride: 2,
    sharpness: 3,
    grid: 16,
    overlap: true,
    energyWeighted: false,
    weight: 0.6,
  },
  veins: {
    orientations: 8,
    wavelength: 10,
    sigmaAcross: 3,
    sigmaAlong: 5,
    kernel: 17,
    downsample: 2,
    stride: 2,
    sharpness: 3,
    grid: 8,
    overlap: true,
    energyWeighted: false,
    weight: 0.4,
  },
};

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
    const c = Math.cos(theta), s = Math.sin(theta);
    const base = o * kernel * kernel;
    let sum = 0;
    for (let y = 0; y < kernel; y++) {
      for (let x = 0; x < kernel; x++) {
        const dx = x - half, dy = y - half;
        const across = dx * c + dy * s, along = -dx * s + dy * c;
        const v = Math.exp(-((omega * omega) / (8 * kappa * kappa)) * (4 * across * across + along * along)) * (Math.cos(omega * across) - Math.exp(-(kappa * kappa) / 2));
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
  const before = (d.kernel - 1) / 2 - Math.floor(cell / 2), after = d.kernel - 1 - before - (cell - 1);
  const padded = g.op("Pad", [x, g.int64s(`${label}_pads`, [0, 0, before, before, 0, 0, after, after])], { mode: stringAttr("reflect") });
  const weights = g.floats(`${label}_filters`, [d.orientations, 1, d.kernel, d.kernel], competitiveCodeFilters(d));
  return g.op("Conv", [padded, weights], { kernel_shape: intsAttr([d.kernel, d.kernel]), strides: intsAttr([cell, cell]) }, outputName);
};

export const branchLength = (b: OrientationBranch): number => b.orientations * b.grid * b.grid;

export const signatureLength = (d: SignatureModelDesign): number => branchLength(d.surface) + branchLength(d.veins);

/** Zero-mean even Gabor kernels, one per orientation, shaped [K, 1, k, k]. */
export const gaborBank = (b: OrientationBranch): Float32Array => {
  const k = b.kernel;
  const half = (k - 1) / 2;
  const out = new Float32Array(b.orientations * k * k);
  for (let o = 0; o < b.orientations; o++) {
    const theta = (o * Math.PI) / b.orientations;
    const cos = Math.cos(theta), sin = Math.sin(theta);
    const base = o * k * k;
    // along: the line's direction at angle theta; across: perpendicular to it.
    const placed = (x: number, y: number) => {
      const dx = x - half, dy = y - half;
      const along = dx * cos + dy * sin;
      const across = -dx * sin + dy * cos;
      return { across, envelope: Math.exp(-(across * across) / (2 * b.sigmaAcross ** 2) - (along * along) / (2 * b.sigmaAlong ** 2)) };
    };
    let envelopeSum = 0;
    let weightedSum = 0;
    for (let y = 0; y < k; y++) {
      for (let x = 0; x < k; x++) {
        const { across, envelope } = placed(x, y);
        out[base + y * k + x] = envelope * Math.cos((2 * Math.PI * across) / b.wavelength);
        envelopeSum += envelope;
        weightedSum += out[base + y * k + x]!;
      }
    }
    // Remove the DC response with the envelope's shape, so flat illumination gives zero.
    let energy = 0;
    for (let y = 0; y < k; y++) {
      for (let x = 0; x < k; x++) {
        const { envelope } = placed(x, y);
        const v = out[base + y * k + x]! - (envelope * weightedSum) / envelopeSum;
        out[base + y * k + x] = v;
        energy += v * v;
      }
    }
    const scale = 1 / Math.sqrt(energy);
    for (let i = 0; i < k * k; i++) out[base + i] = out[base + i]! * scale;
  }
  return out;
};

const branch = (g: GraphBuilder, input: string, b: OrientationBranch, label: string): string => {
  let x = input;
  if (b.downsample > 1) {
    x = g.op("AveragePool", [x], { kernel_shape: intsAttr([b.downsample, b.downsample]), strides: intsAttr([b.downsample, b.downsample]) });
  }
  // Mirror the borders so the ROI's edges do not read as lines.
  const pad = (b.kernel - 1) / 2;
  const padded = g.op("Pad", [x, g.int64s(`${label}_pads`, [0, 0, pad, pad, 0, 0, pad, pad])], { mode: stringAttr("reflect") });
  const weights = g.floats(`${label}_gabor`, [b.orientations, 1, b.kernel, b.kernel], gaborBank(b));
  const response = g.op("Conv", [padded, weights], {
    kernel_shape: intsAttr([b.kernel, b.kernel]),
    strides: intsAttr([b.stride, b.stride]),
  });
  // Normalise each pixel's responses by their RMS over orientations: contrast-invariant coding.
  const squared = g.op("Mul", [response, response]);
  const meanSquare = g.op("ReduceMean", [squared, g.int64s(`${label}_axis`, [1])], { keepdims: intAttr(1) });
  const rms = g.op("Sqrt", [g.op("Add", [meanSquare, g.scalar(`${label}_eps`, 1e-3)])]);
  const normalised = g.op("Div", [response, rms]);
  const code = g.op("Softmax", [g.op("Mul", [normalised, g.scalar(`${label}_sharpness`, -b.sharpness)])], { axis: intAttr(1) });
  let centred = g.op("Sub", [code, g.scalar(`${label}_chance`, 1 / b.orientations)]);
  if (b.energyWeighted) {
    const meanRms = g.op("ReduceMean", [rms, g.int64s(`${label}_spatial`, [2, 3])], { keepdims: intAttr(1) });
    centred = g.op("Mul", [centred, g.op("Div", [rms, g.op("Add", [meanRms, g.scalar(`${label}_eps2`, 1e-3)])])]);
  }
  const size = ROI_SIZE / b.downsample / b.stride;
  const cell = size / b.grid;
  const pooled = b.overlap
    ? g.op("AveragePool", [centred], {
        kernel_shape: intsAttr([2 * cell, 2 * cell]),
        strides: intsAttr([cell, cell]),
        pads: intsAttr([cell / 2, cell / 2, cell / 2, cell / 2]),
        count_include_pad: intAttr(0),
      })
    : g.op("AveragePool", [centred], { kernel_shape: intsAttr([cell, cell]), strides: intsAttr([cell, cell]) });
  const flat = g.op("Flatten", [pooled], { axis: intAttr(1) });
  return l2Normalise(g, flat, label, b.weight);
};

const l2Normalise = (g: GraphBuilder, x: string, label: string, weight: number): string => {
  const norm = g.op("ReduceL2", [x, g.int64s(`${label}_all`, [1])], { keepdims: intAttr(1) });
  const safe = g.op("Add", [norm, g.scalar(`${label}_tiny`, 1e-6)]);
  return g.op("Mul", [g.op("Div", [x, safe]), g.scalar(`${label}_weight`, Math.sqrt(weight))]);
};

export const signatureModelGraph = (design: SignatureModelDesign = SIGNATURE_MODEL_DESIGN, code: CompetitiveCodeDesign = TEMPLATE_CODE_DESIGN): OnnxGraph => {
  const g = new GraphBuilder();
  const visible = g.input(MODEL_INPUT_VISIBLE, ["batch", 1, ROI_SIZE, ROI_SIZE]);
  const nir = g.input(MODEL_INPUT_NIR, ["batch", 1, ROI_SIZE, ROI_SIZE]);
  const surface = branch(g, visible, design.surface, "surface");
  const veins = branch(g, nir, design.veins, "veins");
  const joined = g.op("Concat", [surface, veins], { axis: intAttr(1) });
  const norm = g.op("ReduceL2", [joined, g.int64s("out_all", [1])], { keepdims: intAttr(1) });
  g.op("Div", [joined, g.op("Add", [norm, g.scalar("out_tiny", 1e-6)])], undefined, MODEL_OUTPUT_SIGNATURE);
  g.output(MODEL_OUTPUT_SIGNATURE, ["batch", signatureLength(design)]);
  competitiveCodeResponses(g, visible, code, "surface_code", MODEL_OUTPUT_SURFACE_CODE);
  competitiveCodeResponses(g, nir, code, "veins_code", MODEL_OUTPUT_VEINS_CODE);
  g.output(MODEL_OUTPUT_SURFACE_CODE, ["batch", code.orientations, code.grid, code.grid]);
  g.output(MODEL_OUTPUT_VEINS_CODE, ["batch", code.orientations, code.grid, code.grid]);
  return g.build("palm_signature", "palmline palm signature: Gabor orientation coding of surface and veins");
};

