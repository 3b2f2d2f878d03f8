// Writes authorised by origin (issue #15, finding 1): a peer region replays what a rogue holder
// of the federation key did (a palm put on another region's identity, a card swapped, a batch of
// tombstones, another region's open-payments count), against real registries (SQLite,
// libsodium): each is refused before anything merges. Correctly signed writes, also forwarded
// through a third region, still apply.
import { expect, test } from "vitest";
import { DELETION_REQUESTED_FIELD, encodeFieldValue, openPaymentsField, PROFILE_FIELDS, TEMPLATE_FIELD } from "../../cloud/identity/identity-fields.ts";
import { ReplicatedRecordInvalid, type ReplicatedField, type ReplicatedRecord } from "../../cloud/identity/replicated-record.ts";
import { WriteNotAuthorised } from "../../cloud/identity/write-authority.ts";
import { WriteSignatures } from "../../cloud/identity/write-signatures.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import type { HlcTimestamp } from "../../core/hybrid-logical-clock.ts";
import { encodePalmTemplate } from "../../core/palm-template.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { syntheticTemplate } from "../cloud/fixtures.ts";
import { testRegionIdentityKey, testRegionKeys } from "../support/test-region-keys.ts";
import { enroll, failure, openReplicaRegion, recordOf, run, ship, type ReplicaRegion } from "./replica-region.ts";

const VICTIM_PALM = 1;
const ATTACKER_PALM = 2;
const CARD = { paymentToken: "tok_victim", brand: "visa", last4: "4242", expiryMonth: 1, expiryYear: 2030 };

/** Region "a" enrolls the victim; the rogue region "r" holds a copy of its record, data key included. */
const victimAndRogue = async () => {
  const a = await openReplicaRegion("a");
  const r = await openReplicaRegion("r");
  run(a.registry.enroll([{ identityId: "id_v" as never, template: syntheticTemplate(VICTIM_PALM), profile: { card: CARD } }], a.clock.now()));
  ship(a, r);
  const sodium = await loadSodium();
  const held = recordOf(run(r.registry.changesSince(0)).records, "id_v")!;
  return { a, r, sodium, held };
};

/**
 * What the rogue region can sign: with its own key, over a stamp naming itself or (a forgery)
 * another region. It holds the identity's data key, so its values decrypt like real ones.
 */
const rogueSigner = async (rogue: ReplicaRegion, stampedBy = rogue.regionId) => {
  const sodium = await loadSodium();
  return new WriteSignatures(sodium, stampedBy, testRegionIdentityKey(sodium, rogue.regionId), testRegionKeys(sodium));
};

const forgedField = async (rogue: ReplicaRegion, held: ReplicatedRecord, name: string, plain: Uint8Array | null, stampedBy = rogue.regionId) => {
  const sodium = await loadSodium();
  const stamp: HlcTimestamp = { ...rogue.hlc.now(), nodeId: stampedBy };
  const value = plain === null ? null : new IdentityVault(sodium, rogue.storageKey).encryptField(held.identityId, name, held.dataKey!, plain);
  const signature = (await rogueSigner(rogue, stampedBy)).signField(held.identityId, { name, stamp, value });
  return { name, stamp, value, signature } satisfies ReplicatedField;
};

const withField = (held: ReplicatedRecord, field: ReplicatedField): ReplicatedRecord => ({
  ...held,
  fields: [...held.fields.filter((f) => f.name !== field.name), field],
});

const refusal = (region: ReplicaRegion, records: readonly ReplicatedRecord[]): ReplicatedRecordInvalid => {
  const error = failure(region.registry.merge(records));
  if (!(error instanceof ReplicatedRecordInvalid)) throw error;
  return error;
};

test("a peer's record that puts its own palm on another region's identity is refused, and the identity keeps its palm", async () => {
  const { a, r, held } = await victimAndRogue();
  const palm = await forgedField(r, held, TEMPLATE_FIELD, encodePalmTemplate(syntheticTemplate(ATTACKER_PALM)));
  expect(refusal(a, [withField(held, palm)])).toMatchObject({ _tag: "ReplicatedRecordInvalid", identityId: "id_v" });
  expect(run(a.registry.templatesOf(["id_v"]))[0]!.template).toEqual(syntheticTemplate(VICTIM_PALM));
});

test("a palm stamped as the identity's own region but signed by another key is refused", async () => {
  const { a, r, held } = await victimAndRogue();
  const palm = await forgedField(r, held, TEMPLATE_FIELD, encodePalmTemplate(syntheticTemplate(ATTACKER_PALM)), "a");
  expect(refusal(a, [withField(held, palm)]).reason).toMatch(/not signed by a/);
  expect(run(a.registry.templatesOf(["id_v"]))[0]!.template).toEqual(syntheticTemplate(VICTIM_PALM));
});

test("a peer's record that swaps the card on another region's identity is refused, and the card stays", async () => {
  const { a, r, held } = await victimAndRogue();
  const card = await forgedField(r, held, PROFILE_FIELDS.card, encodeFieldValue({ ...CARD, paymentToken: "tok_attacker" }));
  expect(refusal(a, [withField(held, card)])).toMatchObject({ _tag: "ReplicatedRecordInvalid" });
  expect(run(a.registry.readProfile("id_v")).card).toEqual(CARD);
});

test("a register whose signature does not verify is refused", async () => {
  const { a, r, held } = await victimAndRogue();
  const phone = await forgedField(r, held, PROFILE_FIELDS.phone, encodeFieldValue("+15550100"), "a");
  expect(refusal(a, [withField(held, { ...phone, signature: new Uint8Array(64) })]).reason).toMatch(/phone is not signed by a/);
});

test("a batch of tombstones not signed by the region each names is refused, and every identity stays live", async () => {
  const a = await openReplicaRegion("a");
  const r = await openReplicaRegion("r");
  for (let i = 0; i < 3; i++) enroll(a, `id_${i}`, syntheticTemplate(10 + i));
  ship(a, r);
  const forger = await rogueSigner(r, "a");
  const batch = run(r.registry.changesSince(0)).records.map((held): ReplicatedRecord => {
    const stamp = { ...r.hlc.now(), nodeId: "a" };
    return {
      ...held,
      dataKey: undefined,
      fields: [],
      tombstone: stamp,
      tombstoneReason: "requested",
      tombstoneSignature: forger.signTombstone(held.identityId, stamp, "requested"),
    };
  });
  expect(refusal(a, batch).reason).toMatch(/tombstone is not signed by a/);
  expect(run(a.registry.liveCount())).toBe(3);
});

test("a tombstone without a reason is refused", async () => {
  const { a, r, held } = await victimAndRogue();
  const stamp = r.hlc.now();
  const signature = (await rogueSigner(r)).signTombstone("id_v", stamp, "");
  const tombstone: ReplicatedRecord = { ...held, dataKey: undefined, fields: [], tombstone: stamp, tombstoneSignature: signature };
  expect(refusal(a, [tombstone]).reason).toMatch(/without a known reason/);
  expect(run(a.registry.isLive("id_v"))).toBe(true);
});

test("another region's open-payments count written by a peer is refused", async () => {
  const { a, r, held } = await victimAndRogue();
  const count = await forgedField(r, held, openPaymentsField("a"), encodeFieldValue(0));
  expect(refusal(a, [withField(held, count)]).reason).toMatch(/open_payments:a is written by its own region only, not r/);
});

test("a field no identity record has is refused", async () => {
  const { a, r, held } = await victimAndRogue();
  const extra = await forgedField(r, held, "backdoor", encodeFieldValue(1));
  expect(refusal(a, [withField(held, extra)]).reason).toMatch(/backdoor is not a field/);
});

test("one refused record refuses its whole batch: nothing of it is merged", async () => {
  const { a, r, held } = await victimAndRogue();
  enroll(r, "id_r", syntheticTemplate(20));
  const own = recordOf(run(r.registry.changesSince(0)).records, "id_r")!;
  const palm = await forgedField(r, held, TEMPLATE_FIELD, encodePalmTemplate(syntheticTemplate(ATTACKER_PALM)));
  refusal(a, [own, withField(held, palm)]);
  expect(run(a.registry.isLive("id_r"))).toBe(false);
});

test("a tombstone signed by the region that deleted the identity applies everywhere, with its reason", async () => {
  const a = await openReplicaRegion("a");
  const b = await openReplicaRegion("b");
  enroll(a, "id_v", syntheticTemplate(VICTIM_PALM));
  ship(a, b);
  run(b.registry.tombstone("id_v", b.clock.now(), "expired"));
  const outcome = ship(b, a);
  expect(outcome.removed).toEqual(["id_v"]);
  expect(recordOf(run(a.registry.changesSince(0)).records, "id_v")).toMatchObject({ tombstone: { nodeId: "b" }, tombstoneReason: "expired" });
});

test("writes forwarded through a third region still verify where they arrive", async () => {
  const a = await openReplicaRegion("a");
  const b = await openReplicaRegion("b");
  const c = await openReplicaRegion("c");
  run(a.registry.enroll([{ identityId: "id_v" as never, template: syntheticTemplate(VICTIM_PALM), profile: { phone: "+15550100" } }], a.clock.now()));
  ship(a, b);
  run(b.registry.writeRegister("id_v", openPaymentsField("b"), 1));
  ship(b, c);
  expect(run(c.registry.findByPhone("+15550100"))).toBe("id_v");
  expect(run(c.registry.readRegisters("id_v", openPaymentsField("b")))).toEqual(new Map([[openPaymentsField("b"), 1]]));
});

test("a region refuses its own write to a field of an identity enrolled elsewhere, and its feed never carries it", async () => {
  const a = await openReplicaRegion("a");
  const b = await openReplicaRegion("b");
  enroll(a, "id_v", syntheticTemplate(VICTIM_PALM));
  ship(a, b);
  const before = run(b.registry.latestSeq());
  expect(failure(b.registry.writeProfile("id_v", { loyaltyCard: "LOY-B" }))).toBeInstanceOf(WriteNotAuthorised);
  expect(run(b.registry.latestSeq())).toBe(before);
});

test("any region may unlink the card (the person in another region's portal), and the origin takes the clearing", async () => {
  const { a, held } = await victimAndRogue();
  const b = await openReplicaRegion("b");
  ship(a, b);
  run(b.registry.clearProfileField(held.identityId, "card"));
  run(b.registry.writeRegister(held.identityId, DELETION_REQUESTED_FIELD, { region: "b" }));
  ship(b, a);
  expect(run(a.registry.readProfile("id_v")).card).toBeUndefined();
});

test("a record claiming another origin than the one known is refused", async () => {
  const { a, held } = await victimAndRogue();
  expect(refusal(a, [{ ...held, originRegion: "r", created: { ...held.created, nodeId: "r" } }]).reason).toMatch(/enrolled in r, not a/);
});

test("an upgraded registry signs at open the writes it made itself, and never sends another region's unsigned ones", async () => {
  const a = await openReplicaRegion("a");
  const b = await openReplicaRegion("b");
  run(a.registry.enroll([{ identityId: "id_own" as never, template: syntheticTemplate(VICTIM_PALM), profile: { phone: "+15550100" } }], a.clock.now()));
  enroll(a, "id_gone", syntheticTemplate(3));
  ship(a, b);
  run(b.registry.writeRegister("id_own", openPaymentsField("b"), 1));
  ship(b, a);
  run(a.registry.tombstone("id_gone", a.clock.now(), "requested"));
  // What a data directory from before signatures holds.
  a.db.exec("UPDATE identity_fields SET signature = NULL; UPDATE identities SET deleted_reason = NULL, deleted_signature = NULL");
  a.db.close();

  const reopened = await openReplicaRegion("a", { dataDir: a.dataDir, clock: a.clock });
  const records = run(reopened.registry.changesSince(0)).records;
  expect(recordOf(records, "id_own")!.fields.map((f) => f.name)).toEqual([TEMPLATE_FIELD, PROFILE_FIELDS.phone]);
  expect(recordOf(records, "id_gone")).toMatchObject({ tombstoneReason: "unrecorded" });
  const c = await openReplicaRegion("c");
  run(c.registry.merge(records));
  expect(run(c.registry.findByPhone("+15550100"))).toBe("id_own");
  expect(run(c.registry.isLive("id_gone"))).toBe(false);
});

test("a batch that names two origins for one identity is refused", async () => {
  const a = await openReplicaRegion("a");
  const r = await openReplicaRegion("r");
  enroll(r, "id_new", syntheticTemplate(30));
  const own = recordOf(run(r.registry.changesSince(0)).records, "id_new")!;
  const claimed: ReplicatedRecord = { ...own, originRegion: "a", created: { ...own.created, nodeId: "a" }, fields: [] };
  expect(refusal(a, [own, claimed]).reason).toMatch(/two regions as its origin/);
  expect(run(a.registry.isLive("id_new"))).toBe(false);
});
