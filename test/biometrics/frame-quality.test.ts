import { expect, test } from "vitest";
import { measureQuality, requireQuality } from "../../edge/biometrics/frame-quality.ts";

/** A 128x128 ROI at grey level 100 with vertical stripes of the given amplitude and period (pixels):
 *  contrast = amplitude / sqrt(2); sharpness grows with amplitude and falls with period. */
const stripes = (amplitude: number, period: number): Float32Array => {
  const roi = new Float32Array(128 * 128);
  for (let i = 0; i < roi.length; i++) roi[i] = 100 + amplitude * Math.sin((2 * Math.PI * (i % 128)) / period);
  return roi;
};

test("a faint, smooth palm such as a real NIR palm (contrast 5, sharpness 0.9) passes the quality gate", () => {
  const m = measureQuality(stripes(7, 14), 128, 128);
  expect(m.contrast).toBeGreaterThan(4.5);
  expect(m.contrast).toBeLessThan(5.5);
  expect(() => requireQuality(m)).not.toThrow();
});

test("a nearly flat field is refused as low-contrast", () => {
  expect(() => requireQuality(measureQuality(stripes(4, 14), 128, 128))).toThrow(expect.objectContaining({ reason: "low-contrast" }));
});

test("a palm blurred until no line is left is refused as out of focus", () => {
  expect(() => requireQuality(measureQuality(stripes(12, 40), 128, 128))).toThrow(expect.objectContaining({ reason: "out-of-focus" }));
});
