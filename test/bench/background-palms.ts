// The benches' background population: palms the region holds besides the ones a bench measures
// with, for sizes beyond what the simulator can render in a bench's time.
//
// In order: rendered palms, the open-set population's gallery (simulated sensor -> real extractor
// -> enrollment's choice of capture, cached under .cache/open-set; edge/biometrics/evaluation/
// open-set-population.ts); then their mirror images (x reflected, each orientation reflected with
// it), one per source palm (below): the simulator draws a left hand as the mirror of an
// independently drawn right one, so a mirrored right palm is another plausible left palm and the
// reverse; then, past those, palms recombined from rendered ones: per channel the top half of the
// code grid of one palm and the bottom half of another, surface and veins from different pairs
// (four palms), chosen by a hash of the index. Whether the derived palms have the rendered palms'
// impostor tail is measured on every run (backgroundTailCheck): recombining breaks the agreement
// between a palm's halves and channels on one best shift, which the matcher's shift search
// rewards, so a recombined tail can be lighter, and figures at sizes that need recombined palms
// then understate false accepts.
//
// A derived template shares code with its source palms (all of it mirrored, a quarter of it
// recombined); a new capture of a source palm must not meet its own derivative, which no other
// person's palm would be. Palms a bench queries with are therefore kept out of the sources
// (`sourcesFrom`).
import { Data } from "effect";
import { ENROLLMENT_AGREEMENT_FMR } from "../../core/palm-enrollment.ts";
import { matchPrepared, PALM_TEMPLATE_MATCHING, prepareProbe } from "../../core/palm-template-matching.ts";
import { blockOffset, cellOrientation, cellValid, codePlanes, decodePalmProbe, decodePalmTemplate, palmTemplateFromCells, type CodeBlockCells, type PalmTemplate } from "../../core/palm-template.ts";
import { deployedScoreCalibration } from "../../core/score-calibration.ts";
import { openSetPopulation, type OpenSetPopulation } from "../../edge/biometrics/evaluation/open-set-population.ts";

export class InvalidBackgroundPopulation extends Data.TaggedError("InvalidBackgroundPopulation")<{ readonly reason: string }> {
  override get message() {
    return `invalid background population: ${this.reason}`;
  }
}

/** The open-set population as the benches use it: enrollment agrees at the deployed calibration,
 *  as the region's identifier and `palmline eval --open-set` decide it, so all read the same cache. */
export const renderedPalms = (o: { gallery: number; mated: number; nonMated: number; threads: number; progress: (line: string) => void }): Promise<OpenSetPopulation> =>
  openSetPopulation({
    gallery: o.gallery,
    mated: o.mated,
    nonMated: o.nonMated,
    agreeScore: deployedScoreCalibration.scoreForFalseMatchRate(ENROLLMENT_AGREEMENT_FMR),
    threads: o.threads,
    progress: (stage, done, total) => o.progress(`rendered palms, ${stage}: ${done}/${total}`),
  });

/** A 32-bit mix of (index, salt): deterministic, well spread. */
const hash = (index: number, salt: number): number => {
  let h = Math.imul(index ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
};

/** Four different source indexes in 0..pool-1 for recombined template `index`. */
const sourcesOf = (index: number, pool: number): [number, number, number, number] => {
  const picked: number[] = [];
  for (let salt = 0; picked.length < 4; salt++) {
    const s = hash(index, salt) % pool;
    if (!picked.includes(s)) picked.push(s);
  }
  return picked as [number, number, number, number];
};

/** Channel c of `out`: rows above the grid's middle from `top`, the rest from `bottom`, every scale, code planes and mask. */
const copyHalves = (out: Uint32Array, shape: PalmTemplate, c: number, top: PalmTemplate, bottom: PalmTemplate): void => {
  const half = shape.grid >> 1;
  for (let s = 0; s < shape.scales; s++) {
    const base = blockOffset(shape, c, s);
    for (let plane = 0; plane <= codePlanes(shape); plane++) {
      for (let y = 0; y < shape.grid; y++) {
        const at = base + plane * shape.grid + y;
        out[at] = (y < half ? top : bottom).words[at]!;
      }
    }
  }
};

/** The mirror image of a template: column x becomes grid-1-x and orientation k becomes N-k (mod N). */
export const mirroredTemplate = (t: PalmTemplate): PalmTemplate => {
  const g = t.grid, n = t.orientations;
  const blocks: CodeBlockCells[] = [];
  for (let c = 0; c < t.channels.length; c++) {
    for (let s = 0; s < t.scales; s++) {
      const winners = new Uint8Array(g * g), valid = new Uint8Array(g * g);
      for (let y = 0; y < g; y++) {
        for (let x = 0; x < g; x++) {
          winners[y * g + x] = (n - cellOrientation(t, c, s, g - 1 - x, y)) % n;
          valid[y * g + x] = cellValid(t, c, s, g - 1 - x, y) ? 1 : 0;
        }
      }
      blocks.push({ winners, valid });
    }
  }
  return palmTemplateFromCells(t, blocks);
};

export class BackgroundPalms {
  readonly count: number;
  /** Rendered templates that start the population (all of them when count allows). */
  readonly renderedCount: number;
  /** Mirror images of source palms that follow them. */
  readonly mirroredCount: number;
  readonly #rendered: readonly Uint8Array[];
  readonly #sourcesFrom: number;
  #decoded: PalmTemplate[] | undefined;

  /**
   * `count` templates: the first min(count, rendered.length) rendered, then mirrored and
   * recombined ones derived from rendered templates sourcesFrom .. rendered.length-1 (palms
   * before `sourcesFrom` are queried).
   */
  constructor(o: { count: number; rendered: readonly Uint8Array[]; sourcesFrom: number }) {
    this.count = o.count;
    this.#rendered = o.rendered;
    this.renderedCount = Math.min(o.count, o.rendered.length);
    this.#sourcesFrom = Math.min(o.sourcesFrom, o.rendered.length);
    this.mirroredCount = Math.min(o.count - this.renderedCount, this.sourcePalms);
  }

  get recombinedCount(): number {
    return this.count - this.renderedCount - this.mirroredCount;
  }

  /** Rendered palms recombination draws from. */
  get sourcePalms(): number {
    return this.#rendered.length - this.#sourcesFrom;
  }

  #sources(needed: number): PalmTemplate[] {
    if (this.sourcePalms < needed) {
      throw new InvalidBackgroundPopulation({ reason: `derived palms need at least ${needed} rendered palms outside the queried ones; ${this.#rendered.length} rendered, ${this.#sourcesFrom} queried` });
    }
    if (this.#decoded === undefined) {
      this.#decoded = this.#rendered.slice(this.#sourcesFrom).map(decodePalmTemplate);
      const first = this.#decoded[0]!;
      for (const t of this.#decoded) {
        if (t.grid !== first.grid || t.orientations !== first.orientations || t.scales !== first.scales || t.channels.join() !== first.channels.join()) {
          throw new InvalidBackgroundPopulation({ reason: "rendered templates differ in shape; they cannot be recombined" });
        }
      }
    }
    return this.#decoded;
  }

  /** Mirror image of source palm `index` (0 .. sourcePalms-1). */
  mirrored(index: number): PalmTemplate {
    return mirroredTemplate(this.#sources(index + 1)[index]!);
  }

  /** Recombined template `index` (any whole number; the population uses 0 .. recombinedCount-1). */
  recombined(index: number): PalmTemplate {
    const sources = this.#sources(4);
    const [a, b, c, d] = sourcesOf(index, sources.length).map((i) => sources[i]!);
    const shape = a!;
    const words = new Uint32Array(shape.words.length);
    copyHalves(words, shape, 0, a!, b!);
    if (shape.channels.length > 1) copyHalves(words, shape, 1, c!, d!);
    return { grid: shape.grid, orientations: shape.orientations, scales: shape.scales, channels: [...shape.channels], words };
  }

  /** Template i of the population: rendered first, then mirrored, then recombined. */
  template(i: number): PalmTemplate {
    if (i < this.renderedCount) return decodePalmTemplate(this.#rendered[i]!);
    if (i < this.renderedCount + this.mirroredCount) return this.mirrored(i - this.renderedCount);
    return this.recombined(i - this.renderedCount - this.mirroredCount);
  }

  /** The whole population in order, one template at a time. */
  *templates(): Generator<PalmTemplate> {
    for (let i = 0; i < this.count; i++) yield this.template(i);
  }
}

export interface TailSide {
  readonly pairs: number;
  readonly atOrAbove1e3: number;
  readonly atOrAbove1e4: number;
  readonly max: number;
  readonly mean: number;
}

export interface DerivedTailSide extends TailSide {
  /** "same", or which way the counts above the two quantile scores differ from the rendered
   *  palms' (scaled to as many pairs) by more than two standard deviations of the difference. */
  readonly verdict: "same" | "lighter" | "heavier";
}

export interface BackgroundTailCheck {
  readonly probes: number;
  /** The rendered pairs' empirical scores exceeded by a share 1e-3 and 1e-4 of them. */
  readonly quantileScore1e3: number;
  readonly quantileScore1e4: number;
  readonly rendered: TailSide;
  readonly mirrored: DerivedTailSide;
  readonly recombined: DerivedTailSide;
}

const round = (x: number) => Number(x.toFixed(5));

/**
 * Non-mated probes scored against `templates` rendered templates, as many mirrored ones (or all
 * the source palms' mirrors, when fewer) and as many recombined ones: per kind, the counts of
 * scores at or above the rendered scores' empirical 1e-3 and 1e-4 quantiles, and the max.
 */
export const backgroundTailCheck = (o: { background: BackgroundPalms; rendered: readonly Uint8Array[]; nonMated: readonly Uint8Array[]; templates: number; progress: (line: string) => void }): BackgroundTailCheck => {
  const sets = {
    rendered: o.rendered.slice(0, o.templates).map(decodePalmTemplate),
    mirrored: Array.from({ length: Math.min(o.templates, o.background.sourcePalms) }, (_, i) => o.background.mirrored(i)),
    recombined: Array.from({ length: Math.min(o.templates, o.rendered.length) }, (_, i) => o.background.recombined(i)),
  };
  const scores = {
    rendered: new Float64Array(o.nonMated.length * sets.rendered.length),
    mirrored: new Float64Array(o.nonMated.length * sets.mirrored.length),
    recombined: new Float64Array(o.nonMated.length * sets.recombined.length),
  };
  let shown = performance.now();
  for (const [k, bytes] of o.nonMated.entries()) {
    const prepared = prepareProbe(decodePalmProbe(bytes), PALM_TEMPLATE_MATCHING.maxShift);
    for (const kind of ["rendered", "mirrored", "recombined"] as const) {
      const set = sets[kind];
      for (let t = 0; t < set.length; t++) scores[kind][k * set.length + t] = matchPrepared(prepared, set[t]!, PALM_TEMPLATE_MATCHING);
    }
    if (performance.now() - shown > 5_000) {
      shown = performance.now();
      o.progress(`background tail check: ${k + 1}/${o.nonMated.length} probes`);
    }
  }
  const descending = Float64Array.from(scores.rendered).sort().reverse();
  const quantile = (share: number) => descending[Math.max(0, Math.ceil(share * descending.length) - 1)] ?? 1;
  const q3 = quantile(1e-3), q4 = quantile(1e-4);
  const side = (values: Float64Array): TailSide => {
    let n3 = 0, n4 = 0, max = 0, sum = 0;
    for (const v of values) {
      if (v >= q3) n3++;
      if (v >= q4) n4++;
      if (v > max) max = v;
      sum += v;
    }
    return { pairs: values.length, atOrAbove1e3: n3, atOrAbove1e4: n4, max: round(max), mean: round(sum / Math.max(1, values.length)) };
  };
  const rendered = side(scores.rendered);
  const derived = (values: Float64Array): DerivedTailSide => {
    const d = side(values);
    // Counts above a score are about Poisson; the rendered count scaled to d's pairs is the expectation.
    const ratio = d.pairs / Math.max(1, rendered.pairs);
    const compare = (a: number, b: number) => {
      const expected = a * ratio, sd = Math.sqrt(a * ratio * ratio + b);
      return b < expected - 2 * sd ? -1 : b > expected + 2 * sd ? 1 : 0;
    };
    const c = [compare(rendered.atOrAbove1e3, d.atOrAbove1e3), compare(rendered.atOrAbove1e4, d.atOrAbove1e4)];
    return { ...d, verdict: c.includes(-1) ? "lighter" : c.includes(1) ? "heavier" : "same" };
  };
  return { probes: o.nonMated.length, quantileScore1e3: round(q3), quantileScore1e4: round(q4), rendered, mirrored: derived(scores.mirrored), recombined: derived(scores.recombined) };
};

/** Progress lines; a lighter derived tail is said plainly. */
export const describeTailCheck = (check: BackgroundTailCheck): string[] => {
  const counts = (s: TailSide) => `${s.atOrAbove1e3} at/above the 1e-3 score (${check.quantileScore1e3}), ${s.atOrAbove1e4} at/above the 1e-4 score (${check.quantileScore1e4}), max ${s.max}, mean ${s.mean} over ${s.pairs} pairs`;
  const verdict = (name: string, s: DerivedTailSide) =>
    s.verdict === "lighter"
      ? `${name}: ${counts(s)}. The ${name.toUpperCase()} PALMS' IMPOSTOR TAIL IS LIGHTER than the rendered palms': a background that holds them understates false accepts.`
      : s.verdict === "heavier"
        ? `${name}: ${counts(s)}. The ${name} palms' impostor tail is heavier than the rendered palms': a background that holds them overstates false accepts.`
        : `${name}: ${counts(s)}. Same tail as the rendered palms within counting noise.`;
  return [
    `background tail check, ${check.probes} non-mated probes against each kind; rendered: ${counts(check.rendered)}`,
    verdict("mirrored", check.mirrored),
    verdict("recombined", check.recombined),
  ];
};
