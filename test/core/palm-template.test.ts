import { describe, expect, test } from "vitest";
import {
  cellOrientation,
  cellValid,
  decodePalmProbe,
  decodePalmTemplate,
  encodePalmProbe,
  encodePalmTemplate,
  InvalidPalmTemplate,
  palmTemplateFromCells,
  PALM_TEMPLATE_MAX_BYTES,
  templateBytes,
  type PalmTemplateShape,
} from "../../core/palm-template.ts";

const shape: PalmTemplateShape = { grid: 4, orientations: 6, scales: 1, channels: ["surface"] };
const cells = (f: (i: number) => number) => Array.from({ length: 16 }, (_, i) => f(i));
const allValid = cells(() => 1);

describe("palm template", () => {
  test("stores each cell's orientation as a circular thermometer code that reads back", () => {
    const t = palmTemplateFromCells(shape, [{ winners: cells((i) => i % 6), valid: allValid }]);
    for (let i = 0; i < 16; i++) expect(cellOrientation(t, 0, 0, i % 4, Math.floor(i / 4))).toBe(i % 6);
  });

  test("the Hamming distance of two cells' code bits is their angular distance", () => {
    // Six orientations, bits of planes 0, 1, 2; distance min(|i-j|, 6-|i-j|).
    const bitsOf = (k: number) => {
      const t = palmTemplateFromCells(shape, [{ winners: cells(() => k), valid: allValid }]);
      return [t.words[0]! & 1, t.words[4]! & 1, t.words[8]! & 1];
    };
    expect([0, 1, 2, 3, 4, 5].map((k) => bitsOf(k).join(""))).toEqual(["000", "100", "110", "111", "011", "001"]);
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        const hamming = bitsOf(i).reduce((n, b, p) => n + (b ^ bitsOf(j)[p]!), 0);
        expect(hamming).toBe(Math.min(Math.abs(i - j), 6 - Math.abs(i - j)));
      }
    }
  });

  test("keeps the validity of each cell", () => {
    const t = palmTemplateFromCells(shape, [{ winners: cells(() => 0), valid: cells((i) => (i === 5 ? 0 : 1)) }]);
    expect(cellValid(t, 0, 0, 1, 1)).toBe(false);
    expect(cellValid(t, 0, 0, 2, 1)).toBe(true);
  });

  test("round-trips through its byte layout", () => {
    const two = { ...shape, channels: ["surface", "veins"] as const };
    const t = palmTemplateFromCells(two, [
      { winners: cells((i) => i % 6), valid: allValid },
      { winners: cells((i) => (i * 5) % 6), valid: cells((i) => i % 2) },
    ]);
    const bytes = encodePalmTemplate(t);
    expect(bytes.byteLength).toBe(templateBytes(two));
    expect(bytes.byteLength).toBe(8 + 2 * (3 + 1) * 4 * 4);
    expect([...bytes.subarray(0, 8)]).toEqual([1, 3, 4, 6, 1, 0, 0, 0]);
    expect(decodePalmTemplate(bytes)).toEqual(t);
  });

  test("a full two-channel 32x32 grid of 12 orientations fits the 2 KB budget", () => {
    expect(templateBytes({ grid: 32, orientations: 12, scales: 1, channels: ["surface", "veins"] })).toBeLessThanOrEqual(PALM_TEMPLATE_MAX_BYTES);
  });

  test("a shape over the 2 KB budget is refused", () => {
    const big = { grid: 32, orientations: 12, scales: 2, channels: ["surface", "veins"] as const };
    expect(() => palmTemplateFromCells(big, [])).toThrow(InvalidPalmTemplate);
  });

  test("an orientation outside the code is refused", () => {
    expect(() => palmTemplateFromCells(shape, [{ winners: cells(() => 6), valid: allValid }])).toThrow(/orientation 6/);
  });

  describe("decoding refuses", () => {
    const good = encodePalmTemplate(palmTemplateFromCells(shape, [{ winners: cells(() => 2), valid: allValid }]));
    const altered = (i: number, v: number) => Uint8Array.from(good, (b, k) => (k === i ? v : b));
    test("an unknown version", () => expect(() => decodePalmTemplate(altered(0, 2))).toThrow(/unknown version/));
    test("no channel", () => expect(() => decodePalmTemplate(altered(1, 0))).toThrow(InvalidPalmTemplate));
    test("an odd orientation count", () => expect(() => decodePalmTemplate(altered(3, 5))).toThrow(/orientations/));
    test("non-zero reserved bytes", () => expect(() => decodePalmTemplate(altered(6, 1))).toThrow(/reserved/));
    test("a length that does not fit the shape", () => expect(() => decodePalmTemplate(good.subarray(0, good.length - 4))).toThrow(/expected/));
    test("bits beyond the grid", () => expect(() => decodePalmTemplate(altered(8, 0x10))).toThrow(/beyond the grid/));
    test("bytes shorter than the header", () => expect(() => decodePalmTemplate(good.subarray(0, 3))).toThrow(/header/));
  });
});

describe("palm probe", () => {
  const variant = (k: number) => palmTemplateFromCells(shape, [{ winners: cells((i) => (i + k) % 6), valid: allValid }]);

  test("round-trips its variants, the stored template first", () => {
    const probe = [variant(0), variant(1), variant(2)];
    const bytes = encodePalmProbe(probe);
    expect(bytes[0]).toBe(3);
    expect(bytes.byteLength).toBe(1 + 3 * templateBytes(shape));
    expect(decodePalmProbe(bytes)).toEqual(probe);
  });

  test("refuses bytes that do not split into its variants", () => {
    const bytes = encodePalmProbe([variant(0), variant(1)]);
    expect(() => decodePalmProbe(bytes.subarray(0, bytes.length - 1))).toThrow(InvalidPalmTemplate);
  });

  test("refuses no variant", () => {
    expect(() => encodePalmProbe([])).toThrow(InvalidPalmTemplate);
    expect(() => decodePalmProbe(Uint8Array.of(0))).toThrow(InvalidPalmTemplate);
  });
});
