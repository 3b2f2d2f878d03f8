import { describe, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { PendingReplies } from "../../core/pending-replies.ts";

const deadline = (clock: ManualClock, afterMs = 1_000) => ({ clock, afterMs, failure: () => new Error("no reply in time") });

describe("pending replies", () => {
  test("a reply reaches the caller that waits for its key", async () => {
    const replies = new PendingReplies<string, string>();
    const a = replies.expect("a");
    const b = replies.expect("b");
    expect(replies.resolve("b", "for b")).toBe(true);
    expect(replies.resolve("a", "for a")).toBe(true);
    await expect(a).resolves.toBe("for a");
    await expect(b).resolves.toBe("for b");
  });

  test("a reply nobody waits for is refused, and a second reply to one key too", () => {
    const replies = new PendingReplies<string, string>();
    expect(replies.resolve("unasked", "x")).toBe(false);
    void replies.expect("a");
    expect(replies.resolve("a", "first")).toBe(true);
    expect(replies.resolve("a", "second")).toBe(false);
  });

  test("a caller with no reply by the deadline is failed, on the injected clock", async () => {
    const clock = new ManualClock();
    const replies = new PendingReplies<string, string>();
    const late = replies.expect("a", deadline(clock));
    clock.advance(999);
    expect(replies.size).toBe(1);
    clock.advance(1);
    await expect(late).rejects.toThrow("no reply in time");
    expect(replies.resolve("a", "too late")).toBe(false);
  });

  test("a reply in time clears its deadline", async () => {
    const clock = new ManualClock();
    const replies = new PendingReplies<string, string>();
    const answered = replies.expect("a", deadline(clock));
    replies.resolve("a", "in time");
    expect(clock.nextDeadline()).toBeUndefined();
    await expect(answered).resolves.toBe("in time");
  });

  test("a second caller for a key already waiting shares its reply", async () => {
    const replies = new PendingReplies<number, string>();
    const first = replies.expect(7);
    const second = replies.expect(7);
    replies.resolve(7, "once");
    await expect(Promise.all([first, second])).resolves.toEqual(["once", "once"]);
  });

  test("when the transport goes away everyone still waiting is failed", async () => {
    const clock = new ManualClock();
    const replies = new PendingReplies<string, string>();
    const waiting = [replies.expect("a", deadline(clock)), replies.expect("b")];
    replies.rejectAll(new Error("link closed"));
    for (const w of waiting) await expect(w).rejects.toThrow("link closed");
    expect(replies.size).toBe(0);
    expect(clock.nextDeadline()).toBeUndefined();
  });
});
