// Locates the palm in a full-hand frame from the hand's shape and returns a region normalised
// for rotation and scale: the classic finger-valley construction (as in Zhang et al.'s PolyU
// ROI), found from the silhouette's radial profile around the palm centre.
//
// palm centre = deepest point of the silhouette (distance transform), radius R = its depth;
// radial profile r(theta) from the centre -> its prominent peaks are the hand's extremities (rays
// leaving the frame count as reaching far); the fingers are the tightest run of four narrow
// peaks (the arm is wide, the thumb stands off); the minima of r between them are the valleys.
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
/** Least height, in palm radii, of a finger above the valleys beside it. */
const MIN_FINGER_PROMINENCE = 0.25;
/** Rays (degrees) between neighbouring fingertips, seen from the palm centre; the thumb stands
 *  further off. */
const MAX_FINGER_GAP = 45;
/** Widest a finger's peak can be, in rays (degrees) at half its prominence; the arm is wider. */
const MAX_FINGER_WIDTH = 22;

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

/** The radial profile: how far each ray from the palm centre stays on the hand. A ray that leaves
 *  the frame while still on the hand reads as the frame's diagonal: the hand goes on out of view
 *  there (the arm; sometimes a finger), so it reaches far, not as far as the frame's edge. */
const radialProfile = (s: HandSilhouette, cx: number, cy: number): Float32Array => {
  const { mask, width: w, height: h } = s;
  const r = new Float32Array(RAYS);
  const limit = Math.hypot(w, h);
  for (let a = 0; a < RAYS; a++) {
    const theta = (2 * Math.PI * a) / RAYS;
    const dx = Math.cos(theta) * 0.5,
      dy = Math.sin(theta) * 0.5;
    let x = cx,
      y = cy,
      dist = 0;
    for (; dist < limit; dist += 0.5, x += dx, y += dy) {
      const ix = Math.round(x),
        iy = Math.round(y);
      if (ix < 0 || iy < 0 || ix >= w || iy >= h) {
        dist = limit;
        break;
      }
      if (mask[iy * w + ix] === 0) break;
    }
    r[a] = dist;
  }
  return r;
};

/** One extremity of the hand seen from the palm centre: a peak of the radial profile. */
interface Extremity {
  /** Ray of the peak (the middle of a flat top). */
  readonly at: number;
  /** Peak height above the higher of the two lowest points that separate it from anything
   *  taller (topographic prominence), mask pixels. */
  readonly prominence: number;
  /** Rays above half the prominence: narrow for a digit, wide for the arm. */
  readonly width: number;
}

const wrap = (a: number): number => ((a % RAYS) + RAYS) % RAYS;

/** The profile's peaks standing at least `minProminence` above their surroundings, in ray order.
 *  Level-free: fingers are told apart wherever their valleys lie, which depends on the hand's
 *  proportions and on how far the palm centre sits from the finger roots. */
const extremities = (r: Float32Array, minProminence: number): Extremity[] => {
  // Silhouette jaggies make single-ray spikes and notches: a circular median of three removes them.
  const s = new Float32Array(RAYS);
  for (let a = 0; a < RAYS; a++) {
    const x = r[wrap(a - 1)]!,
      y = r[a]!,
      z = r[wrap(a + 1)]!;
    s[a] = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
  }
  let lowest = 0;
  for (let a = 1; a < RAYS; a++) if (s[a]! < s[lowest]!) lowest = a;
  // Walk once round from the lowest ray, so no flat top is split by the wrap-around.
  const out: Extremity[] = [];
  for (let k = 1; k < RAYS; k++) {
    const a = lowest + k;
    const h = s[wrap(a)]!;
    if (!(h > s[wrap(a - 1)]!)) continue;
    let end = a;
    while (end + 1 < lowest + RAYS && s[wrap(end + 1)]! === h) end++;
    if (end + 1 < lowest + RAYS && s[wrap(end + 1)]! > h) continue;
    // A peak [a, end]: walk each way to the first taller ray, keeping the lowest point passed. Of
    // two equal peaks the first counts as the taller, so a notched fingertip is one extremity.
    let leftMin = h,
      rightMin = h,
      left = a - 1,
      right = end + 1;
    for (; left > a - RAYS && s[wrap(left)]! < h; left--) leftMin = Math.min(leftMin, s[wrap(left)]!);
    for (; right < end + RAYS && s[wrap(right)]! <= h; right++) rightMin = Math.min(rightMin, s[wrap(right)]!);
    const prominence = h - Math.max(leftMin, rightMin);
    if (prominence < minProminence) continue;
    let lo = a,
      hi = end;
    while (lo - 1 > a - RAYS && s[wrap(lo - 1)]! > h - prominence / 2) lo--;
    while (hi + 1 < end + RAYS && s[wrap(hi + 1)]! > h - prominence / 2) hi++;
    out.push({ at: wrap(Math.round((a + end) / 2)), prominence, width: hi - lo + 1 });
    k = end - lowest;
  }
  s.fill(0);
  return out.sort((x, y) => x.at - y.at);
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
      const px = (mx + nx * depth * baseline) / s.factor - 0.5,
        py = (my + ny * depth * baseline) / s.factor - 0.5;
      let dist = 0;
      for (; ; dist += 0.5) {
        const ix = Math.round(px + dir * ux * dist),
          iy = Math.round(py + dir * uy * dist);
        if (ix < 0 || iy < 0 || ix >= s.width || iy >= s.height || s.mask[iy * s.width + ix] === 0) break;
      }
      shortest = Math.min(shortest, dist);
    }
    best = Math.max(best, shortest);
  }
  return best;
};

/** Rays from one ray to the next, going round in ray order. */
const raysFrom = (from: number, to: number): number => wrap(to - from);

/** The four fingers among the extremities, in order round the hand, or why they cannot be told
 *  apart: the tightest run of four neighbouring narrow extremities. The arm is wide, whether it
 *  leaves the frame or fades into the dark; the thumb stands further off (and often shows no peak
 *  at all, its side facing the palm centre); a finger may leave the frame. Which end of the run
 *  is the index does not matter for the ROI, which uses only the two outer valleys. */
const findFingers = (peaks: readonly Extremity[]): Extremity[] | string => {
  const narrow = peaks.filter((p) => p.width <= MAX_FINGER_WIDTH).length;
  if (narrow < 4) return `found ${narrow} finger-like extremities, need four`;
  let bestSpan = Infinity,
    bestStart = -1;
  for (let k = 0; k < peaks.length; k++) {
    const run = [0, 1, 2, 3].map((j) => peaks[(k + j) % peaks.length]!);
    if (peaks.length < 4 || run.some((p) => p.width > MAX_FINGER_WIDTH)) continue;
    const gaps = [1, 2, 3].map((j) => raysFrom(run[j - 1]!.at, run[j]!.at));
    const span = gaps.reduce((x, y) => x + y, 0);
    if (gaps.every((g) => g < MAX_FINGER_GAP) && span < bestSpan) (bestSpan = span), (bestStart = k);
  }
  if (bestStart < 0) return `found ${narrow} finger-like extremities, no four of them close together`;
  return [0, 1, 2, 3].map((j) => peaks[(bestStart + j) % peaks.length]!);
};

interface CentreCandidate {
  readonly x: number;
  readonly y: number;
  readonly radius: number;
}

/** The silhouette's deepest point, optionally only among points farther than `apart` (mask
 *  pixels) from `away`; undefined when there is none. */
const deepestPoint = (dt: Float32Array, width: number, away?: CentreCandidate, apart = 0): CentreCandidate | undefined => {
  let best = 0,
    bestAt = -1;
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
  let found: { cx: number; cy: number; radius: number; profile: Float32Array; fingers: Extremity[] } | undefined;
  let why = "";
  for (const c of centreCandidates(dt, s.width, deepest)) {
    const profile = radialProfile(s, c.x, c.y);
    const fingers = findFingers(extremities(profile, MIN_FINGER_PROMINENCE * c.radius));
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
    // The valley is the point of the gap nearest the palm centre.
    const from = fingers[k]!.at,
      gap = raysFrom(from, fingers[k + 1]!.at);
    let minR = Infinity,
      minAt = 0;
    for (let t = from + 1; t < from + gap; t++) {
      const rr = profile[t % RAYS]!;
      if (rr < minR) (minR = rr), (minAt = t % RAYS);
    }
    const theta = (2 * Math.PI * minAt) / RAYS;
    valleys.push({ x: (cx + minR * Math.cos(theta) + 0.5) * s.factor, y: (cy + minR * Math.sin(theta) + 0.5) * s.factor });
  }
  const [v1, v2, v3] = valleys as [ImagePoint, ImagePoint, ImagePoint];
  const ex = v3.x - v1.x,
    ey = v3.y - v1.y;
  const d = Math.hypot(ex, ey);
  const centre = { x: (cx + 0.5) * s.factor, y: (cy + 0.5) * s.factor };
  // Normal to the baseline, pointing from the fingers to the wrist (towards the palm centre).
  let nx = -ey / d,
    ny = ex / d;
  const mx = (v1.x + v3.x) / 2,
    my = (v1.y + v3.y) / 2;
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
