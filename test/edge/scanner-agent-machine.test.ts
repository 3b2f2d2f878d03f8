// The scanner machine driven with injected actors and a manual clock: the flow's shape, without
// hardware or network (those are covered end to end by the demo and restart tests).
import { describe, expect, test } from "vitest";
import { createActor, fromPromise, waitFor } from "xstate";
import { ManualClock } from "../../core/clock.ts";
import { ENROLLMENT_CAPTURES, RESULT_DISPLAY_MS, scannerAgentMachine, type ScanOutcome, type ScannerMode } from "../../edge/scanner-agent-machine.ts";

const start = (mode: ScannerMode, options: { capture?: () => Promise<Uint8Array>; submit?: (captures: readonly Uint8Array[]) => Promise<ScanOutcome> } = {}) => {
  const clock = new ManualClock(0);
  let captures = 0;
  const submitted: (readonly Uint8Array[])[] = [];
  const machine = scannerAgentMachine.provide({
    actors: {
      captureSealedSignature: fromPromise(options.capture ?? (async () => new Uint8Array([captures++]))),
      submit: fromPromise<ScanOutcome, { mode: ScannerMode; sealedCaptures: readonly Uint8Array[]; startedAt: number }>(async ({ input }) => {
        submitted.push(input.sealedCaptures);
        return options.submit ? options.submit(input.sealedCaptures) : { kind: "not-identified", latencyMs: 1 };
      }),
    },
  });
  const actor = createActor(machine, { input: { mode }, clock: { setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h) } }).start();
  return { actor, clock, submitted };
};

describe("scanner agent machine", () => {
  test("an identification takes one capture and submits it", async () => {
    const { actor, submitted } = start("identification");
    actor.send({ type: "HAND_PRESENTED", at: 0 });
    await waitFor(actor, (s) => s.matches("showingResult"));
    expect(submitted).toHaveLength(1);
    expect(submitted[0]).toHaveLength(1);
  });

  test("an enrollment takes all the captures it needs before it submits", async () => {
    const { actor, submitted } = start("enrollment", { submit: async () => ({ kind: "enrolled", identityId: "id_x", latencyMs: 1 }) });
    actor.send({ type: "HAND_PRESENTED", at: 0 });
    const shown = await waitFor(actor, (s) => s.matches("showingResult"));
    expect(submitted[0]).toHaveLength(ENROLLMENT_CAPTURES);
    expect(shown.context.lastOutcome).toMatchObject({ kind: "enrolled" });
  });

  test("the result stays on the display, then the scanner is idle again", async () => {
    const { actor, clock } = start("identification");
    actor.send({ type: "HAND_PRESENTED", at: 0 });
    await waitFor(actor, (s) => s.matches("showingResult"));
    clock.advance(RESULT_DISPLAY_MS - 1);
    expect(actor.getSnapshot().value).toBe("showingResult");
    clock.advance(1);
    expect(actor.getSnapshot().value).toBe("idle");
  });

  test("a hand withdrawn during capture cancels the flow without submitting", async () => {
    const { actor, submitted } = start("enrollment", { capture: () => new Promise<Uint8Array>(() => {}) });
    actor.send({ type: "HAND_PRESENTED", at: 0 });
    actor.send({ type: "HAND_WITHDRAWN" });
    expect(actor.getSnapshot().context.lastOutcome).toEqual({ kind: "failed", reason: "hand withdrawn" });
    expect(submitted).toHaveLength(0);
  });

  test("a failed capture is shown as the reason, not thrown", async () => {
    const { actor } = start("identification", { capture: async () => Promise.reject(new Error("palm not fully in view")) });
    actor.send({ type: "HAND_PRESENTED", at: 0 });
    const shown = await waitFor(actor, (s) => s.matches("showingResult"));
    expect(shown.context.lastOutcome).toEqual({ kind: "failed", reason: "palm not fully in view" });
  });

  test("sealed captures are cleared from the snapshot once the flow ends", async () => {
    const { actor } = start("enrollment", { submit: async () => ({ kind: "enrolled", identityId: "id_x", latencyMs: 1 }) });
    actor.send({ type: "HAND_PRESENTED", at: 0 });
    const shown = await waitFor(actor, (s) => s.matches("showingResult"));
    expect(shown.context.sealedCaptures).toEqual([]);
  });
});
