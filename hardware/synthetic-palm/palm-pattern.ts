// The identity of a synthetic palm: principal creases and wrinkles as quadratic Bezier curves
// (after BezierPalm, ECCV 2022), several crease topologies (after PCE-Palm, AAAI 2024), a
// branching vein tree for the near-infrared channel, fine skin lines and a skin tone. Everything
// derives from (subjectSeed, side); left and right hands of one subject are unrelated identities.
//
// Coordinates are hand units: the origin is the palm centre, one unit is half the palm width, +v
// points to the fingers and the thumb is at -u (patterns are laid out as right hands and mirrored
// for left hands).
import { mixSeeds, SeededRandom } from "./seeded-random.ts";

export type HandSide = "left" | "right";

export interface Point {
  readonly u: number;
  readonly v: number;
}

/** A line drawn as a quadratic Bezier from `start` through control `bend` to `end`. */
export interface PalmLine {
  readonly start: Point;
  readonly bend: Point;
  readonly end: Point;
  /** Gaussian profile width (sigma) in hand units. */
  readonly width: number;
  /** Fraction of the local brightness the line removes at its centre. */
  readonly depth: number;
}

export type CreaseTopology = "classic" | "separated-origin" | "simian" | "sydney";

export interface PalmPattern {
  readonly side: HandSide;
  readonly topology: CreaseTopology;
  /** Principal creases and wrinkles: redrawn for every capture with small jitter. */
  readonly creases: readonly PalmLine[];
  /** Faint short skin lines: part of the identity's static skin texture. */
  readonly fineLines: readonly PalmLine[];
  /** Subcutaneous veins, visible only in near-infrared. */
  readonly veins: readonly PalmLine[];
  readonly skinSeed: number;
  /** Mean visible reflectance of the skin, 0..255. */
  readonly skinTone: number;
  /** Mean near-infrared reflectance of the skin, 0..255. */
  readonly nirTone: number;
}

const point = (u: number, v: number): Point => ({ u, v });

const principalCreases = (r: SeededRandom, topology: CreaseTopology): PalmLine[] => {
  const n = () => r.normal();
  const line = (start: Point, bend: Point, end: Point): PalmLine => ({
    start,
    bend,
    end,
    width: r.range(0.017, 0.03),
    depth: r.range(0.35, 0.6),
  });
  const radialOrigin = point(-1.0 + 0.03 * n(), 0.33 + 0.08 * n());
  const life = (origin: Point) => line(origin, point(-0.05 + 0.12 * n(), -0.2 + 0.14 * n()), point(-0.32 + 0.14 * n(), -1.05 + 0.07 * n()));
  if (topology === "simian") {
    const transverse = line(point(-1.0 + 0.03 * n(), 0.42 + 0.1 * n()), point(0.0 + 0.1 * n(), 0.42 + 0.12 * n()), point(1.0 + 0.03 * n(), 0.45 + 0.1 * n()));
    return [transverse, life(radialOrigin)];
  }
  const heart = line(point(1.0 + 0.03 * n(), 0.55 + 0.09 * n()), point(0.05 + 0.12 * n(), 0.52 + 0.09 * n()), point(-0.35 + 0.15 * n(), 0.95 + 0.07 * n()));
  const headEnd = topology === "sydney" ? point(1.0 + 0.03 * n(), -0.05 + 0.15 * n()) : point(0.72 + 0.14 * n(), -0.15 + 0.14 * n());
  const headOrigin = topology === "separated-origin" ? point(radialOrigin.u, radialOrigin.v + r.range(0.1, 0.22)) : radialOrigin;
  const head = line(headOrigin, point(-0.1 + 0.12 * n(), 0.22 + 0.1 * n()), headEnd);
  const lifeOrigin = point(radialOrigin.u + 0.03, radialOrigin.v - 0.02);
  return [heart, head, life(lifeOrigin)];
};

const shortLine = (r: SeededRandom, length: number, width: number, depth: number, vertical: boolean): PalmLine => {
  const centre = point(r.range(-0.85, 0.9), r.range(-0.95, 0.9));
  const angle = vertical ? Math.PI / 2 + 0.35 * r.normal() : r.range(0, Math.PI);
  const du = (Math.cos(angle) * length) / 2;
  const dv = (Math.sin(angle) * length) / 2;
  const curl = 0.25 * length * r.normal();
  return {
    start: point(centre.u - du, centre.v - dv),
    bend: point(centre.u - Math.sin(angle) * curl, centre.v + Math.cos(angle) * curl),
    end: point(centre.u + du, centre.v + dv),
    width,
    depth,
  };
};

const veinTree = (r: SeededRandom): PalmLine[] => {
  const veins: PalmLine[] = [];
  const trunks = r.int(3, 5);
  for (let i = 0; i < trunks; i++) {
    const u0 = -0.75 + (1.5 * (i + 0.5)) / trunks + 0.12 * r.normal();
    const start = point(u0, -1.8);
    const end = point(u0 + 0.5 * r.normal(), r.range(0.2, 1.3));
    const bend = point((start.u + end.u) / 2 + 0.35 * r.normal(), (start.v + end.v) / 2 + 0.2 * r.normal());
    const width = r.range(0.03, 0.055);
    const depth = r.range(0.2, 0.35);
    veins.push({ start, bend, end, width, depth });
    const branches = r.int(1, 3);
    for (let b = 0; b < branches; b++) {
      const t = r.range(0.3, 0.8);
      const s = 1 - t;
      const from = point(s * s * start.u + 2 * s * t * bend.u + t * t * end.u, s * s * start.v + 2 * s * t * bend.v + t * t * end.v);
      const angle = Math.PI / 2 + (r.chance(0.5) ? 1 : -1) * r.range(0.4, 1.1);
      const length = r.range(0.4, 1.0);
      const to = point(from.u + Math.cos(angle) * length, from.v + Math.sin(angle) * length);
      const mid = point((from.u + to.u) / 2 + 0.12 * r.normal(), (from.v + to.v) / 2 + 0.12 * r.normal());
      veins.push({ start: from, bend: mid, end: to, width: width * r.range(0.55, 0.8), depth: depth * r.range(0.7, 0.95) });
    }
  }
  return veins;
};

const mirror = (l: PalmLine): PalmLine => ({
  ...l,
  start: point(-l.start.u, l.start.v),
  bend: point(-l.bend.u, l.bend.v),
  end: point(-l.end.u, l.end.v),
});

export const palmPatternFor = (subjectSeed: number, side: HandSide): PalmPattern => {
  const r = new SeededRandom(mixSeeds(0x9a1a, subjectSeed, side === "left" ? 1 : 2));
  const roll = r.next();
  const topology: CreaseTopology = roll < 0.55 ? "classic" : roll < 0.8 ? "separated-origin" : roll < 0.93 ? "sydney" : "simian";
  const creases = principalCreases(r, topology);
  const wrinkles = r.int(5, 14);
  for (let i = 0; i < wrinkles; i++) {
    creases.push(shortLine(r, r.range(0.2, 0.9), r.range(0.008, 0.015), r.range(0.12, 0.3), r.chance(0.5)));
  }
  const fineLines: PalmLine[] = [];
  const fineCount = r.int(40, 80);
  for (let i = 0; i < fineCount; i++) {
    fineLines.push(shortLine(r, r.range(0.05, 0.25), r.range(0.006, 0.01), r.range(0.05, 0.12), false));
  }
  const veins = veinTree(r);
  const flip = side === "left" ? mirror : (l: PalmLine) => l;
  return {
    side,
    topology,
    creases: creases.map(flip),
    fineLines: fineLines.map(flip),
    veins: veins.map(flip),
    skinSeed: mixSeeds(subjectSeed, side === "left" ? 11 : 12, 0x5c1),
    skinTone: r.range(140, 200),
    nirTone: r.range(150, 190),
  };
};
