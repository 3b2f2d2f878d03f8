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

export const signatureModelGraph = (design: SignatureModelDesign = SIGNATURE_MODEL_DESIGN): OnnxGraph => {
  const g = new GraphBuilder();
  const visible = g.input(MODEL_INPUT_VISIBLE, ["batch", 1, ROI_SIZE, ROI_SIZE]);
  const nir = g.input(MODEL_INPUT_NIR, ["batch", 1, ROI_SIZE, ROI_SIZE]);
  const surface = branch(g, visible, design.surface, "surface");
  const veins = branch(g, nir, design.veins, "veins");
  const joined = g.op("Concat", [surface, veins], { axis: intAttr(1) });
  const norm = g.op("ReduceL2", [joined, g.int64s("out_all", [1])], { keepdims: intAttr(1) });
  g.op("Div", [joined, g.op("Add", [norm, g.scalar("out_tiny", 1e-6)])], undefined, MODEL_OUTPUT_SIGNATURE);
  g.output(MODEL_OUTPUT_SIGNATURE, ["batch", signatureLength(design)]);
  return g.build("palm_signature", "palmline palm signature: Gabor orientation coding of surface and veins");
};

