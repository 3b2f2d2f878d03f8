// Everything about one capture that is not the hand's identity: pose, spread, light, noise,
// blur and occlusion, drawn from the capture seed. Ranges follow the brief: rotation
// +-20 degrees, distance (scale) +-15%, translation, finger spread, illumination, sensor noise,
// motion and defocus blur, partial occlusion.
import type { SeededRandom } from "./seeded-random.ts";

export interface CaptureConditions {
  /** Radians; positive turns the fingers clockwise in the image. */
  readonly rotation: number;
  /** Pixels per hand unit. */
  readonly scale: number;
  /** Palm centre in the frame, pixels. */
  readonly centreX: number;
  readonly centreY: number;
  /** 0 = fingers together (but not touching), 1 = fully spread. */
  readonly spread: number;
  readonly visibleGain: number;
  readonly nirGain: number;
  /** Illumination gradient across the frame, relative change per frame width / height. */
  readonly gradientX: number;
  readonly gradientY: number;
  readonly visibleNoise: number;
  readonly nirNoise: number;
  /** Box defocus radius in pixels (0 = sharp). */
  readonly defocus: number;
  /** Motion smear length in pixels and its direction. */
  readonly motionLength: number;
  readonly motionAngle: number;
  readonly occluder?: { readonly x: number; readonly y: number; readonly rx: number; readonly ry: number; readonly level: number };
}

export const NOMINAL_SCALE = 70;

export const drawCaptureConditions = (r: SeededRandom, width: number, height: number): CaptureConditions => {
  const deg = Math.PI / 180;
  const scale = NOMINAL_SCALE * r.range(0.85, 1.15);
  const rotation = r.range(-20, 20) * deg;
  const base = {
    rotation,
    scale,
    centreX: width / 2 + r.range(-0.06, 0.06) * width,
    centreY: height * 0.6 + r.range(-0.04, 0.04) * height,
    spread: r.range(0.3, 1),
    visibleGain: r.range(0.75, 1.2),
    nirGain: r.range(0.8, 1.15),
    gradientX: r.range(-0.25, 0.25),
    gradientY: r.range(-0.25, 0.25),
    visibleNoise: r.range(1.5, 5),
    nirNoise: r.range(1.5, 5),
    defocus: r.chance(0.3) ? r.int(1, 2) : 0,
    motionLength: r.chance(0.3) ? r.int(2, 5) : 0,
    motionAngle: r.range(0, Math.PI),
  };
  if (!r.chance(0.25)) return base;
  // Something (a sleeve, a strap, the other hand) covers part of the palm's side or the wrist.
  const u = (r.chance(0.5) ? 1 : -1) * r.range(1.05, 1.6);
  const v = r.range(-2.2, 0.2);
  const cos = Math.cos(rotation),
    sin = Math.sin(rotation);
  return {
    ...base,
    occluder: {
      x: base.centreX + scale * (u * cos + v * sin),
      y: base.centreY + scale * (u * sin - v * cos),
      rx: scale * r.range(0.3, 0.7),
      ry: scale * r.range(0.3, 0.7),
      level: r.range(10, 90),
    },
  };
};
