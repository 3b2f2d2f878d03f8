// The silhouette of a synthetic hand: a palm polygon, four fingers and a thumb as capsules, and
// the forearm. Proportions are per identity; finger spread is per capture. Hand units as in
// palm-pattern.ts (palm half-width = 1, +v to the fingers, thumb at -u for right hands).
import type { HandSide, Point } from "./palm-pattern.ts";
import { mixSeeds, SeededRandom } from "./seeded-random.ts";

export interface FingerSpec {
  /** Where the finger leaves the palm. */
  readonly base: Point;
  readonly length: number;
  readonly radius: number;
  /** Direction at zero spread, radians from +v towards -u (the thumb side). */
  readonly restAngle: number;
  /** Extra angle at full spread. */
  readonly spreadAngle: number;
}

export interface HandShape {
  readonly side: HandSide;
  readonly palm: readonly Point[];
  /** Thumb first, then index, middle, ring, little. */
  readonly fingers: readonly FingerSpec[];
}

/** A convex polygon in hand units. */
export type HandPolygon = readonly Point[];

const PALM_OUTLINE: readonly Point[] = [
  { u: -0.85, v: -1.2 },
  { u: 0.85, v: -1.2 },
  { u: 1.0, v: -0.7 },
  { u: 1.03, v: 0.6 },
  { u: 0.93, v: 1.05 },
  { u: 0.5, v: 1.17 },
  { u: 0.0, v: 1.2 },
  { u: -0.5, v: 1.16 },
  { u: -0.93, v: 0.95 },
  { u: -1.05, v: 0.2 },
  { u: -1.0, v: -0.6 },
];

export const handShapeFor = (subjectSeed: number, side: HandSide): HandShape => {
  const r = new SeededRandom(mixSeeds(0x4a3d, subjectSeed, side === "left" ? 1 : 2));
  const lengthScale = r.range(0.92, 1.08);
  const widthScale = r.range(0.9, 1.1);
  const finger = (base: Point, length: number, radius: number, restAngle: number, spreadAngle: number): FingerSpec => ({
    base,
    length: length * lengthScale * r.range(0.96, 1.04),
    radius: radius * widthScale,
    restAngle,
    spreadAngle,
  });
  const deg = Math.PI / 180;
  const fingers = [
    finger({ u: -0.92, v: -0.25 }, 1.55, 0.27, 42 * deg, 25 * deg),
    finger({ u: -0.68, v: 0.98 }, 1.7, 0.2, 7 * deg, 12 * deg),
    finger({ u: -0.22, v: 1.08 }, 1.92, 0.21, 0, 3 * deg),
    finger({ u: 0.26, v: 1.06 }, 1.78, 0.2, -7 * deg, -9 * deg),
    finger({ u: 0.7, v: 0.94 }, 1.38, 0.17, -13 * deg, -18 * deg),
  ];
  const mirror = side === "left" ? -1 : 1;
  const flip = (p: Point): Point => ({ u: mirror * p.u, v: p.v });
  return {
    side,
    palm: (side === "left" ? [...PALM_OUTLINE].reverse() : PALM_OUTLINE).map(flip),
    fingers: fingers.map((f) => ({ ...f, base: flip(f.base), restAngle: mirror * f.restAngle, spreadAngle: mirror * f.spreadAngle })),
  };
};

const capsule = (from: Point, to: Point, radius: number, segments = 8): Point[] => {
  const angle = Math.atan2(to.v - from.v, to.u - from.u);
  const out: Point[] = [];
  for (let i = 0; i <= segments; i++) {
    const a = angle - Math.PI / 2 + (Math.PI * i) / segments;
    out.push({ u: to.u + radius * Math.cos(a), v: to.v + radius * Math.sin(a) });
  }
  for (let i = 0; i <= segments; i++) {
    const a = angle + Math.PI / 2 + (Math.PI * i) / segments;
    out.push({ u: from.u + radius * Math.cos(a), v: from.v + radius * Math.sin(a) });
  }
  return out;
};

/** The hand's convex pieces for a given finger spread in [0, 1]. */
export const handPolygons = (shape: HandShape, spread: number): HandPolygon[] => {
  const pieces: HandPolygon[] = [shape.palm];
  for (const f of shape.fingers) {
    const angle = f.restAngle + spread * f.spreadAngle;
    // Start inside the palm so the finger joins it without a seam.
    const dirU = -Math.sin(angle),
      dirV = Math.cos(angle);
    const from = { u: f.base.u - 0.25 * dirU, v: f.base.v - 0.25 * dirV };
    const to = { u: f.base.u + f.length * dirU, v: f.base.v + f.length * dirV };
    pieces.push(capsule(from, to, f.radius));
  }
  pieces.push(capsule({ u: 0, v: -0.9 }, { u: 0, v: -6 }, 0.82));
  return pieces;
};
