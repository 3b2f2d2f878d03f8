// Texting phone codes is limited per number, per device and per source address, on one budget
// the kiosk and the portal share. Each attack runs against a real node: scanners over their
// encrypted sessions, the portal over HTTP, all from the same loopback address.
import { afterEach, expect, test } from "vitest";
import {
  ADDRESS_CODE_SENDS_PER_WINDOW,
  CODE_SENDS_PER_WINDOW,
  CODE_WINDOW_MS,
  DEVICE_CODE_SENDS_PER_WINDOW,
  SimulatedSmsGateway,
} from "../../cloud/phone/phone-verifier.ts";
import { startRegionNode } from "../../cloud/region-node.ts";
import { ManualClock } from "../../core/clock.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { tempDir } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const startNode = async () => {
  const sms = new SimulatedSmsGateway();
  const clock = new ManualClock(Date.now());
  const node = await startRegionNode({ regionId: "t", dataDir: tempDir(), host: "127.0.0.1", port: 0, shardCount: 1, clock, sms, log: () => {} });
  cleanups.push(() => node.close());
  const kiosk = async (name: string) => {
    const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: name });
    const link = await RegionLink.connect({ credentials, provisioningCode: node.issueProvisioningCode({ roles: ["enrollment-kiosk"] }) });
    cleanups.push(() => link.close());
    return link;
  };
  return { node, sms, clock, kiosk };
};

/** A different number each time: the per-number budget never runs out. */
let numbers = 0;
const freshNumber = () => `+4477009${String(++numbers).padStart(5, "0")}`;

const askCodes = async (link: RegionLink, count: number) => {
  const outcomes: string[] = [];
  for (let i = 0; i < count; i++) outcomes.push((await link.verifyPhone(freshNumber())).outcome);
  return outcomes;
};

test("a kiosk texting many numbers is refused once its own budget is spent, until the window ends", async () => {
  const { sms, clock, kiosk } = await startNode();
  const link = await kiosk("kiosk-1");
  const outcomes = await askCodes(link, DEVICE_CODE_SENDS_PER_WINDOW + 3);
  expect(outcomes.filter((o) => o === "sent")).toHaveLength(DEVICE_CODE_SENDS_PER_WINDOW);
  expect(outcomes.slice(DEVICE_CODE_SENDS_PER_WINDOW)).toEqual(["refused", "refused", "refused"]);
  expect(sms.outbox).toHaveLength(DEVICE_CODE_SENDS_PER_WINDOW);
  clock.advance(CODE_WINDOW_MS);
  expect(await askCodes(link, 1)).toEqual(["sent"]);
});

test("many kiosks behind one address share that address's budget", async () => {
  const { sms, kiosk } = await startNode();
  const kiosks = await Promise.all(
    Array.from({ length: Math.ceil(ADDRESS_CODE_SENDS_PER_WINDOW / DEVICE_CODE_SENDS_PER_WINDOW) + 1 }, (_, i) => kiosk(`kiosk-${i}`)),
  );
  const sent: string[] = [];
  for (const link of kiosks) sent.push(...(await askCodes(link, DEVICE_CODE_SENDS_PER_WINDOW)).filter((o) => o === "sent"));
  expect(sent).toHaveLength(ADDRESS_CODE_SENDS_PER_WINDOW);
  expect(sms.outbox).toHaveLength(ADDRESS_CODE_SENDS_PER_WINDOW);
});

test("the kiosk and the portal together send a number no more codes than its one budget", async () => {
  const { node, sms, kiosk } = await startNode();
  const phone = freshNumber();
  const link = await kiosk("kiosk-1");
  const fromPortal = () =>
    fetch(`${node.httpUrl}/portal/api/code`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ phone }) });
  for (let i = 0; i < CODE_SENDS_PER_WINDOW - 1; i++) expect((await link.verifyPhone(phone)).outcome).toBe("sent");
  expect((await fromPortal()).status).toBe(202);
  expect((await fromPortal()).status).toBe(429);
  expect((await link.verifyPhone(phone)).outcome).toBe("refused");
  expect(sms.outbox.filter((m) => m.number === phone)).toHaveLength(CODE_SENDS_PER_WINDOW);
});
