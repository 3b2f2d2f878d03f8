import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Effect, Exit, PubSub, Scope } from "effect";
import { afterEach, describe, expect, test } from "vitest";
import type { IdentityId } from "../../core/ids.ts";
import { encodePalmTemplate } from "../../core/palm-template.ts";
import type { IdentityProfileFields } from "../../cloud/identity/identity-fields.ts";
import type { IdentityRegistryShape } from "../../cloud/identity/identity-registry.ts";
import type { RegistryChange } from "../../cloud/identity/registry-change.ts";
import { openTestRegistry, syntheticTemplate } from "./fixtures.ts";

const id = (s: string) => s as IdentityId;
const run = Effect.runSync;

const profile: IdentityProfileFields = {
  card: { paymentToken: "tok_visa_4242", brand: "visa", last4: "4242", expiryMonth: 12, expiryYear: 2030 },
  phone: "+15551230001",
  loyaltyCard: "LOY-0001",
};

const opened: { close(): Promise<void> }[] = [];
const scopes: Scope.Closeable[] = [];
afterEach(async () => {
  for (const scope of scopes.splice(0)) await Effect.runPromise(Scope.close(scope, Exit.void));
  for (const registry of opened.splice(0)) await registry.close();
});

const open = async (...args: Parameters<typeof openTestRegistry>) => {
  const registry = await openTestRegistry(...args);
  opened.push(registry);
  return registry;
};

/** The registry's change stream from now on: each call returns the commits published since the last. */
const watchChanges = (registry: IdentityRegistryShape): (() => RegistryChange[]) => {
  const scope = run(Scope.make());
  scopes.push(scope);
  const subscription = run(registry.subscribeChanges.pipe(Effect.provideService(Scope.Scope, scope)));
  return () => [...run(PubSub.takeUpTo(subscription, 1_000))];
};

describe("identity registry", () => {
  test("returns an enrolled template exactly as it was stored", async () => {
    const { registry } = await open();
    const template = syntheticTemplate(1);
    run(registry.enroll([{ identityId: id("id_a"), template }], 1_000));
    const [stored] = run(registry.liveTemplates(0, 10));
    expect(stored?.identityId).toBe("id_a");
    expect(stored!.template).toEqual(template);
  });

  test("keeps enrollments across a close and reopen of the database", async () => {
    const first = await openTestRegistry();
    run(first.registry.enroll([{ identityId: id("id_a"), template: syntheticTemplate(1) }], 1_000));
    run(first.registry.enroll([{ identityId: id("id_b"), template: syntheticTemplate(2) }], 1_000));
    await first.close();
    const second = await open(first.dataDir);
    expect(run(second.registry.liveCount())).toBe(2);
    expect(run(second.registry.liveTemplates(0, 10)).map((t) => t.identityId)).toEqual(["id_a", "id_b"]);
  });

  test("stores templates only encrypted: the database file never holds the clear bytes", async () => {
    const { registry, db, dataDir } = await open();
    const template = syntheticTemplate(3);
    run(registry.enroll([{ identityId: id("id_c"), template }], 1_000));
    db.exec("PRAGMA wal_checkpoint(FULL)");
    const file = readFileSync(join(dataDir, "registry.sqlite"));
    const clear = Buffer.from(encodePalmTemplate(template).subarray(8, 72));
    expect(file.indexOf(clear)).toBe(-1);
  });

  test("last-seen only moves forward", async () => {
    const { registry, db } = await open();
    run(registry.enroll([{ identityId: id("id_a"), template: syntheticTemplate(1) }], 1_000));
    run(registry.recordSeen(id("id_a"), 5_000));
    run(registry.recordSeen(id("id_a"), 2_000));
    const row = db.prepare("SELECT last_seen_ms FROM identities WHERE identity_id = 'id_a'").get() as { last_seen_ms: number };
    expect(row.last_seen_ms).toBe(5_000);
  });

  test("refuses a second identity with the same id", async () => {
    const { registry } = await open();
    run(registry.enroll([{ identityId: id("id_a"), template: syntheticTemplate(1) }], 1_000));
    expect(() => run(registry.enroll([{ identityId: id("id_a"), template: syntheticTemplate(2) }], 1_000))).toThrow();
    expect(run(registry.liveCount())).toBe(1);
  });

  test("commits an enrollment's card, phone and loyalty card with its template, in one commit", async () => {
    const { registry } = await open();
    const changes = watchChanges(registry);
    const enrolled = run(registry.enroll([{ identityId: id("id_a"), template: syntheticTemplate(1), profile }], 1_000));
    expect(changes()).toEqual([{ source: "local", seq: enrolled.seq, changed: ["id_a"], indexed: ["id_a"], replaced: [], removed: [] }]);
    expect(run(registry.readProfile("id_a"))).toEqual(profile);
    expect(run(registry.findByPhone(profile.phone!))).toBe("id_a");
    // The one record the feed carries holds the template and the whole profile.
    const { records } = run(registry.changesSince(0));
    expect(records.map((r) => r.fields.map((f) => f.name))).toEqual([["card", "loyalty_card", "palm_template", "phone"]]);
  });

  test("a tombstone drops the fields, the phone index entry and the entitlements in one commit", async () => {
    const { registry, db } = await open();
    run(registry.enroll([{ identityId: id("id_a"), template: syntheticTemplate(1), profile }], 1_000));
    run(
      registry.grantEntitlement({
        entitlementId: "ent_1",
        identityId: "id_a",
        kind: "ticket",
        venueId: "venue_1",
        label: "Friday",
        validFromMs: 0,
        validUntilMs: 10_000,
        entriesAllowed: 1,
        entriesUsed: 0,
        schedule: null,
        revokedMs: null,
      }),
    );
    const changes = watchChanges(registry);
    const deleted = run(registry.tombstone("id_a", 2_000, "requested"));
    expect(changes()).toEqual([{ source: "local", seq: deleted.seq, changed: ["id_a"], indexed: [], replaced: [], removed: ["id_a"] }]);
    expect(run(registry.isLive("id_a"))).toBe(false);
    expect(run(registry.readProfile("id_a"))).toEqual({});
    expect(run(registry.findByPhone(profile.phone!))).toBeUndefined();
    expect(run(registry.entitlement("ent_1"))).toBeUndefined();
    const rows = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE identity_id = 'id_a'`).get() as { n: number }).n;
    expect({ fields: rows("identity_fields"), phoneIndex: rows("phone_index"), entitlements: rows("entitlements") }).toEqual({
      fields: 0,
      phoneIndex: 0,
      entitlements: 0,
    });
  });

  test("records merged from a peer publish on the change stream like local writes", async () => {
    const peer = await open(undefined, () => 1_000, "peer");
    run(peer.registry.enroll([{ identityId: id("id_peer"), template: syntheticTemplate(1) }], 1_000));
    const { registry } = await open();
    const changes = watchChanges(registry);
    const local = run(registry.enroll([{ identityId: id("id_local"), template: syntheticTemplate(2) }], 1_000));
    const merged = run(registry.merge(run(peer.registry.changesSince(0)).records));
    expect(changes()).toEqual([
      { source: "local", seq: local.seq, changed: ["id_local"], indexed: ["id_local"], replaced: [], removed: [] },
      { source: "peer", seq: merged.seq, changed: ["id_peer"], indexed: ["id_peer"], replaced: [], removed: [] },
    ]);
  });
});
