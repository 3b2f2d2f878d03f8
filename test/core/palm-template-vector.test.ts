import { describe, expect, test } from "vitest";
import { InvalidPalmTemplate, palmTemplateFromCells } from "../../core/palm-template.ts";
import { PALM_VECTOR_DIMENSION, palmIndexVector, palmTemplateVector, palmVectorDimension } from "../../core/palm-template-vector.ts";
import { cosine } from "../../core/palm-vector.ts";

const weights = { surface: 0.5, veins: 0.5 };
const cells16 = (f: (i: number) => number) => Array.from({ length: 16 }, (_, i) => f(i));

describe("palm template vector", () => {
  test("has both channel blocks of 4x4 regions x orientations", () => {
    expect(palmVectorDimension(12)).toBe(384);
    expect(PALM_VECTOR_DIMENSION).toBe(384);
  });

  test("the index takes only templates of the model's orientation count", () => {
    const t = palmTemplateFromCells({ grid: 4, orientations: 6, scales: 1, channels: ["surface"] }, [{ winners: cells16(() => 1), valid: cells16(() => 1) }]);
    expect(() => palmIndexVector(t)).toThrow(InvalidPalmTemplate);
  });

  test("pools one valid cell into the overlapping regions around it, as orientation minus chance", () => {
    // 4x4 grid, 2 orientations, one valid cell at (0, 0) with orientation 1: regions (0..1, 0..1)
    // each hold [-1/2, +1/2]; 8 non-zero values of equal size, renormalised to 1/sqrt(8).
    const t = palmTemplateFromCells({ grid: 4, orientations: 2, scales: 1, channels: ["surface"] }, [
      { winners: cells16(() => 1), valid: cells16((i) => (i === 0 ? 1 : 0)) },
    ]);
    const v = palmTemplateVector(t, weights);
    expect(v.length).toBe(palmVectorDimension(2));
    const nonZero = [...v].map((x, i) => [i, x] as const).filter(([, x]) => Math.abs(x) > 1e-9);
    expect(nonZero.map(([i]) => i)).toEqual([0, 1, 2, 3, 8, 9, 10, 11]);
    expect(v[1]).toBeCloseTo(1 / Math.sqrt(8), 6);
    expect(v[0]).toBeCloseTo(-1 / Math.sqrt(8), 6);
  });

  test("a template without veins leaves the veins block zero and still compares on the surface", () => {
    const shape = { grid: 4, orientations: 6, scales: 1 };
    const code = { winners: cells16((i) => i % 6), valid: cells16(() => 1) };
    const surfaceOnly = palmTemplateVector(palmTemplateFromCells({ ...shape, channels: ["surface"] }, [code]), weights);
    const both = palmTemplateVector(palmTemplateFromCells({ ...shape, channels: ["surface", "veins"] }, [code, code]), weights);
    expect(surfaceOnly.subarray(surfaceOnly.length / 2).every((x) => x === 0)).toBe(true);
    expect(cosine(surfaceOnly, both)).toBeCloseTo(Math.sqrt(0.5), 6);
    expect(cosine(both, both)).toBeCloseTo(1, 6);
  });
});
