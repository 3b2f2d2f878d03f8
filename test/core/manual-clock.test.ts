import { expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";

test("a manual clock fires timers in deadline order as it advances", () => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push("late"), 300);
  clock.setTimeout(() => fired.push("early"), 100);
  clock.advance(200);
  expect(fired).toEqual(["early"]);
  clock.advance(100);
  expect(fired).toEqual(["early", "late"]);
  expect(clock.now()).toBe(300);
});

test("a cleared timer never fires", () => {
  const clock = new ManualClock(0);
  let fired = false;
  const handle = clock.setTimeout(() => (fired = true), 10);
  clock.clearTimeout(handle);
  clock.advance(1_000);
  expect(fired).toBe(false);
});

test("a timer set by a firing timer fires in the same advance when due", () => {
  const clock = new ManualClock(0);
  const at: number[] = [];
  clock.setTimeout(() => {
    at.push(clock.now());
    clock.setTimeout(() => at.push(clock.now()), 50);
  }, 100);
  clock.advance(500);
  expect(at).toEqual([100, 150]);
});
