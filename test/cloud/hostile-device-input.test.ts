// A provisioned device that sends well-formed but hostile requests gets a typed error answer for
// each; its session and everyone else's keep working.
import { afterEach, expect, test } from "vitest";
import { WebSocket } from "ws";
import { startRegionNode } from "../../cloud/region-node.ts";
import { systemClock } from "../../core/clock.ts";
import type { PalmProbe } from "../../core/palm-template.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { openInitiatorChannel, SEALED_SIGNATURE_MAX_BYTES, sealSignature } from "../../protocol/index.ts";
import { messageQueue } from "../protocol/channel-harness.ts";
import { syntheticPalm, tempDir } from "./fixtures.ts";

// The size of a real sealed signature (crypto_box_seal adds 48 bytes), so the schema lets it
// through and the region itself has to find out that it does not open.
const garbageSealedSignature = (fill: number) => new Uint8Array(SEALED_SIGNATURE_MAX_BYTES).fill(fill);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const setup = async () => {
  const node = await startRegionNode({ regionId: "t", dataDir: tempDir(), host: "127.0.0.1", port: 0, shardCount: 1, clock: systemClock, log: () => {} });
  cleanups.push(() => node.close());
  const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: "lane" });
  const provisioning = await RegionLink.connect({ credentials, provisioningCode: node.issueProvisioningCode({ roles: ["service-point"] }) });
  const templatePublicKey = provisioning.templatePublicKey;
  provisioning.close();
  await provisioning.closed;
  const socket = new WebSocket(node.url);
  const channel = await openInitiatorChannel(socket, { identity: credentials.identity, pinnedResponderKey: node.identityPublicKey });
  cleanups.push(() => channel.close(1000, "done"));
  const next = messageQueue(channel);
  expect((await next()).type).toBe("session.ready");
  /** A probe sealed to a fresh challenge of this session, as a scanner seals it. */
  const sealFresh = async (probe: PalmProbe) => {
    channel.send({ type: "capture.challenge.request", requestId: "rq_challenge" });
    const answer = await next();
    if (answer.type !== "capture.challenge.result") throw new Error(`expected a challenge, got ${answer.type}`);
    return sealSignature(probe, { templatePublicKey, challenge: answer.challenge });
  };
  return { node, channel, next, sealFresh };
};

test("a sealed signature that does not open gets a typed error for that request", async () => {
  const { channel, next } = await setup();
  channel.send({ type: "identify.request", requestId: "rq_garbage", sealedSignature: garbageSealedSignature(7) });
  expect(await next()).toMatchObject({ type: "error", requestId: "rq_garbage", code: "SealedSignatureInvalid" });
});

test("the session keeps answering after a bad request", async () => {
  const { channel, next, sealFresh } = await setup();
  channel.send({ type: "identify.request", requestId: "rq_bad", sealedSignature: garbageSealedSignature(0) });
  await next();
  channel.send({ type: "identify.request", requestId: "rq_good", sealedSignature: await sealFresh(syntheticPalm(1)(0)) });
  expect(await next()).toMatchObject({ type: "identify.result", requestId: "rq_good", outcome: "no-match" });
});

test("a message only a region sends is answered as unexpected, not acted on", async () => {
  const { channel, next } = await setup();
  channel.send({ type: "heartbeat.ack", sentAt: 1 });
  expect(await next()).toMatchObject({ type: "error", code: "UnexpectedMessage" });
});
