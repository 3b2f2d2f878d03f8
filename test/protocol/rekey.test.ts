import { afterEach, describe, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { FrameKind, type WireMessage } from "../../protocol/index.ts";
import type { LoopbackNode } from "./loopback.ts";
import { collect, connectPair, startRegion } from "./channel-harness.ts";

let node: LoopbackNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

const heartbeats = (n: number): WireMessage[] => Array.from({ length: n }, (_, i) => ({ type: "heartbeat", sentAt: i }));
const rekeyFrames = (frames: readonly Uint8Array[]) => frames.filter((f) => f[0] === FrameKind.Rekey).length;

describe("rekey", () => {
  test("a sender rekeys after N frames and every message still arrives in order", async () => {
    node = await startRegion();
    const { deviceSide, regionSide } = await connectPair(node, { rekey: { afterFrames: 5, afterMs: Infinity } });
    const arrived = collect(regionSide, 23);
    for (const m of heartbeats(23)) deviceSide.send(m);
    expect(await arrived).toEqual(heartbeats(23));
    expect(rekeyFrames(node.sessions[0]!.received)).toBe(4);
  });

  test("a sender rekeys after T minutes on its clock", async () => {
    node = await startRegion();
    const clock = new ManualClock();
    const { deviceSide, regionSide } = await connectPair(node, { clock, rekey: { afterFrames: Infinity, afterMs: 10 * 60_000 } });
    const arrived = collect(regionSide, 3);
    deviceSide.send({ type: "heartbeat", sentAt: 0 });
    clock.advance(10 * 60_000);
    deviceSide.send({ type: "heartbeat", sentAt: 1 });
    deviceSide.send({ type: "heartbeat", sentAt: 2 });
    await arrived;
    expect(rekeyFrames(node.sessions[0]!.received)).toBe(1);
  });

  test("both directions rekey independently", async () => {
    node = await startRegion({ rekey: { afterFrames: 2, afterMs: Infinity } });
    const { deviceSide, regionSide } = await connectPair(node, { rekey: { afterFrames: 3, afterMs: Infinity } });
    const toRegion = collect(regionSide, 10);
    const toDevice = collect(deviceSide, 10);
    for (const m of heartbeats(10)) {
      deviceSide.send(m);
      regionSide.send(m);
    }
    expect(await toRegion).toEqual(heartbeats(10));
    expect(await toDevice).toEqual(heartbeats(10));
  });
});
