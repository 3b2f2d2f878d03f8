import { describe, expect, test } from "vitest";
import { InvalidSignature } from "../../core/errors.ts";
import { cosine, toPalmVector } from "../../core/palm-vector.ts";

const vector = (f: (i: number) => number, n = 8) => Array.from({ length: n }, (_, i) => f(i));

describe("palm vector", () => {
  test("is normalised to unit length", () => {
    const s = toPalmVector(
      vector((i) => i + 1),
      8,
    );
    expect(cosine(s, s)).toBeCloseTo(1, 6);
  });

  test("of the wrong length is refused with a typed error", () => {
    expect(() => toPalmVector([1, 2, 3], 8)).toThrow(InvalidSignature);
  });

  test("with a non-finite value is refused", () => {
    expect(() =>
      toPalmVector(
        vector((i) => (i === 3 ? Number.NaN : 1)),
        8,
      ),
    ).toThrow(InvalidSignature);
  });

  test("of all zeros is refused", () => {
    expect(() =>
      toPalmVector(
        vector(() => 0),
        8,
      ),
    ).toThrow(/zero norm/);
  });

  test("cosine of orthogonal vectors is zero", () => {
    const a = toPalmVector(
      vector((i) => (i === 0 ? 1 : 0)),
      8,
    );
    const b = toPalmVector(
      vector((i) => (i === 1 ? 1 : 0)),
      8,
    );
    expect(cosine(a, b)).toBe(0);
  });
});
