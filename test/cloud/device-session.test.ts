// A device session on a node that runs no flows (a bare identifier): it still identifies, and
// every request that needs a flow, enrollment included, is answered FlowUnavailable; there is
// no second enrollment path around the enrollment desk.
import { afterEach, expect, test } from "vitest";
import { PalmIdentifier } from "../../cloud/identification/palm-identifier.ts";
import { runDeviceSession } from "../../cloud/session/device-session.ts";
import { DEVICE_ROLES } from "../../cloud/storage/device-binding.ts";
import { exactLayout } from "../../cloud/shards/index-layout.ts";
import { ShardSet } from "../../cloud/shards/shard-set.ts";
import type { DeviceId } from "../../core/ids.ts";
import { PALM_VECTOR_DIMENSION } from "../../core/palm-template-vector.ts";
import { generateTemplateKeyPair, sealSignature } from "../../protocol/index.ts";
import { connectPair, messageQueue, startRegion } from "../protocol/channel-harness.ts";
import { openTestRegistry, syntheticPalm } from "./fixtures.ts";

/** A device bound to every role: what it is refused here, it is refused for want of a flow. */
const EVERY_ROLE = { roles: DEVICE_ROLES, merchantId: "palmline-store", venueId: "stadium" };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sessionWithoutFlows = async () => {
  const testRegistry = await openTestRegistry();
  cleanups.push(() => testRegistry.close());
  const { registry, devices } = testRegistry;
  const shards = await ShardSet.create({ shardCount: 1, dimension: PALM_VECTOR_DIMENSION, layout: exactLayout });
  cleanups.push(() => shards.close());
  const identifier = new PalmIdentifier({ registry, shards, index: await testRegistry.follow(shards), now: () => 1_000 });
  const templateKeys = await generateTemplateKeyPair();
  const node = await startRegion();
  cleanups.push(() => node.stop());
  const { deviceSide, regionSide } = await connectPair(node);
  const next = messageQueue(deviceSide);
  runDeviceSession(
    regionSide,
    { kind: "admit" },
    { device: { deviceId: "dev_desk" as DeviceId, binding: EVERY_ROLE }, sourceAddress: "127.0.0.1" },
    { identifier, devices, templateKeys, now: () => 1_000, log: () => {} },
  );
  expect((await next()).type).toBe("session.ready");
  /** Captures sealed for one request, to a fresh challenge of this session. */
  const seal = async (seed: number, ...captures: number[]) => {
    deviceSide.send({ type: "capture.challenge.request", requestId: "rq_challenge" });
    const answer = await next();
    if (answer.type !== "capture.challenge.result") throw new Error(`expected a challenge, got ${answer.type}`);
    return Promise.all(captures.map((c) => sealSignature(syntheticPalm(seed)(c), { templatePublicKey: templateKeys.publicKey, challenge: answer.challenge })));
  };
  return { deviceSide, next, seal };
};

test("a node without flows refuses enrollment with FlowUnavailable and enrolls nobody", async () => {
  const { deviceSide, next, seal } = await sessionWithoutFlows();
  deviceSide.send({ type: "enroll.request", requestId: "rq_enroll", sealedSignatures: await seal(1, 0, 1, 2) });
  expect(await next()).toMatchObject({ type: "error", requestId: "rq_enroll", code: "FlowUnavailable" });
  deviceSide.send({ type: "identify.request", requestId: "rq_who", sealedSignature: (await seal(1, 3))[0]! });
  expect(await next()).toMatchObject({ type: "identify.result", requestId: "rq_who", outcome: "no-match" });
});

test("a node without flows answers a payment request with FlowUnavailable", async () => {
  const { deviceSide, next } = await sessionWithoutFlows();
  deviceSide.send({ type: "payment.settle.request", requestId: "rq_settle", authorizationId: "auth_1", action: "void" });
  expect(await next()).toMatchObject({ type: "error", requestId: "rq_settle", code: "FlowUnavailable" });
});
