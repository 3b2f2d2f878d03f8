import { expect, test } from "vitest";
import { palmPatternFor } from "../../hardware/synthetic-palm/palm-pattern.ts";
import { renderIdentityTexture } from "../../hardware/synthetic-palm/palm-texture.ts";
import { handShapeFor } from "../../hardware/synthetic-palm/hand-shape.ts";
import { HandFrameWorkspace, renderHandFrame } from "../../hardware/synthetic-palm/hand-frame-renderer.ts";
import { locatePalm } from "../../edge/biometrics/palm-localiser.ts";

// Renders hands in known poses and checks that the ROI found from the silhouette lands on the same
// patch of palm, whatever the rotation, scale, position and finger spread.
const located = (() => {
  const out: { u: number; v: number; sideUnits: number; angleError: number }[] = [];
  let work: HandFrameWorkspace | undefined;
  for (let s = 0; s < 8; s++) {
    const side = s % 2 === 0 ? "right" : "left";
    const pattern = palmPatternFor(41_000 + s, side);
    const texture = renderIdentityTexture(pattern);
    work ??= new HandFrameWorkspace(640, 480, texture.visible.length);
    for (let c = 0; c < 3; c++) {
      const { frame, conditions: k } = renderHandFrame(pattern, handShapeFor(41_000 + s, side), texture, s * 31 + c, "live", work, 0);
      let location;
      try {
        location = locatePalm(frame);
      } catch {
        continue;
      }
      const { roi } = location;
      const dx = (roi.centreX - k.centreX) / k.scale, dy = (roi.centreY - k.centreY) / k.scale;
      const cos = Math.cos(k.rotation), sin = Math.sin(k.rotation);
      const u = dx * cos + dy * sin;
      const e = roi.angle - k.rotation;
      out.push({ u: side === "left" ? -u : u, v: dx * sin - dy * cos, sideUnits: roi.side / k.scale, angleError: Math.atan2(Math.sin(e), Math.cos(e)) });
    }
  }
  return out;
})();

test("the palm is located in nearly every live capture", () => {
  expect(located.length).toBeGreaterThanOrEqual(22);
});

test("the ROI's rotation follows the hand's rotation to within 3 degrees", () => {
  for (const l of located) expect(Math.abs(l.angleError)).toBeLessThan((3 * Math.PI) / 180);
});

test("the ROI's side follows the hand's scale to within 10 percent", () => {
  for (const l of located) expect(Math.abs(l.sideUnits / 1.6 - 1)).toBeLessThan(0.1);
});

test("the ROI is centred on the palm centre to within 0.15 palm half-widths", () => {
  for (const l of located) {
    expect(Math.abs(l.u)).toBeLessThan(0.15);
    expect(Math.abs(l.v - 0.05)).toBeLessThan(0.15);
  }
});

// Hands with something held against the palm's side or wrist (a quarter of captures): the
// occluder shrinks or swells the silhouette there, which must not move or rescale the ROI.
const occluded = (() => {
  const out: { acquired: boolean; sideUnits: number; v: number }[] = [];
  let work: HandFrameWorkspace | undefined;
  for (let s = 0; s < 40 && out.length < 60; s++) {
    const side = s % 2 === 0 ? "right" : "left";
    const pattern = palmPatternFor(43_000 + s, side);
    const texture = renderIdentityTexture(pattern);
    work ??= new HandFrameWorkspace(640, 480, texture.visible.length);
    for (let c = 0; c < 12 && out.length < 60; c++) {
      const { frame, conditions: k } = renderHandFrame(pattern, handShapeFor(43_000 + s, side), texture, s * 53 + c, "live", work, 0);
      if (k.occluder === undefined) continue;
      try {
        const { roi } = locatePalm(frame);
        const dx = (roi.centreX - k.centreX) / k.scale, dy = (roi.centreY - k.centreY) / k.scale;
        out.push({ acquired: true, sideUnits: roi.side / k.scale, v: dx * Math.sin(k.rotation) - dy * Math.cos(k.rotation) });
      } catch {
        out.push({ acquired: false, sideUnits: NaN, v: NaN });
      }
    }
  }
  return out;
})();

test("the palm is located in at least 95 percent of captures with an occluder", () => {
  expect(occluded.length).toBe(60);
  expect(occluded.filter((o) => o.acquired).length).toBeGreaterThanOrEqual(57);
});

test("an occluder changes the ROI's side by less than 8 percent", () => {
  for (const o of occluded.filter((x) => x.acquired)) expect(Math.abs(o.sideUnits / 1.6 - 1)).toBeLessThan(0.08);
});
