// Locates the palm in a full-hand frame from the hand's shape and returns a region normalised
// for rotation and scale: the classic finger-valley construction (as in Zhang et al.'s PolyU
// ROI), found from the silhouette's radial profile around the palm centre.
//
// palm centre = deepest point of the silhouette (distance transform), radius R = its depth;
// radial profile r(theta) from the centre -> runs where r > 1.45 R are the forearm (widest), the
// thumb and four fingers; the minima of r between neighbouring fingers are the three valleys.
// The line from the index/middle valley to the ring/little valley fixes the ROI's axis; its
// midpoint and the palm's size (R, checked against the palm's side reach and the valley baseline,
// since an occluder held against the palm can shrink or swell R) fix the ROI's place and scale.
import type { PalmFrame } from "../../hardware/palm-sensor.ts";
import { PoorQuality } from "./capture-errors.ts";
import { segmentHand, type HandSilhouette } from "./hand-silhouette.ts";
import type { PalmRoi } from "./roi-sampler.ts";

export interface ImagePoint {
  readonly x: number;
  readonly y: number;
}

export interface PalmLocation {
  readonly roi: PalmRoi;
  /** The three valleys between the four fingers, in order round the hand, full-resolution pixels. */
  readonly valleys: readonly [ImagePoint, ImagePoint, ImagePoint];
  readonly palmCentre: ImagePoint;
  /** Radius of the largest disc inside the hand, full-resolution pixels. */
  readonly palmRadius: number;
  readonly silhouette: HandSilhouette;
  /** Reach from the palm's axis to its farther side (see sideReach), full-resolution pixels. */
  readonly sideReach: number;
}

/** ROI geometry in units of the palm radius R (the largest disc inside the hand, which does not
 *  change when the fingers spread, unlike the distance between valleys): centre at `offset * R`
 *  from the midpoint of the outer valleys towards the wrist, side `side * R`. Fitted on synthetic
 *  hands so the ROI covers the central palm (docs/biometrics.md). */
export const ROI_GEOMETRY = { offset: 1.036, side: 1.479 } as const;

/** Palm radius per unit of side reach and of outer-valley baseline: the medians of their ratios
 *  on unoccluded synthetic hands (training seeds). The baseline also follows finger width and
 *  spread (+-4 %), so it serves as the tie-breaker. */
const SCALE_PER_SIDE_REACH = 1.055;
const SCALE_PER_BASELINE = 1.083;

/** Relative disagreement of R and the side reach beyond which one of them is taken as spoilt. */
const SCALE_AGREEMENT = 0.04;
/** Depths below the valley baseline, in baselines, where the palm's sides are measured: above the
 *  thumb's root, below the finger roots. */
const SIDE_DEPTHS = [0.55, 0.75, 0.95] as const;

const medianOfThree = (a: number, b: number, c: number): number => Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));

const RAYS = 360;
/** Levels of the radial profile, in palm radii, tried in turn to tell the fingers apart. */
const FINGER_REACHES = [1.45, 1.6, 1.3, 1.75, 1.9] as const;
/** Rays (degrees) between neighbouring fingers' runs; the thumb stands further off. */
const MAX_FINGER_GAP = 30;

const distanceTransform = (s: HandSilhouette): Float32Array => {
  // Two-pass chamfer (3-4) distance to the nearest background pixel, in mask pixels.
  const { mask, width: w, height: h } = s;
  const d = new Float32Array(w * h);
  const big = 1e9;
  for (let i = 0; i < w * h; i++) d[i] = mask[i] === 1 ? big : 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (d[i] === 0) continue;
      let v = d[i]!;
      if (x > 0) v = Math.min(v, d[i - 1]! + 3);
      if (y > 0) {
        v = Math.min(v, d[i - w]! + 3);
        if (x > 0) v = Math.min(v, d[i - w - 1]! + 4);
        if (x < w - 1) v = Math.min(v, d[i - w + 1]! + 4);
      } else v = Math.min(v, 3);
      if (x === 0 || x === w - 1) v = Math.min(v, 3);
      d[i] = v;
    }
  }
  for (let y = h - 1; y >= 0; y--) {
    for (let x = w - 1; x >= 0; x--) {
      const i = y * w + x;
      if (d[i] === 0) continue;
      let v = d[i]!;
      if (x < w - 1) v = Math.min(v, d[i + 1]! + 3);
      if (y < h - 1) {
        v = Math.min(v, d[i + w]! + 3);
        if (x < w - 1) v = Math.min(v, d[i + w + 1]! + 4);
        if (x > 0) v = Math.min(v, d[i + w - 1]! + 4);
      }
      d[i] = v;
    }
  }
  for (let i = 0; i < w * h; i++) d[i] = d[i]! / 3;
  return d;
};

interface Run {
  readonly start: number;
  readonly end: number; // inclusive, may exceed RAYS (wraps)
}

const radialProfile = (s: HandSilhouette, cx: number, cy: number): Float32Array => {
  const { mask, width: w, height: h } = s;
  const r = new Float32Array(RAYS);
  const limit = Math.hypot(w, h);
  for (let a = 0; a < RAYS; a++) {
    const theta = (2 * Math.PI * a) / RAYS;
    const dx = Math.cos(theta) * 0.5, dy = Math.sin(theta) * 0.5;
    let x = cx, y = cy, dist = 0;
    for (; dist < limit; dist += 0.5, x += dx, y += dy) {
      const ix = Math.round(x), iy = Math.round(y);
      if (ix < 0 || iy < 0 || ix >= w || iy >= h) break;
      if (mask[iy * w + ix] === 0) break;
    }
    r[a] = dist;
  }
  return r;
};

const runsAbove = (r: Float32Array, level: number): Run[] => {
  // Start scanning at a ray below the level so no run is split by the wrap-around.
  let origin = -1;
  for (let a = 0; a < RAYS; a++) if (r[a]! <= level) (origin = a), (a = RAYS);
  if (origin < 0) return [];
  const runs: Run[] = [];
  let start = -1;
  for (let k = 1; k <= RAYS; k++) {
    const a = origin + k;
    const above = r[a % RAYS]! > level;
    if (above && start < 0) start = a;
    if (!above && start >= 0) {
      runs.push({ start, end: a - 1 });
      start = -1;
    }
  }
  // Silhouette jaggies make the profile flicker across the level: close tiny gaps, drop slivers.
  const merged: Run[] = [];
  for (const run of runs) {
    const last = merged[merged.length - 1];
    if (last !== undefined && run.start - last.end <= 3) merged[merged.length - 1] = { start: last.start, end: run.end };
    else merged.push(run);
  }
  return merged.filter((r) => r.end - r.start >= 2);
};

/** How far the palm reaches to its farther side from its axis (the normal through the outer
 *  valleys' midpoint), measured along the valley baseline at several depths below it. Each side
 *  keeps its shortest reach, so something bright held against the palm cannot stretch it; the
 *  farther side wins, so something covering one side cannot shrink it. Mask pixels. */
const sideReach = (s: HandSilhouette, mx: number, my: number, nx: number, ny: number, ux: number, uy: number, baseline: number): number => {
  let best = 0;
  for (const dir of [1, -1]) {
    let shortest = Infinity;
    for (const depth of SIDE_DEPTHS) {
      const px = (mx + nx * depth * baseline) / s.factor - 0.5, py = (my + ny * depth * baseline) / s.factor - 0.5;
      let dist = 0;
      for (; ; dist += 0.5) {
        const ix = Math.round(px + dir * ux * dist), iy = Math.round(py + dir * uy * dist);
        if (ix < 0 || iy < 0 || ix >= s.width || iy >= s.height || s.mask[iy * s.width + ix] === 0) break;
      }
      shortest = Math.min(shortest, dist);
    }
    best = Math.max(best, shortest);
  }
  return best;
};

const gapBetween = (a: Run, b: Run): number => (((b.start - a.end) % RAYS) + RAYS) % RAYS;

/** The four fingers' runs in the radial profile, or why they cannot be told apart. Tries reach
 *  levels nearest the usual one first: an occluder shrinks the palm radius, which lowers the level
 *  until the palm's own sides rise above it, and fingers held close merge at low levels. */
const findFingers = (profile: Float32Array, radius: number): Run[] | string => {
  let why = "";
  for (const reach of FINGER_REACHES) {
    const runs = runsAbove(profile, reach * radius);
    if (runs.length < 5) {
      why ||= `found ${runs.length} hand extremities, need the forearm and four fingers`;
      continue;
    }
    // The forearm is the widest extremity; order the rest going round from it.
    let forearm = 0;
    for (let i = 1; i < runs.length; i++) {
      if (runs[i]!.end - runs[i]!.start > runs[forearm]!.end - runs[forearm]!.start) forearm = i;
    }
    const digits = [...runs.slice(forearm + 1), ...runs.slice(0, forearm)];
    if (digits.length === 5) {
      // The thumb sits at one end of the sequence, set apart from the index by a wide gap.
      return gapBetween(digits[0]!, digits[1]!) > gapBetween(digits[3]!, digits[4]!) ? digits.slice(1) : digits.slice(0, 4);
    }
    // Otherwise (thumb hidden, or an occluder or a cut-off thumb adding an extremity): the fingers
    // are four neighbouring extremities, close together; take the tightest such run of four.
    // Which end is the index does not matter for the ROI, which uses only the two outer valleys.
    let bestSpan = Infinity, bestStart = -1;
    for (let k = 0; k + 4 <= digits.length; k++) {
      const gaps = [1, 2, 3].map((j) => gapBetween(digits[k + j - 1]!, digits[k + j]!));
      const span = gaps.reduce((a, b) => a + b, 0);
      if (gaps.every((g) => g < MAX_FINGER_GAP) && span < bestSpan) (bestSpan = span), (bestStart = k);
    }
    if (bestStart >= 0) return digits.slice(bestStart, bestStart + 4);
    why ||= `found ${digits.length} digits, expected the thumb and four fingers`;
  }
  return why;
};

interface CentreCandidate {
  readonly x: number;
  readonly y: number;
  readonly radius: number;
}

/** The silhouette's deepest point, optionally only among points farther than `apart` (mask
 *  pixels) from `away`; undefined when there is none. */
const deepestPoint = (dt: Float32Array, width: number, away?: CentreCandidate, apart = 0): CentreCandidate | undefined => {
  let best = 0, bestAt = -1;
  for (let i = 0; i < dt.length; i++) {
    if (dt[i]! <= best) continue;
    if (away !== undefined && ((i % width) - away.x) ** 2 + (Math.floor(i / width) - away.y) ** 2 <= apart * apart) continue;
    (best = dt[i]!), (bestAt = i);
  }
  return bestAt < 0 ? undefined : { x: bestAt % width, y: Math.floor(bestAt / width), radius: best };
};

/** Where the palm centre may be: the silhouette's deepest point, then (only looked for when the
 *  first gives no fingers) the deepest point well away from it. An occluder biting into the palm
 *  can leave the forearm deeper than the palm. */
function* centreCandidates(dt: Float32Array, width: number, first: CentreCandidate): Generator<CentreCandidate> {
  yield first;
  const second = deepestPoint(dt, width, first, 1.5 * first.radius);
  if (second !== undefined && second.radius >= 0.7 * first.radius) yield second;
}

export const locatePalm = (frame: PalmFrame): PalmLocation => {
  const s = segmentHand(frame.visible, frame.width, frame.height);
  const dt = distanceTransform(s);
  const deepest = deepestPoint(dt, s.width) ?? { x: 0, y: 0, radius: 0 };
  if (deepest.radius * s.factor < 20) throw new PoorQuality({ reason: "palm-too-small", detail: `palm radius ${(deepest.radius * s.factor).toFixed(0)} px` });
  let found: { cx: number; cy: number; radius: number; profile: Float32Array; fingers: Run[] } | undefined;
  let why = "";
  for (const c of centreCandidates(dt, s.width, deepest)) {
    const profile = radialProfile(s, c.x, c.y);
    const fingers = findFingers(profile, c.radius);
    if (typeof fingers !== "string") {
      found = { cx: c.x, cy: c.y, radius: c.radius, profile, fingers };
      break;
    }
    why ||= fingers;
  }
  if (found === undefined) throw new PoorQuality({ reason: "fingers-not-apart", detail: why });
  const { cx, cy, radius, profile, fingers } = found;
  const valleys: ImagePoint[] = [];
  for (let k = 0; k < 3; k++) {
    const a = fingers[k]!, b = fingers[k + 1]!;
    // Fingers are in ray order: walk the gap from one to the next.
    const [from, to] = [a, b];
    let minR = Infinity, minAt = 0;
    for (let t = from.end + 1; t < from.end + 1 + gapBetween(from, to); t++) {
      const rr = profile[t % RAYS]!;
      if (rr < minR) (minR = rr), (minAt = t % RAYS);
    }
    const theta = (2 * Math.PI * minAt) / RAYS;
    valleys.push({ x: (cx + minR * Math.cos(theta) + 0.5) * s.factor, y: (cy + minR * Math.sin(theta) + 0.5) * s.factor });
  }
  const [v1, v2, v3] = valleys as [ImagePoint, ImagePoint, ImagePoint];
  const ex = v3.x - v1.x, ey = v3.y - v1.y;
  const d = Math.hypot(ex, ey);
  const centre = { x: (cx + 0.5) * s.factor, y: (cy + 0.5) * s.factor };
  // Normal to the baseline, pointing from the fingers to the wrist (towards the palm centre).
  let nx = -ey / d, ny = ex / d;
  const mx = (v1.x + v3.x) / 2, my = (v1.y + v3.y) / 2;
  if ((centre.x - mx) * nx + (centre.y - my) * ny < 0) (nx = -nx), (ny = -ny);
  const side = sideReach(s, mx, my, nx, ny, ex / d, ey / d, d) * s.factor;
  // Three views of the palm's size, each in palm radii; an occluder can spoil one of them (a dark
  // one shrinks the inscribed disc, a bright one joined to the silhouette swells it, either can
  // shorten or stretch one side), and the median ignores it.
  // The inscribed disc is the most precise of them (+-1 %) and is kept when the side agrees.
  const agree = Math.abs(SCALE_PER_SIDE_REACH * side - radius * s.factor) <= SCALE_AGREEMENT * radius * s.factor;
  const r = agree ? radius * s.factor : medianOfThree(radius * s.factor, SCALE_PER_SIDE_REACH * side, SCALE_PER_BASELINE * d);
  const roi: PalmRoi = {
    centreX: mx + nx * ROI_GEOMETRY.offset * r,
    centreY: my + ny * ROI_GEOMETRY.offset * r,
    side: ROI_GEOMETRY.side * r,
    // The ROI's y axis points to the wrist: fingers up, for both hands.
    angle: Math.atan2(-nx, ny),
  };
  return { roi, valleys: [v1, v2, v3], palmCentre: centre, palmRadius: radius * s.factor, silhouette: s, sideReach: side };
};
