// A sealed palm capture is good for one request: the one its session's challenge was issued for.
// Each attack replays a capture that was accepted once (taken from a log, a proxy or a scanner)
// against a real node over real encrypted sessions; the region refuses it with
// CaptureChallengeInvalid before opening anything for the flows.
import { afterEach, expect, test } from "vitest";
import { startRegionNode } from "../../cloud/region-node.ts";
import { ManualClock } from "../../core/clock.ts";
import { createDeviceCredentials, type DeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { CAPTURE_CHALLENGE_BYTES, CAPTURE_CHALLENGE_TTL_MS, sealSignature } from "../../protocol/index.ts";
import { sealForOneRequest, syntheticPalm, tempDir } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DESK = { roles: ["service-point" as const, "checkout" as const], merchantId: "palmline-store" };

const startNode = async () => {
  const clock = new ManualClock(Date.now());
  const node = await startRegionNode({ regionId: "t", dataDir: tempDir(), host: "127.0.0.1", port: 0, shardCount: 1, clock, log: () => {} });
  cleanups.push(() => node.close());
  const connect = async (credentials: DeviceCredentials, provision: boolean) => {
    const link = await RegionLink.connect({ credentials, ...(provision ? { provisioningCode: node.issueProvisioningCode(DESK) } : {}) });
    cleanups.push(() => link.close());
    return link;
  };
  const device = async (name: string) => {
    const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: name });
    return { credentials, link: await connect(credentials, true) };
  };
  return { node, clock, device, connect };
};

const refused = { _tag: "RegionRefused", code: "CaptureChallengeInvalid" };

test("a capture sent again in the same session is refused", async () => {
  const { device } = await startNode();
  const { link } = await device("desk-1");
  const sealed = await sealForOneRequest(link, syntheticPalm(1)(0));
  expect((await link.identify(sealed)).outcome).toBe("no-match");
  await expect(link.identify(sealed)).rejects.toMatchObject(refused);
});

test("a capture replayed by the same device in a later session is refused", async () => {
  const { device, connect } = await startNode();
  const { credentials, link } = await device("desk-1");
  const sealed = await sealForOneRequest(link, syntheticPalm(1)(0));
  expect((await link.identify(sealed)).outcome).toBe("no-match");
  link.close();
  await link.closed;
  const later = await connect(credentials, false);
  await expect(later.identify(sealed)).rejects.toMatchObject(refused);
});

test("a capture replayed by another device is refused, even one never sent", async () => {
  const { device } = await startNode();
  const { link } = await device("desk-1");
  const { link: other } = await device("desk-2");
  const sealed = await sealForOneRequest(link, syntheticPalm(1)(0));
  await expect(other.identify(sealed)).rejects.toMatchObject(refused);
});

test("a capture sealed to a challenge the region never issued is refused", async () => {
  const { device } = await startNode();
  const { link } = await device("desk-1");
  const forged = await sealSignature(syntheticPalm(1)(0), {
    templatePublicKey: link.templatePublicKey,
    challenge: new Uint8Array(CAPTURE_CHALLENGE_BYTES).fill(1),
  });
  await expect(link.identify(forged)).rejects.toMatchObject(refused);
});

test("a capture whose challenge has expired is refused", async () => {
  const { device, clock } = await startNode();
  const { link } = await device("desk-1");
  const sealed = await sealForOneRequest(link, syntheticPalm(1)(0));
  clock.advance(CAPTURE_CHALLENGE_TTL_MS + 1);
  await expect(link.identify(sealed)).rejects.toMatchObject(refused);
});

test("a payment retried with its key after a reconnect is answered, its capture already admitted", async () => {
  const { device, connect } = await startNode();
  const { credentials, link } = await device("lane-1");
  const request = { idempotencyKey: "retry-0000-0001", merchantId: "palmline-store", amount: { amountMinor: 700, currency: "EUR" } };
  const sealed = await sealForOneRequest(link, syntheticPalm(1)(0));
  const first = await link.authorize({ ...request, sealedSignature: sealed });
  link.close();
  await link.closed;
  const again = await (await connect(credentials, false)).authorize({ ...request, sealedSignature: sealed });
  expect(again.outcome).toBe(first.outcome);
});

test("a payment retried by its key with another device's capture is refused", async () => {
  const { device } = await startNode();
  const { link } = await device("lane-1");
  const { link: other } = await device("lane-2");
  const request = { idempotencyKey: "retry-0000-0002", merchantId: "palmline-store", amount: { amountMinor: 700, currency: "EUR" } };
  await link.authorize({ ...request, sealedSignature: await sealForOneRequest(link, syntheticPalm(1)(0)) });
  const someoneElses = await sealForOneRequest(other, syntheticPalm(2)(0));
  await expect(link.authorize({ ...request, sealedSignature: someoneElses })).rejects.toMatchObject(refused);
});
