import { describe, expect, test } from "vitest";
import { InvalidSignature } from "../../core/errors.ts";
import { averageSignatures, signatureFromBytes, signatureToBytes, similarity, toPalmSignature } from "../../core/palm-signature.ts";

const vector = (f: (i: number) => number, n = 8) => Array.from({ length: n }, (_, i) => f(i));

describe("palm signature", () => {
  test("is normalised to unit length", () => {
    const s = toPalmSignature(vector((i) => i + 1), 8);
    expect(similarity(s, s)).toBeCloseTo(1, 6);
  });

  test("of the wrong length is refused with a typed error", () => {
    expect(() => toPalmSignature([1, 2, 3], 8)).toThrow(InvalidSignature);
  });

  test("with a non-finite value is refused", () => {
    expect(() => toPalmSignature(vector((i) => (i === 3 ? Number.NaN : 1)), 8)).toThrow(InvalidSignature);
  });

  test("of all zeros is refused", () => {
    expect(() => toPalmSignature(vector(() => 0), 8)).toThrow(/zero norm/);
  });

  test("similarity of orthogonal signatures is zero", () => {
    const a = toPalmSignature(vector((i) => (i === 0 ? 1 : 0)), 8);
    const b = toPalmSignature(vector((i) => (i === 1 ? 1 : 0)), 8);
    expect(similarity(a, b)).toBe(0);
  });

  test("the average of captures lies between them", () => {
    const a = toPalmSignature(vector((i) => (i === 0 ? 1 : 0)), 8);
    const b = toPalmSignature(vector((i) => (i === 1 ? 1 : 0)), 8);
    const mean = averageSignatures([a, b]);
    expect(similarity(mean, a)).toBeCloseTo(Math.SQRT1_2, 6);
    expect(similarity(mean, b)).toBeCloseTo(Math.SQRT1_2, 6);
  });

  test("survives a round trip through bytes", () => {
    const s = toPalmSignature(vector((i) => Math.sin(i)), 8);
    expect(Array.from(signatureFromBytes(signatureToBytes(s), 8))).toEqual(Array.from(s));
  });

  test("from bytes of the wrong size is refused", () => {
    expect(() => signatureFromBytes(new Uint8Array(31), 8)).toThrow(InvalidSignature);
  });
});
