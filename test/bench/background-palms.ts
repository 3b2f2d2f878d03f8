// The benches' background population: palms the region holds besides the ones a bench measures
// with, all of them rendered through the real pipeline or mirror images of rendered ones.
//
// In order: the open-set population's gallery (simulated sensor -> real extractor -> enrollment's
// choice of capture, cached under .cache/open-set; edge/biometrics/evaluation/open-set-
// population.ts); then single-capture palms, further never-enrolled palms of that population
// whose one capture's template stands for an enrollment (enrolling from three captures costs
// three renders; a background identity only ever plays the impostor); then the mirror images of
// all of them (x reflected, each orientation reflected with it): the simulator draws a left hand
// as the mirror of an independently drawn right one, so a mirrored right palm is another
// plausible left palm and the reverse. Whether mirrored palms have the rendered palms' impostor
// tail is measured on every run (backgroundTailCheck). Other derivations were tried and dropped
// because their tail is far lighter, so a background holding them understates false accepts:
// palms recombined from parts of rendered ones (0 of 746,100 pairs at the rendered pairs' 1e-3
// score, against 747), palms flipped about the horizontal axis (0 of 90,000 against 90) or
// turned half round (1 of 90,000): palms share a layout of principal lines, which a mirror keeps
// and those break. A size that rendered and mirrored palms cannot fill is refused.
//
// A mirrored template shares all its code with its source; a new capture of a source palm must
// not meet its own mirror, which no other person's palm would be. Palms a bench queries with are
// therefore kept out of the sources (`sourcesFrom`).
import { Data } from "effect";
import { enrollmentAgreementScore } from "../../core/identification-policy.ts";
import { matchPrepared, PALM_TEMPLATE_MATCHING, prepareProbe } from "../../core/palm-template-matching.ts";
import {
  cellOrientation,
  cellValid,
  decodePalmProbe,
  decodePalmTemplate,
  palmTemplateFromCells,
  type CodeBlockCells,
  type PalmTemplate,
} from "../../core/palm-template.ts";
import { deployedScoreCalibration } from "../../core/score-calibration.ts";
import { openSetPopulation, type OpenSetPopulation } from "../../edge/biometrics/evaluation/open-set-population.ts";

export class InvalidBackgroundPopulation extends Data.TaggedError("InvalidBackgroundPopulation")<{ readonly reason: string }> {
  override get message() {
    return `invalid background population: ${this.reason}`;
  }
}

/** The open-set population as the benches use it: enrollment agrees at the deployed calibration,
 *  as the region's identifier and `palmline eval --open-set` decide it, so all read the same cache. */
const renderedPalms = (o: {
  gallery: number;
  mated: number;
  nonMated: number;
  singleCaptures?: number;
  threads: number;
  progress: (line: string) => void;
}): Promise<OpenSetPopulation> =>
  openSetPopulation({
    gallery: o.gallery,
    mated: o.mated,
    nonMated: o.nonMated,
    singleCaptures: o.singleCaptures ?? 0,
    agreeScore: enrollmentAgreementScore(deployedScoreCalibration),
    threads: o.threads,
    progress: (stage, done, total) => o.progress(`rendered palms, ${stage}: ${done}/${total}`),
  });

/** The mirror image of a template: column x becomes grid-1-x and orientation k becomes N-k (mod N). */
export const mirroredTemplate = (t: PalmTemplate): PalmTemplate => {
  const g = t.grid,
    n = t.orientations;
  const blocks: CodeBlockCells[] = [];
  for (let c = 0; c < t.channels.length; c++) {
    for (let s = 0; s < t.scales; s++) {
      const winners = new Uint8Array(g * g),
        valid = new Uint8Array(g * g);
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

/** Gallery palms (enrolled from three captures) a background takes before single-capture ones. */
export const ENROLLED_BACKGROUND_PALMS = 20_000;

/**
 * `rendered` background palms: the first ENROLLED_BACKGROUND_PALMS from the gallery, the rest
 * single-capture palms (open-set-population.ts, `singleCaptures`); the population (with the mated
 * and non-mated probes asked for) beside. Palms that failed to acquire are left out, so a few
 * fewer may come back.
 */
export const renderedBackground = async (o: { rendered: number; mated: number; nonMated: number; threads: number; progress: (line: string) => void }) => {
  const gallery = Math.min(o.rendered, ENROLLED_BACKGROUND_PALMS);
  const population = await renderedPalms({ ...o, gallery, singleCaptures: o.rendered - gallery });
  return { population, templates: population.gallery, singleCaptures: population.singleCaptures };
};

/** Rendered palms to ask for so that they and their mirrors fill `count` with `queried` of them
 *  kept out: half, plus room for the palms that fail to acquire (about 0.5 %). */
export const renderedPalmsFor = (count: number, queried = 0): number => Math.min(count, Math.ceil(((count + queried) / 2) * 1.01) + 16);

export class BackgroundPalms {
  readonly count: number;
  /** Rendered templates that start the population (all of them when count allows). */
  readonly renderedCount: number;
  /** Mirror images of source palms that follow them (the rest of the population). */
  readonly mirroredCount: number;
  readonly #rendered: readonly Uint8Array[];
  readonly #sourcesFrom: number;
  #decoded: PalmTemplate[] | undefined;

  /**
   * `count` templates: the first min(count, rendered.length) rendered, then mirror images of
   * rendered templates sourcesFrom .. rendered.length-1 (palms before `sourcesFrom` are queried).
   * Fails with InvalidBackgroundPopulation when those cannot fill `count`.
   */
  constructor(o: { count: number; rendered: readonly Uint8Array[]; sourcesFrom: number }) {
    this.count = o.count;
    this.#rendered = o.rendered;
    this.renderedCount = Math.min(o.count, o.rendered.length);
    this.#sourcesFrom = Math.min(o.sourcesFrom, o.rendered.length);
    this.mirroredCount = o.count - this.renderedCount;
    if (this.mirroredCount > this.sourcePalms) {
      const short = this.mirroredCount - this.sourcePalms;
      throw new InvalidBackgroundPopulation({
        reason: `${o.count} palms need ${Math.ceil(short / 2)} more rendered ones (${o.rendered.length} rendered, ${this.#sourcesFrom} of them queried, each other one mirrored once): raise --rendered`,
      });
    }
  }

  /** Rendered palms mirrored. */
  get sourcePalms(): number {
    return this.#rendered.length - this.#sourcesFrom;
  }

  #sources(needed: number): PalmTemplate[] {
    if (this.sourcePalms < needed) {
      throw new InvalidBackgroundPopulation({
        reason: `derived palms need at least ${needed} rendered palms outside the queried ones; ${this.#rendered.length} rendered, ${this.#sourcesFrom} queried`,
      });
    }
    if (this.#decoded === undefined) {
      this.#decoded = this.#rendered.slice(this.#sourcesFrom).map(decodePalmTemplate);
      const first = this.#decoded[0]!;
      for (const t of this.#decoded) {
        if (t.grid !== first.grid || t.orientations !== first.orientations || t.scales !== first.scales || t.channels.join() !== first.channels.join()) {
          throw new InvalidBackgroundPopulation({ reason: "rendered templates differ in shape" });
        }
      }
    }
    return this.#decoded;
  }

  /** Mirror image of source palm `index` (0 .. sourcePalms-1). */
  mirrored(index: number): PalmTemplate {
    return mirroredTemplate(this.#sources(index + 1)[index]!);
  }

  /** Template i of the population: rendered first, then mirrored. */
  template(i: number): PalmTemplate {
    return i < this.renderedCount ? decodePalmTemplate(this.#rendered[i]!) : this.mirrored(i - this.renderedCount);
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
}

const round = (x: number) => Number(x.toFixed(5));

/**
 * Non-mated probes scored against `templates` rendered templates and as many mirrored ones (or
 * all the source palms' mirrors, when fewer): per kind, the counts of
 * scores at or above the rendered scores' empirical 1e-3 and 1e-4 quantiles, and the max.
 */
export const backgroundTailCheck = (o: {
  background: BackgroundPalms;
  rendered: readonly Uint8Array[];
  nonMated: readonly Uint8Array[];
  templates: number;
  progress: (line: string) => void;
}): BackgroundTailCheck => {
  const sets = {
    rendered: o.rendered.slice(0, o.templates).map(decodePalmTemplate),
    mirrored: Array.from({ length: Math.min(o.templates, o.background.sourcePalms) }, (_, i) => o.background.mirrored(i)),
  };
  const scores = {
    rendered: new Float64Array(o.nonMated.length * sets.rendered.length),
    mirrored: new Float64Array(o.nonMated.length * sets.mirrored.length),
  };
  let shown = performance.now();
  for (const [k, bytes] of o.nonMated.entries()) {
    const prepared = prepareProbe(decodePalmProbe(bytes), PALM_TEMPLATE_MATCHING.maxShift);
    for (const kind of ["rendered", "mirrored"] as const) {
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
  const q3 = quantile(1e-3),
    q4 = quantile(1e-4);
  const side = (values: Float64Array): TailSide => {
    let n3 = 0,
      n4 = 0,
      max = 0,
      sum = 0;
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
      const expected = a * ratio,
        sd = Math.sqrt(a * ratio * ratio + b);
      return b < expected - 2 * sd ? -1 : b > expected + 2 * sd ? 1 : 0;
    };
    const c = [compare(rendered.atOrAbove1e3, d.atOrAbove1e3), compare(rendered.atOrAbove1e4, d.atOrAbove1e4)];
    return { ...d, verdict: c.includes(-1) ? "lighter" : c.includes(1) ? "heavier" : "same" };
  };
  return { probes: o.nonMated.length, quantileScore1e3: round(q3), quantileScore1e4: round(q4), rendered, mirrored: derived(scores.mirrored) };
};

/** Progress lines; a lighter derived tail is said plainly. */
export const describeTailCheck = (check: BackgroundTailCheck): string[] => {
  const counts = (s: TailSide) =>
    `${s.atOrAbove1e3} at/above the 1e-3 score (${check.quantileScore1e3}), ${s.atOrAbove1e4} at/above the 1e-4 score (${check.quantileScore1e4}), max ${s.max}, mean ${s.mean} over ${s.pairs} pairs`;
  const verdict = (name: string, s: DerivedTailSide) =>
    s.verdict === "lighter"
      ? `${name}: ${counts(s)}. The ${name.toUpperCase()} PALMS' IMPOSTOR TAIL IS LIGHTER than the rendered palms': a background that holds them understates false accepts.`
      : s.verdict === "heavier"
        ? `${name}: ${counts(s)}. The ${name} palms' impostor tail is heavier than the rendered palms': a background that holds them overstates false accepts.`
        : `${name}: ${counts(s)}. Same tail as the rendered palms within counting noise.`;
  return [
    `background tail check, ${check.probes} non-mated probes against each kind; rendered: ${counts(check.rendered)}`,
    verdict("mirrored", check.mirrored),
  ];
};
