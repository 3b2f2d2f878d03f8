import { describe, expect, test } from "vitest";
import { assign, createActor, createMachine, fromPromise, setup } from "xstate";
import { InspectionHub } from "../../inspector/inspection-hub.ts";
import { REDACTED, redactForInspection } from "../../inspector/redaction.ts";

const turnstile = setup({
  types: { context: {} as { passes: number; cardToken: string | undefined; sealedCaptures: Uint8Array[] }, events: {} as { type: "COIN" } | { type: "PUSH" } },
}).createMachine({
  id: "turnstile",
  context: { passes: 0, cardToken: "tok_secret", sealedCaptures: [new Uint8Array(8)] },
  initial: "locked",
  states: {
    locked: { on: { COIN: "unlocked" } },
    unlocked: { on: { PUSH: { target: "locked", actions: assign({ passes: ({ context }) => context.passes + 1 }) } }, after: { 5000: "locked" } },
  },
});

describe("inspection hub", () => {
  test("lists an inspected actor with its statechart and current state", () => {
    const hub = new InspectionHub();
    createActor(turnstile, { inspect: hub.inspectAs("devices"), systemId: "gate-1" }).start();
    const [actor] = hub.actors();
    expect(actor).toMatchObject({ name: "gate-1", group: "devices", value: "locked", status: "active" });
    expect(actor!.statechart!.children.map((c) => c.key)).toEqual(["locked", "unlocked"]);
    expect(actor!.statechart!.children[1]!.delays).toEqual(["5000"]);
    expect(actor!.acceptedEvents).toEqual(["COIN", "PUSH"]);
  });

  test("shows context with card and biometric fields redacted", () => {
    const hub = new InspectionHub();
    createActor(turnstile, { inspect: hub.inspect }).start();
    expect(hub.actors()[0]!.context).toEqual({ passes: 0, cardToken: REDACTED, sealedCaptures: REDACTED });
  });

  test("sends an event to the actor and records it on the timeline", () => {
    const hub = new InspectionHub(() => 42);
    const actor = createActor(turnstile, { inspect: hub.inspect }).start();
    expect(hub.send(actor.sessionId, { type: "COIN" })).toBe(true);
    expect(actor.getSnapshot().value).toBe("unlocked");
    expect(hub.actors()[0]!.timeline.at(-1)).toMatchObject({ at: 42, type: "COIN" });
  });

  test("never sends an event to one of the region's own actors (a device session, a saga, a shard)", () => {
    const hub = new InspectionHub();
    const actor = createActor(turnstile, { inspect: hub.inspectAs("sessions") }).start();
    expect(hub.send(actor.sessionId, { type: "COIN" })).toBe(false);
    expect(actor.getSnapshot().value).toBe("locked");
  });

  test("refuses an event the actor does not accept", () => {
    const hub = new InspectionHub();
    const actor = createActor(turnstile, { inspect: hub.inspect }).start();
    expect(hub.send(actor.sessionId, { type: "EXPLODE" })).toBe(false);
    expect(hub.send("no-such-actor", { type: "COIN" })).toBe(false);
  });

  test("forgets an actor once it is stopped", () => {
    const hub = new InspectionHub();
    const actor = createActor(turnstile, { inspect: hub.inspect }).start();
    actor.stop();
    expect(hub.actors()).toEqual([]);
  });

  test("nests an invoked child under its parent, in the parent's group", () => {
    const hub = new InspectionHub();
    const parent = createMachine({ id: "saga", initial: "working", states: { working: { invoke: { src: fromPromise(() => new Promise(() => {})) } } } });
    const actor = createActor(parent, { inspect: hub.inspectAs("sagas") }).start();
    const child = hub.actors().find((a) => a.parentSessionId === actor.sessionId);
    expect(child?.group).toBe("sagas");
  });

  test("runs a host command registered for the actor's system id", async () => {
    const hub = new InspectionHub();
    const actor = createActor(turnstile, { inspect: hub.inspect, systemId: "gate-1" }).start();
    const ran: string[] = [];
    hub.addCommand("gate-1", {
      name: "coin",
      label: "Insert coin",
      fields: [{ name: "value", kind: "number", initial: "1" }],
      run: (v) => void ran.push(v.value!),
    });
    expect(hub.actors()[0]!.commands.map((c) => c.name)).toEqual(["coin"]);
    expect(await hub.runCommand(actor.sessionId, "coin", { value: "2" })).toBe(true);
    expect(ran).toEqual(["2"]);
  });
});

describe("redaction for inspection", () => {
  test("shows raw bytes only as their length", () => {
    expect(redactForInspection({ blob: new Uint8Array(10) })).toEqual({ blob: "[10 bytes]" });
  });

  test("redacts nested sensitive fields and keeps the rest", () => {
    expect(redactForInspection({ outcome: { kind: "identified", phoneNumber: "+4470000", score: 0.9 } })).toEqual({
      outcome: { kind: "identified", phoneNumber: REDACTED, score: 0.9 },
    });
  });
});

describe("inspection hub, finished actors", () => {
  test("keeps a finished top-level actor for a look afterwards, and only the most recent ones", () => {
    const hub = new InspectionHub();
    const oneShot = createMachine({ id: "saga", initial: "done", states: { done: { type: "final" } } });
    for (let i = 0; i < 30; i++) createActor(oneShot, { inspect: hub.inspectAs("sagas") }).start();
    const finished = hub.actors().filter((a) => a.group === "sagas");
    expect(finished).toHaveLength(25);
    expect(finished.every((a) => a.status === "done")).toBe(true);
  });
});
