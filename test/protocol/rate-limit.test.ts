import { afterEach, describe, expect, test } from "vitest";
import { ManualClock, type Clock } from "../../core/clock.ts";
import { CloseCode, PeerRateLimits, TokenBucket } from "../../protocol/index.ts";
import type { LoopbackNode } from "./loopback.ts";
import { collect, connectPair, device, startRegion } from "./channel-harness.ts";

let node: LoopbackNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

describe("token bucket", () => {
  test("allows a burst up to its capacity, then refuses", () => {
    const bucket = new TokenBucket(new ManualClock(), { capacity: 3, refillPerSecond: 1 });
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
  });

  test("refills with time on its clock, up to capacity", () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { capacity: 2, refillPerSecond: 4 });
    bucket.tryTake(2);
    clock.advance(250);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(10_000);
    expect(bucket.available).toBe(2);
  });

  test("a clock stepping backwards does not mint tokens", () => {
    let now = 10_000;
    const timers = new ManualClock();
    const clock: Clock = { now: () => now, setTimeout: (cb, ms) => timers.setTimeout(cb, ms), clearTimeout: (h) => timers.clearTimeout(h) };
    const bucket = new TokenBucket(clock, { capacity: 1, refillPerSecond: 1 });
    bucket.tryTake();
    now = 0;
    expect(bucket.tryTake()).toBe(false);
    now = 500;
    expect(bucket.tryTake()).toBe(false);
    now = 1_000;
    expect(bucket.tryTake()).toBe(true);
  });

  test("peer buckets are forgotten least-recently-used first", () => {
    const limits = new PeerRateLimits(new ManualClock(), { capacity: 1, refillPerSecond: 0 }, 2);
    const a = limits.bucketFor(Uint8Array.of(1));
    limits.bucketFor(Uint8Array.of(2));
    limits.bucketFor(Uint8Array.of(1));
    limits.bucketFor(Uint8Array.of(3));
    expect(limits.size).toBe(2);
    expect(limits.bucketFor(Uint8Array.of(1))).toBe(a);
  });
});

describe("rate limits on a session", () => {
  test("a connection that sends faster than its limit is closed with RateLimited", async () => {
    node = await startRegion({ inboundRateLimit: { capacity: 5, refillPerSecond: 0 } });
    const { deviceSide, regionSide } = await connectPair(node);
    const delivered = collect(regionSide, 5);
    for (let i = 0; i < 6; i++) deviceSide.send({ type: "heartbeat", sentAt: i });
    expect(await delivered).toHaveLength(5);
    const closure = await regionSide.closed;
    expect(closure.code).toBe(CloseCode.RateLimited);
    expect(closure.error?._tag).toBe("RateLimited");
    expect((await deviceSide.closed).code).toBe(CloseCode.RateLimited);
  });

  test("within its limit a connection is never throttled as time passes", async () => {
    const clock = new ManualClock();
    node = await startRegion({ clock, inboundRateLimit: { capacity: 2, refillPerSecond: 10 } });
    const { deviceSide, regionSide } = await connectPair(node);
    const delivered = collect(regionSide, 10);
    for (let i = 0; i < 10; i++) {
      deviceSide.send({ type: "heartbeat", sentAt: i });
      await collectOne(regionSide, i);
      clock.advance(100);
    }
    expect(await delivered).toHaveLength(10);
    expect(regionSide.isOpen).toBe(true);
  });

  test("a device's budget is shared across its connections", async () => {
    const clock = new ManualClock();
    const perDevice = new PeerRateLimits(clock, { capacity: 4, refillPerSecond: 0 });
    node = await startRegion({ clock, sharedRateLimits: (key) => [perDevice.bucketFor(key)] });
    const first = await connectPair(node);
    const second = await connectPair(node);
    const got = collect(first.regionSide, 2);
    first.deviceSide.send({ type: "heartbeat", sentAt: 1 });
    first.deviceSide.send({ type: "heartbeat", sentAt: 2 });
    await got;
    const got2 = collect(second.regionSide, 2);
    second.deviceSide.send({ type: "heartbeat", sentAt: 3 });
    second.deviceSide.send({ type: "heartbeat", sentAt: 4 });
    await got2;
    second.deviceSide.send({ type: "heartbeat", sentAt: 5 });
    expect((await second.regionSide.closed).code).toBe(CloseCode.RateLimited);
    expect(perDevice.bucketFor(device.publicKey).available).toBe(0);
  });
});

const collectOne = (channel: Parameters<typeof collect>[0], sentAt: number) =>
  new Promise<void>((resolve) => {
    const off = channel.onMessage((m) => {
      if (m.type === "heartbeat" && m.sentAt === sentAt) {
        off();
        resolve();
      }
    });
  });
