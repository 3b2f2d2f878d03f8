import { describe, expect, test } from "vitest";
import { palmTemplateFromCells, type PalmTemplateShape } from "../../core/palm-template.ts";
import { matchPalmTemplates, popcount32, type TemplateMatchOptions } from "../../core/palm-template-matching.ts";

// 4x4 grids, six orientations: angular distance per cell in 0..3, normalised by 3.
const shape: PalmTemplateShape = { grid: 4, orientations: 6, scales: 1, channels: ["surface"] };
const grid = (rows: readonly string[]) => rows.join("").split("").map(Number);
const ones = grid(["1111", "1111", "1111", "1111"]);
const template = (winners: readonly number[], valid: readonly number[] = ones, s: PalmTemplateShape = shape) => palmTemplateFromCells(s, [{ winners, valid }]);
const options = (o: Partial<TemplateMatchOptions> = {}): TemplateMatchOptions => ({
  maxShift: 0,
  minOverlap: 0,
  channelWeights: { surface: 1, veins: 1 },
  search: "exhaustive",
  ...o,
});

const pattern = grid(["0123", "4501", "2345", "0123"]);

describe("palm template matching", () => {
  test("popcount counts the set bits of a 32-bit word", () => {
    expect(popcount32(0)).toBe(0);
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(0x80000001)).toBe(2);
  });

  test("identical codes have similarity 1", () => {
    expect(matchPalmTemplates(template(pattern), template(pattern), options())).toBe(1);
  });

  test("perpendicular codes everywhere have similarity 0", () => {
    // Orientation 0 against 3: distance 3 of 3 in every cell.
    expect(matchPalmTemplates(template(grid(["0000", "0000", "0000", "0000"])), template(grid(["3333", "3333", "3333", "3333"])), options())).toBe(0);
  });

  test("similarity is one minus the mean angular distance over the cells", () => {
    // 8 cells differ by one step (1/3), 4 by two (2/3), 4 agree: mean (8/3 + 8/3) / 16 = 1/3.
    const a = grid(["0000", "0000", "0000", "0000"]);
    const b = grid(["1111", "5555", "2222", "0000"]);
    expect(matchPalmTemplates(template(a), template(b), options())).toBeCloseTo(1 - 1 / 3, 12);
  });

  test("angular distance wraps around: orientations 0 and 5 are one step apart", () => {
    const a = grid(["0000", "0000", "0000", "0000"]),
      b = grid(["5555", "5555", "5555", "5555"]);
    expect(matchPalmTemplates(template(a), template(b), options())).toBeCloseTo(2 / 3, 12);
  });

  test("a shifted code matches fully once the search covers the shift, over the overlapping cells", () => {
    // b is a moved one column right and one row down (new cells filled with 3s).
    const b = grid(["3333", "3012", "3450", "3234"]);
    expect(matchPalmTemplates(template(pattern), template(b), options({ maxShift: 1 }))).toBe(1);
    expect(matchPalmTemplates(template(pattern), template(b), options({ maxShift: 0 }))).toBeLessThan(0.7);
  });

  test("cells invalid in either template do not count", () => {
    const b = grid(["0123", "4501", "2345", "3333"]);
    const noLastRow = grid(["1111", "1111", "1111", "0000"]);
    expect(matchPalmTemplates(template(pattern), template(b), options())).toBeLessThan(1);
    expect(matchPalmTemplates(template(pattern, noLastRow), template(b), options())).toBe(1);
    expect(matchPalmTemplates(template(pattern), template(b, noLastRow), options())).toBe(1);
  });

  test("a shift whose valid overlap is below the minimum is not scored", () => {
    const few = grid(["1100", "0000", "0000", "0000"]);
    expect(matchPalmTemplates(template(pattern, few), template(pattern), options({ minOverlap: 0.25 }))).toBe(0);
    expect(matchPalmTemplates(template(pattern, few), template(pattern), options({ minOverlap: 0.125 }))).toBe(1);
  });

  test("the best of the probe's rotated variants wins", () => {
    const wrong = template(grid(["3333", "3333", "3333", "3333"]));
    expect(matchPalmTemplates([wrong, template(pattern)], template(pattern), options())).toBe(1);
    // Against all 3s the pattern is 24 steps off over 16 cells: 1 - 24 / 48.
    expect(matchPalmTemplates([wrong], template(pattern), options())).toBe(0.5);
  });

  test("channels are weighted, and only channels both templates have count", () => {
    const two: PalmTemplateShape = { ...shape, channels: ["surface", "veins"] };
    const zeros = grid(["0000", "0000", "0000", "0000"]),
      threes = grid(["3333", "3333", "3333", "3333"]);
    const a = palmTemplateFromCells(two, [
      { winners: zeros, valid: ones },
      { winners: zeros, valid: ones },
    ]);
    const b = palmTemplateFromCells(two, [
      { winners: zeros, valid: ones },
      { winners: threes, valid: ones },
    ]);
    // Surface distance 0 (weight 0.6), veins distance 1 (weight 0.4): similarity 0.6.
    expect(matchPalmTemplates(a, b, options({ channelWeights: { surface: 0.6, veins: 0.4 } }))).toBeCloseTo(0.6, 12);
    const surfaceOnly = template(zeros);
    expect(matchPalmTemplates(b, surfaceOnly, options({ channelWeights: { surface: 0.6, veins: 0.4 } }))).toBe(1);
  });

  // A 16x16 code smooth at the scale of one cell, as palm lines are (2x2 blocks of one orientation,
  // from a fixed pseudo-random sequence), and the same code moved one column right and one row
  // down, new cells filled with orientation 3.
  const shape16: PalmTemplateShape = { ...shape, grid: 16 };
  const code16 = Array.from({ length: 256 }, (_, i) => {
    const block = (i >> 5) * 8 + ((i % 16) >> 1);
    return (block * 7 + ((block * block) >> 2)) % 6;
  });
  const moved16 = Array.from({ length: 256 }, (_, i) => (i % 16 === 0 || i < 16 ? 3 : code16[i - 17]!));
  const all16 = Array<number>(256).fill(1);
  const t16 = (w: readonly number[]) => palmTemplateFromCells(shape16, [{ winners: w, valid: all16 }]);

  test("the coarse-to-fine search finds a shift off its coarse lattice", () => {
    // (1, 1) is not on the lattice of even shifts; its neighbour (0, 0) or (2, 2) leads there.
    expect(matchPalmTemplates(t16(code16), t16(moved16), options({ maxShift: 2, minOverlap: 0.5, search: "coarse-to-fine" }))).toBe(1);
  });

  test("the coarse-to-fine search tries every rotation around the best shift", () => {
    const wrong = t16(Array<number>(256).fill(3));
    expect(matchPalmTemplates([wrong, t16(code16)], t16(moved16), options({ maxShift: 2, minOverlap: 0.5, search: "coarse-to-fine" }))).toBeLessThan(1);
    expect(matchPalmTemplates([t16(code16), wrong], t16(moved16), options({ maxShift: 2, minOverlap: 0.5, search: "coarse-to-fine" }))).toBe(1);
  });
});
