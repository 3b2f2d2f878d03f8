// A generator of synthetic signatures shaped like the real model's output, for benchmarks at
// sizes no sensor could capture. Fitted from the real pipeline: simulated palms
// (hardware/simulated-palm-sensor.ts) through the real ONNX signature extractor.
//
// What is kept from the model: the mean signature; the between-identity covariance (each
// identity's mean capture minus the global mean, one basis vector per fitted palm); the
// within-identity covariance (each capture minus its identity's mean). A sample draws a random
// subset of basis vectors with Gaussian weights, which has exactly the fitted covariance; an
// isotropic component on top (a share of the between-identity energy) stands for the directions
// a few hundred palms cannot reveal, so the synthetic identities are not confined to a subspace
// as small as the fit itself (that would flatter a PCA-projected index).
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { toPalmSignature, type PalmSignature } from "../../core/palm-signature.ts";

export interface SignatureDistribution {
  readonly dimension: number;
  readonly mean: Float32Array;
  readonly between: readonly Float32Array[];
  readonly within: readonly Float32Array[];
  /** Per-dimension standard deviation of the isotropic part of an identity's centre. */
  readonly isotropicSd: number;
  /** Mean cosine of two captures of one fitted palm, and of two different palms (for comparison). */
  readonly fittedGenuine: number;
  readonly fittedImpostor: number;
}

const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

export const fitSignatureDistribution = async (options: { palms: number; capturesPerPalm: number; isotropicShare: number; progress: (line: string) => void }): Promise<SignatureDistribution> => {
  const extractor = await SignatureExtractor.load();
  const perPalm: PalmSignature[][] = [];
  for (let p = 0; p < options.palms; p++) {
    const sensor = new SimulatedPalmSensor({ seed: 9_000 + p });
    sensor.present({ subjectSeed: 70_000 + p, side: p % 2 === 0 ? "left" : "right" });
    const captures: PalmSignature[] = [];
    for (let c = 0; c < options.capturesPerPalm + 2 && captures.length < options.capturesPerPalm; c++) {
      try {
        captures.push(await extractor.extract(await sensor.capture()));
      } catch {
        // A capture the pipeline rejects (quality) is not part of the model's output distribution.
      }
    }
    if (captures.length >= 2) perPalm.push(captures);
    if (p % 40 === 39) options.progress(`fit: ${p + 1}/${options.palms} palms through the real model`);
  }
  const dimension = perPalm[0]![0]!.length;
  const centres = perPalm.map((captures) => {
    const c = new Float32Array(dimension);
    for (const s of captures) for (let i = 0; i < dimension; i++) c[i] = c[i]! + s[i]! / captures.length;
    return c;
  });
  const mean = new Float32Array(dimension);
  for (const c of centres) for (let i = 0; i < dimension; i++) mean[i] = mean[i]! + c[i]! / centres.length;
  const between = centres.map((c) => c.map((v, i) => v - mean[i]!));
  const within = perPalm.flatMap((captures, p) =>
    // Residuals of k captures around their own mean shrink by (k-1)/k; scaled back up.
    captures.map((s) => s.map((v, i) => (v - centres[p]![i]!) * Math.sqrt(captures.length / (captures.length - 1)))),
  );
  const betweenEnergy = between.reduce((n, b) => n + dot(b, b), 0) / between.length;
  let genuine = 0;
  let genuinePairs = 0;
  for (const captures of perPalm) {
    for (let a = 0; a < captures.length; a++) for (let b = a + 1; b < captures.length; b++) (genuine += dot(captures[a]!, captures[b]!)), genuinePairs++;
  }
  let impostor = 0;
  for (let p = 1; p < perPalm.length; p++) impostor += dot(perPalm[p - 1]![0]!, perPalm[p]![0]!);
  return {
    dimension,
    mean,
    between,
    within,
    isotropicSd: Math.sqrt((options.isotropicShare * betweenEnergy) / dimension),
    fittedGenuine: genuine / genuinePairs,
    fittedImpostor: impostor / (perPalm.length - 1),
  };
};

/** Fast seeded normals: xorshift32 indexing a table of normal quantiles (benchmark-grade). */
const NORMAL_TABLE = (() => {
  const t = new Float32Array(1 << 16);
  for (let i = 0; i < t.length; i++) {
    // Box–Muller on a regular grid, shuffled by the PRNG at use.
    const u1 = (i + 0.5) / t.length;
    const u2 = ((i * 40503) % t.length) / t.length;
    t[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return t;
})();

const rng = (seed: number) => {
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
};

const SUBSET = 8;

const addCombination = (out: Float32Array, basis: readonly Float32Array[], next: () => number, scale: number) => {
  for (let j = 0; j < SUBSET; j++) {
    const b = basis[next() % basis.length]!;
    const w = (NORMAL_TABLE[next() & 0xffff]! * scale) / Math.sqrt(SUBSET);
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + w * b[i]!;
  }
};

/** Identity `seed`'s centre (deterministic), before normalisation. */
export const identityCentre = (d: SignatureDistribution, seed: number): Float32Array => {
  const next = rng(seed * 2 + 1);
  const out = Float32Array.from(d.mean);
  addCombination(out, d.between, next, 1);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! + d.isotropicSd * NORMAL_TABLE[next() & 0xffff]!;
  return out;
};

/** A capture of identity centre `centre`, or the mean of `averaged` captures (an enrolled template). */
export const captureOf = (d: SignatureDistribution, centre: Float32Array, captureSeed: number, averaged = 1): PalmSignature => {
  const next = rng(captureSeed * 2 + 2);
  const out = Float32Array.from(centre);
  addCombination(out, d.within, next, 1 / Math.sqrt(averaged));
  return toPalmSignature(out, d.dimension);
};
