// Two years without use: an identity nobody identifies, pays with or enters a gate with for two
// years is deleted like a requested deletion, and the person is told. The region runs on a
// ManualClock; years pass with advance(), and the sweeper's deadlines come from the registry.
import { afterEach, beforeEach, expect, test } from "vitest";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DELETION_MESSAGES } from "../../cloud/lifecycle/deletion-acknowledgement.ts";
import { FOREIGN_EXPIRY_GRACE_MS } from "../../cloud/lifecycle/expiry-sweeper.ts";
import { ManualClock } from "../../core/clock.ts";
import { EXPIRY_MS } from "../../core/identity-expiry.ts";
import { DAY_MS, START_MS, STORE, startLifecycleRegion, type LifecycleRegion } from "./lifecycle-region.ts";

const PHONE = "+4915112345678";
/** One year and eleven months: a use just before the two-year mark. */
const ALMOST_TWO_YEARS = EXPIRY_MS - 31 * DAY_MS;

let region: LifecycleRegion;
beforeEach(async () => {
  region = await startLifecycleRegion();
}, 60_000);
afterEach(() => region?.close());

/** Moves the region's time forward and lets the sweeper act on whatever fell due. */
const pass = async (ms: number) => {
  region.clock.advance(ms);
  await region.node.expiry.settled();
};

const identified = async (palmSeed: number) => {
  const link = await region.link(`scanner-${region.clock.now()}`);
  const result = await link.identify(await region.seal(link, palmSeed, 7));
  link.close();
  return result.outcome === "match" ? result.identityId : undefined;
};

const pays = async (palmSeed: number) => {
  const link = await region.link(`lane-${region.clock.now()}`);
  const auth = await link.authorize({
    idempotencyKey: `pay-${region.clock.now()}`,
    merchantId: STORE,
    amount: { amountMinor: 450, currency: "EUR" },
    sealedSignature: await region.seal(link, palmSeed, 8),
  });
  expect(auth.outcome).toBe("approved");
  expect((await link.settle({ authorizationId: auth.authorizationId!, action: "capture" })).outcome).toBe("captured");
  link.close();
};

const entersGate = async (identityId: string, palmSeed: number) => {
  const granted = await region.api("POST", "/api/entitlements", {
    kind: "ticket",
    identityId,
    venueId: "arena",
    label: "season",
    validUntil: START_MS + 5 * EXPIRY_MS,
    entries: null,
  });
  expect(granted.status).toBe(201);
  const link = await region.link(`gate-${region.clock.now()}`, { binding: { venueId: "arena" } });
  const entry = await link.enterGate({ venueId: "arena", gateId: "north-1", sealedSignature: await region.seal(link, palmSeed, 9) });
  expect(entry.outcome).toBe("open");
  link.close();
};

const isDeleted = (identityId: string) => region.row(identityId)?.deleted != null;

test("an identity nobody uses for two years is deleted and no longer identified", async () => {
  const identityId = await region.enroll(1);
  await pass(EXPIRY_MS);
  expect(isDeleted(identityId)).toBe(true);
  expect(await identified(1)).toBeUndefined();
});

test("an identity enrolled in another region expires here only a grace period after two years, leaving its own region to go first", async () => {
  const identityId = await region.enroll(11);
  // As replication writes it: the same record, enrolled by region "elsewhere".
  const db = new DatabaseSync(join(region.dataDir, "registry.sqlite"));
  db.prepare("UPDATE identities SET origin_region = 'elsewhere' WHERE identity_id = ?").run(identityId);
  db.close();
  await pass(EXPIRY_MS);
  expect(isDeleted(identityId)).toBe(false);
  await pass(FOREIGN_EXPIRY_GRACE_MS - DAY_MS);
  expect(isDeleted(identityId)).toBe(false);
  await pass(DAY_MS);
  expect(isDeleted(identityId)).toBe(true);
});

test("a day before the two-year mark the identity is still live and identified", async () => {
  const identityId = await region.enroll(2);
  await pass(EXPIRY_MS - DAY_MS);
  expect(isDeleted(identityId)).toBe(false);
  expect(await identified(2)).toBe(identityId);
});

test("an identification at one year eleven months keeps the identity past the original mark, and it expires two years after that use", async () => {
  const identityId = await region.enroll(3);
  await pass(ALMOST_TWO_YEARS);
  expect(await identified(3)).toBe(identityId);
  const usedAt = region.clock.now();
  await pass(START_MS + EXPIRY_MS + 60 * DAY_MS - region.clock.now());
  expect(isDeleted(identityId)).toBe(false);
  await pass(usedAt + EXPIRY_MS - DAY_MS - region.clock.now());
  expect(isDeleted(identityId)).toBe(false);
  await pass(DAY_MS);
  expect(isDeleted(identityId)).toBe(true);
});

test("a payment at one year eleven months keeps the identity past the original mark, and it expires two years after that payment", async () => {
  const identityId = await region.enroll(4);
  await pass(ALMOST_TWO_YEARS);
  await pays(4);
  expect(region.row(identityId)?.lastSeen).toBe(region.clock.now());
  await pass(31 * DAY_MS + DAY_MS);
  expect(isDeleted(identityId)).toBe(false);
  await pass(EXPIRY_MS - 32 * DAY_MS);
  expect(isDeleted(identityId)).toBe(true);
});

test("a gate entry at one year eleven months keeps the identity past the original mark, and it expires two years after that entry", async () => {
  const identityId = await region.enroll(5);
  await pass(ALMOST_TWO_YEARS);
  await entersGate(identityId, 5);
  expect(region.row(identityId)?.lastSeen).toBe(region.clock.now());
  await pass(31 * DAY_MS + DAY_MS);
  expect(isDeleted(identityId)).toBe(false);
  await pass(EXPIRY_MS - 32 * DAY_MS);
  expect(isDeleted(identityId)).toBe(true);
});

test("the person is told by SMS that their identity expired, and the number never reaches the log", async () => {
  await region.enroll(6, PHONE);
  await pass(EXPIRY_MS);
  expect(region.messagesTo(PHONE).at(-1)).toBe(DELETION_MESSAGES.expired);
  expect(region.logs.join("\n")).not.toContain(PHONE.slice(1));
});

test("expiries are logged and counted on /metrics", async () => {
  await region.enroll(7);
  await region.enroll(8);
  await pass(EXPIRY_MS);
  const metrics = await (await fetch(`${region.node.httpUrl}/metrics`)).text();
  expect(metrics).toContain("palmline_identities_expired_total 2");
  expect(region.logs.some((line) => /expiry: 2 identities unused for two years deleted/.test(line))).toBe(true);
});

test("the next expiry is two years after the earliest last use among live identities", async () => {
  const first = await region.enroll(9);
  await pass(30 * DAY_MS);
  await region.enroll(10);
  expect(region.node.expiry.nextExpiry()).toBe(START_MS + EXPIRY_MS);
  await pass(30 * DAY_MS);
  expect(await identified(9)).toBe(first);
  expect(region.node.expiry.nextExpiry()).toBe(START_MS + 30 * DAY_MS + EXPIRY_MS);
});

test("a region that was down past the deadline deletes the identity as soon as it starts", async () => {
  const identityId = await region.enroll(11, PHONE);
  await region.node.close();
  const restarted = await startLifecycleRegion({
    clock: new ManualClock(START_MS + EXPIRY_MS + 90 * DAY_MS),
    dataDir: region.dataDir,
    processor: region.processor,
  });
  try {
    await restarted.node.expiry.settled();
    expect(restarted.row(identityId)?.deleted).not.toBeNull();
    expect(restarted.messagesTo(PHONE)).toEqual([DELETION_MESSAGES.expired]);
  } finally {
    await restarted.close();
  }
});
