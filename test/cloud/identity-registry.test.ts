import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { IdentityId } from "../../core/ids.ts";
import { encodePalmTemplate } from "../../core/palm-template.ts";
import { openTestRegistry, syntheticTemplate } from "./fixtures.ts";

const id = (s: string) => s as IdentityId;

describe("identity registry", () => {
  test("returns an enrolled template exactly as it was stored", async () => {
    const { registry } = await openTestRegistry();
    const template = syntheticTemplate(1);
    registry.enroll(id("id_a"), template, 1_000);
    const [stored] = [...registry.liveTemplates()];
    expect(stored?.identityId).toBe("id_a");
    expect(stored!.template).toEqual(template);
  });

  test("keeps enrollments across a close and reopen of the database", async () => {
    const first = await openTestRegistry();
    first.registry.enroll(id("id_a"), syntheticTemplate(1), 1_000);
    first.registry.enroll(id("id_b"), syntheticTemplate(2), 1_000);
    first.db.close();
    const second = await openTestRegistry(first.dataDir);
    expect(second.registry.liveCount()).toBe(2);
    expect([...second.registry.liveTemplates()].map((t) => t.identityId)).toEqual(["id_a", "id_b"]);
  });

  test("stores templates only encrypted: the database file never holds the clear bytes", async () => {
    const { registry, db, dataDir } = await openTestRegistry();
    const template = syntheticTemplate(3);
    registry.enroll(id("id_c"), template, 1_000);
    db.exec("PRAGMA wal_checkpoint(FULL)");
    const file = readFileSync(join(dataDir, "registry.sqlite"));
    const clear = Buffer.from(encodePalmTemplate(template).subarray(8, 72));
    expect(file.indexOf(clear)).toBe(-1);
  });

  test("last-seen only moves forward", async () => {
    const { registry, db } = await openTestRegistry();
    registry.enroll(id("id_a"), syntheticTemplate(1), 1_000);
    registry.recordSeen(id("id_a"), 5_000);
    registry.recordSeen(id("id_a"), 2_000);
    const row = db.prepare("SELECT last_seen_ms FROM identities WHERE identity_id = 'id_a'").get() as { last_seen_ms: number };
    expect(row.last_seen_ms).toBe(5_000);
  });

  test("refuses a second identity with the same id", async () => {
    const { registry } = await openTestRegistry();
    registry.enroll(id("id_a"), syntheticTemplate(1), 1_000);
    expect(() => registry.enroll(id("id_a"), syntheticTemplate(2), 1_000)).toThrow();
    expect(registry.liveCount()).toBe(1);
  });
});
