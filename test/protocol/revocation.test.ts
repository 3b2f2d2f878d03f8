import { afterEach, describe, expect, test } from "vitest";
import { CloseCode, PeerSessions, type ResponderChannel, type WireMessage } from "../../protocol/index.ts";
import type { LoopbackNode } from "./loopback.ts";
import { connectPair, device, startRegion } from "./channel-harness.ts";

let node: LoopbackNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

describe("revocation mid-session", () => {
  test("revoking a device closes its sessions with DeviceRevoked", async () => {
    node = await startRegion();
    const sessions = new PeerSessions<ResponderChannel>();
    const first = await connectPair(node);
    const second = await connectPair(node);
    sessions.add(first.regionSide);
    sessions.add(second.regionSide);
    expect(sessions.revoke(device.publicKey)).toBe(2);
    expect((await first.deviceSide.closed).code).toBe(CloseCode.DeviceRevoked);
    expect((await second.deviceSide.closed).code).toBe(CloseCode.DeviceRevoked);
  });

  test("nothing from a revoked device is delivered once revoke returns", async () => {
    node = await startRegion();
    const { deviceSide, regionSide } = await connectPair(node);
    const delivered: WireMessage[] = [];
    regionSide.onMessage((m) => delivered.push(m));
    // Sent before the revocation, still in flight when it happens.
    for (let i = 0; i < 20; i++) deviceSide.send({ type: "heartbeat", sentAt: i });
    regionSide.close(CloseCode.DeviceRevoked, "revoked");
    expect(regionSide.isOpen).toBe(false);
    await deviceSide.closed;
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered).toEqual([]);
  });

  test("the region's closed resolves at once, without waiting for the device", async () => {
    node = await startRegion();
    const { regionSide } = await connectPair(node);
    let resolved = false;
    void regionSide.closed.then(() => (resolved = true));
    regionSide.close(CloseCode.DeviceRevoked, "revoked");
    await Promise.resolve();
    expect(resolved).toBe(true);
  });

  test("sending on a revoked session does nothing", async () => {
    node = await startRegion();
    const { deviceSide, regionSide } = await connectPair(node);
    regionSide.close(CloseCode.DeviceRevoked, "revoked");
    expect(() => regionSide.send({ type: "heartbeat", sentAt: 1 })).not.toThrow();
    expect((await deviceSide.closed).code).toBe(CloseCode.DeviceRevoked);
  });

  test("a closed session leaves the registry", async () => {
    node = await startRegion();
    const sessions = new PeerSessions();
    const { deviceSide, regionSide } = await connectPair(node);
    sessions.add(regionSide);
    expect(sessions.size).toBe(1);
    deviceSide.close(CloseCode.Normal, "bye");
    await regionSide.closed;
    expect(sessions.size).toBe(0);
    expect(sessions.sessionsOf(device.publicKey)).toEqual([]);
  });

  test("shutdown closes every session with ServerShutdown", async () => {
    node = await startRegion();
    const sessions = new PeerSessions();
    const a = await connectPair(node);
    const b = await connectPair(node);
    sessions.add(a.regionSide);
    sessions.add(b.regionSide);
    expect(sessions.closeAll(CloseCode.ServerShutdown, "bye")).toBe(2);
    expect((await a.deviceSide.closed).code).toBe(CloseCode.ServerShutdown);
    expect((await b.deviceSide.closed).code).toBe(CloseCode.ServerShutdown);
  });

  test("a message handler that throws ends the session with InternalError instead of crashing", async () => {
    node = await startRegion();
    const { deviceSide, regionSide } = await connectPair(node);
    regionSide.onMessage(() => {
      throw new Error("bug in a handler");
    });
    deviceSide.send({ type: "heartbeat", sentAt: 1 });
    const closure = await regionSide.closed;
    expect(closure.code).toBe(CloseCode.InternalError);
    expect(closure.error?._tag).toBe("InternalFailure");
    expect((await deviceSide.closed).code).toBe(CloseCode.InternalError);
  });
});
