import { describe, expect, test } from "vitest";
import { cellsInside, codeCells, templateFromResponses, transformRoi } from "../../edge/biometrics/palm-template-encoder.ts";
import { TEMPLATE_CODE_DESIGN } from "../../models/signature-model-graph.ts";
import { cellOrientation, cellValid } from "../../core/palm-template.ts";
import { ROI_SIZE } from "../../edge/biometrics/signature-model-contract.ts";

const { orientations, grid } = TEMPLATE_CODE_DESIGN;
const cells = grid * grid;
const everywhere = new Uint8Array(cells).fill(1);

// Cell i's most negative response is at orientation i mod N, with depth growing with i (its line energy).
const responses = () => {
  const r = new Float32Array(orientations * cells);
  for (let i = 0; i < cells; i++) r[(i % orientations) * cells + i] = -(1 + i);
  return r;
};

describe("palm template encoder", () => {
  test("codes each cell by its most negative response (dark lines)", () => {
    const { winners } = codeCells(responses(), everywhere, 0);
    for (const i of [0, 5, 13, 1000]) expect(winners[i]).toBe(i % orientations);
  });

  test("masks the given share of cells with the least line energy", () => {
    const { valid } = codeCells(responses(), everywhere, 0.25);
    expect(valid.slice(0, cells / 4).every((v) => v === 0)).toBe(true);
    expect(valid.slice(cells / 4).every((v) => v === 1)).toBe(true);
  });

  test("masks cells that a variant takes outside the ROI", () => {
    const { valid } = codeCells(responses(), cellsInside({ degrees: 8, scale: 1.07 }), 0);
    expect(valid[0]).toBe(0);
    expect(valid[(grid / 2) * grid + grid / 2]).toBe(1);
  });

  test("the unchanged variant and a zoom-in keep every cell inside", () => {
    expect(cellsInside({ degrees: 0, scale: 1 }).every((v) => v === 1)).toBe(true);
    expect(cellsInside({ degrees: 0, scale: 0.93 }).every((v) => v === 1)).toBe(true);
  });

  test("a quarter turn of the ROI moves its pixels about the centre", () => {
    const roi = new Float32Array(ROI_SIZE * ROI_SIZE);
    roi[0] = 255;
    const out = new Float32Array(roi.length);
    transformRoi(roi, { degrees: 90, scale: 1 }, out);
    // Output (x, y) reads source (2h - y, x) with h = 63.5: source (0, 0) lands at (0, 127).
    expect(out[(ROI_SIZE - 1) * ROI_SIZE]).toBeCloseTo(255, 3);
    expect(out[0]).toBe(0);
  });

  test("a template holds the channels it was given responses for", () => {
    const t = templateFromResponses({ veins: responses() }, everywhere);
    expect(t.channels).toEqual(["veins"]);
    expect(cellOrientation(t, 0, 0, 5, 0)).toBe(5 % orientations);
    expect(cellValid(t, 0, 0, grid - 1, grid - 1)).toBe(true);
  });
});
