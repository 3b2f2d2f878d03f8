import { describe, expect, test } from "vitest";
import { compareHlc, decodeHlc, encodeHlc, HybridLogicalClock, MAX_HLC_COUNTER } from "../../core/hybrid-logical-clock.ts";

describe("hybrid logical clock", () => {
  test("timestamps increase even when the wall clock stands still", () => {
    const hlc = new HybridLogicalClock("eu", () => 1_000);
    const a = hlc.now();
    const b = hlc.now();
    expect(compareHlc(a, b)).toBeLessThan(0);
  });

  test("timestamps never go backwards when the wall clock does", () => {
    let wall = 5_000;
    const hlc = new HybridLogicalClock("eu", () => wall);
    const before = hlc.now();
    wall = 1_000;
    expect(compareHlc(before, hlc.now())).toBeLessThan(0);
  });

  test("a local event after observing a remote timestamp orders after it", () => {
    const local = new HybridLogicalClock("eu", () => 1_000);
    const remote = { wallMs: 9_000, counter: 4, nodeId: "us" };
    local.observe(remote);
    expect(compareHlc(remote, local.now())).toBeLessThan(0);
  });

  test("a remote counter at its bound moves the clock to the next millisecond instead of past the bound", () => {
    const local = new HybridLogicalClock("eu", () => 1_000);
    const remote = { wallMs: 1_000, counter: MAX_HLC_COUNTER, nodeId: "us" };
    const observed = local.observe(remote);
    const next = local.now();
    expect(observed).toEqual({ wallMs: 1_001, counter: 0, nodeId: "eu" });
    expect(next.counter).toBeLessThanOrEqual(MAX_HLC_COUNTER);
    expect(compareHlc(remote, next)).toBeLessThan(0);
  });

  test("encoded timestamps sort as strings in timestamp order", () => {
    const stamps = [
      { wallMs: 10, counter: 2, nodeId: "a" },
      { wallMs: 9, counter: 99, nodeId: "z" },
      { wallMs: 10, counter: 2, nodeId: "b" },
      { wallMs: 0x1_0000_0000, counter: 0, nodeId: "a" },
    ];
    const byString = [...stamps].sort((x, y) => (encodeHlc(x) < encodeHlc(y) ? -1 : 1));
    const byClock = [...stamps].sort(compareHlc);
    expect(byString).toEqual(byClock);
  });

  test("decoding reverses encoding, node ids with dots included", () => {
    const t = { wallMs: 1_700_000_000_000, counter: 7, nodeId: "eu.west" };
    expect(decodeHlc(encodeHlc(t))).toEqual(t);
  });

  test("decoding rejects text that is not a timestamp", () => {
    expect(() => decodeHlc("yesterday")).toThrow(RangeError);
  });
});
