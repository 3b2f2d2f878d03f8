import { describe, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { ProbeGuard, ProbingLimited } from "../../cloud/session/probe-guard.ts";

const makeGuard = () => {
  const clock = new ManualClock(0);
  const logs: string[] = [];
  const guard = new ProbeGuard({ clock, log: (line) => logs.push(line), limit: { capacity: 3, refillPerSecond: 1 / 60 } });
  return { clock, logs, guard };
};

describe("probe guard", () => {
  test("lets a device through while it has failures left", () => {
    const { guard } = makeGuard();
    guard.recordFailure("lane-1");
    guard.recordFailure("lane-1");
    expect(() => guard.check("lane-1")).not.toThrow();
  });

  test("refuses a device that used up its failures, and only that device", () => {
    const { guard } = makeGuard();
    for (let i = 0; i < 3; i++) guard.recordFailure("lane-1");
    expect(() => guard.check("lane-1")).toThrow(ProbingLimited);
    expect(() => guard.check("lane-2")).not.toThrow();
  });

  test("reports a limited device once per episode with a log line naming it and a counter", () => {
    const { guard, logs } = makeGuard();
    for (let i = 0; i < 3; i++) guard.recordFailure("lane-1");
    for (let i = 0; i < 4; i++) expect(() => guard.check("lane-1")).toThrow(ProbingLimited);
    expect(logs.filter((l) => l.includes("device lane-1 rate-limited"))).toHaveLength(1);
    expect(guard.refused.get("lane-1")).toBe(4);
    expect(guard.failures.get("lane-1")).toBe(3);
  });

  test("lets the device through again once its bucket refilled on the clock", () => {
    const { guard, clock } = makeGuard();
    for (let i = 0; i < 3; i++) guard.recordFailure("lane-1");
    clock.advance(59_000);
    expect(() => guard.check("lane-1")).toThrow(ProbingLimited);
    clock.advance(1_000);
    expect(() => guard.check("lane-1")).not.toThrow();
  });
});
