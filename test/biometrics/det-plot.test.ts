import sharp from "sharp";
import { expect, test } from "vitest";
import { drawDetCurve } from "../../edge/biometrics/evaluation/det-plot.ts";

test("the DET plot is a 640x520 RGB PNG", async () => {
  const png = await drawDetCurve(
    [
      { fmr: 1, fnmr: 0 },
      { fmr: 1e-2, fnmr: 1e-3 },
      { fmr: 1e-4, fnmr: 1e-2 },
    ],
    2e-3,
  );
  const meta = await sharp(png).metadata();
  expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(["png", 640, 520, 3]);
});
