// A rogue member of the federation, replayed against real region nodes in this process (real
// SQLite, shards on workers, WebSockets, libsodium): region R is on A's federation list and holds
// a copy of A's records, data keys included, and rewrites them in its own database, as its
// operator could; its real link then sends them to A. Before writes were signed, A adopted them
// (a palm put on another person's identity, identities deleted with no message); now A refuses
// them, closes the link and keeps its own records as they were.
import { join } from "node:path";
import { Effect } from "effect";
import { afterEach, expect, test } from "vitest";
import { encodeHlc, type HlcTimestamp } from "../../core/hybrid-logical-clock.ts";
import { encodePalmTemplate } from "../../core/palm-template.ts";
import { TEMPLATE_FIELD } from "../../cloud/identity/identity-fields.ts";
import { WriteSignatures } from "../../cloud/identity/write-signatures.ts";
import { startRegionNode } from "../../cloud/region-node.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { loadOrCreateRegionKeyring } from "../../cloud/storage/region-keyring.ts";
import { openRegistryDatabase } from "../../cloud/storage/sqlite/registry-database.ts";
import { systemClock } from "../../core/clock.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { sealForOneRequest, sealForRequest, syntheticPalm, syntheticTemplate, tempDir } from "../cloud/fixtures.ts";
import { regionKeyIn, writeFederationList } from "../support/federation-lists.ts";
import { waitUntil } from "../support/wait-until.ts";

type Node = Awaited<ReturnType<typeof startRegionNode>>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const VICTIM_PALM = 61;
const ROGUE_PALM = 62;
const HONEST_PALM = 63;

const startRegion = async (regionId: string, dataDir: string, federationMembersFile: string, logs: string[]) => {
  const node = await startRegionNode({
    regionId,
    dataDir,
    host: "127.0.0.1",
    port: 0,
    shardCount: 1,
    clock: systemClock,
    log: (line) => logs.push(line),
    antiEntropyEveryMs: 600_000,
    federationMembersFile,
  });
  cleanups.push(() => node.close());
  return { node, dataDir };
};

const scanner = async (node: Node) => {
  const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: "lane" });
  const link = await RegionLink.connect({ credentials, provisioningCode: node.issueProvisioningCode({ roles: ["enrollment-kiosk", "service-point"] }) });
  cleanups.push(() => link.close());
  const palm = (seed: number, capture: number) => sealForOneRequest(link, syntheticPalm(seed)(capture));
  return {
    enroll: async (seed: number) => {
      const result = await link.enroll(await sealForRequest(link, syntheticPalm(seed)(0), syntheticPalm(seed)(1), syntheticPalm(seed)(2)));
      if (result.outcome !== "enrolled") throw new Error(`enrollment failed: ${result.outcome}`);
      return result.identityId!;
    },
    identify: async (seed: number) => {
      const result = await link.identify(await palm(seed, 9));
      return result.outcome === "match" ? result.identityId : undefined;
    },
  };
};

/** A holding one identity enrolled by its scanner; R linked to it, holding a copy. */
const victimAndRogue = async () => {
  const [aDir, bDir, rDir] = ["a", "b", "r"].map((id) => tempDir(`palmline-${id}-`)) as [string, string, string];
  const [aKey, bKey, rKey] = await Promise.all([aDir, bDir, rDir].map(regionKeyIn));
  const aLogs: string[] = [];
  // A lists both; each of them lists A, with the URL it dials.
  const aList = writeFederationList(join(aDir, "federation.json"), [
    { regionId: "b", identityPublicKey: bKey! },
    { regionId: "r", identityPublicKey: rKey! },
  ]);
  const a = await startRegion("a", aDir, aList, aLogs);
  const listOfA = (dir: string) => writeFederationList(join(dir, "federation.json"), [{ regionId: "a", identityPublicKey: aKey!, url: a.node.url }]);
  /** An honest peer of A: what R sends must not cost it its link. */
  const b = await startRegion("b", bDir, listOfA(bDir), []);
  const r = await startRegion("r", rDir, listOfA(rDir), []);
  const atA = await scanner(a.node);
  const victim = await atA.enroll(VICTIM_PALM);
  await waitUntil(() => r.node.replication.status().live === 1 || undefined);
  // R's operator, in R's own database (a second connection, as any tool could open).
  const db = openRegistryDatabase(r.dataDir);
  cleanups.push(() => db.close());
  const keyring = await loadOrCreateRegionKeyring(r.dataDir);
  const sodium = await loadSodium();
  /** R signs with its own key whatever stamp it forges: the only key it has. */
  const signerAs = (regionId: string) => new WriteSignatures(sodium, regionId, keyring.identity, { publicKeyOf: () => undefined });
  const stamp = (nodeId: string): HlcTimestamp => ({ wallMs: Date.now() + 1_000, counter: 0, nodeId });
  const refused = () => waitUntil(() => aLogs.find((line) => line.includes("closing link with r") && line.includes("refused")));
  return { a, b, r, atA, victim, db, keyring, sodium, signerAs, stamp, refused };
};

test("a peer that puts its own palm on another region's identity is refused, and the person is still identified as themselves", async () => {
  const { a, r, atA, victim, db, keyring, sodium, signerAs, stamp, refused } = await victimAndRogue();
  const vault = new IdentityVault(sodium, keyring.storageKey);
  const wrapped = (db.prepare("SELECT wrapped FROM keys.data_keys WHERE identity_id = ?").get(victim) as { wrapped: Uint8Array }).wrapped;
  const dataKey = vault.unwrapDataKey(victim, wrapped);
  const value = vault.encryptField(victim, TEMPLATE_FIELD, dataKey, encodePalmTemplate(syntheticTemplate(ROGUE_PALM)));
  const at = stamp("r");
  db.prepare("UPDATE identity_fields SET hlc = ?, value = ?, signature = ? WHERE identity_id = ? AND field = ?").run(
    encodeHlc(at),
    value,
    signerAs("r").signField(victim, { name: TEMPLATE_FIELD, stamp: at, value }),
    victim,
    TEMPLATE_FIELD,
  );
  r.node.replication.registryChanged();

  expect(await refused()).toMatch(/palm_template of an identity enrolled in a is written by a only, not r/);
  expect(await atA.identify(VICTIM_PALM)).toBe(victim);
  expect(await atA.identify(ROGUE_PALM)).toBeUndefined();
  expect(Effect.runSync(a.node.flows.registry.templatesOf([victim]))[0]!.template).not.toEqual(syntheticTemplate(ROGUE_PALM));
});

test("while a rogue peer's records are refused, an honest peer's still arrive", async () => {
  const { b, r, atA, victim, db, signerAs, stamp, refused } = await victimAndRogue();
  const at = stamp("r");
  db.prepare("UPDATE identities SET deleted_hlc = ?, deleted_reason = 'unknown', deleted_signature = ? WHERE identity_id = ?").run(
    encodeHlc(at),
    signerAs("r").signTombstone(victim, at, "unknown"),
    victim,
  );
  db.prepare("DELETE FROM identity_fields WHERE identity_id = ?").run(victim);
  r.node.replication.registryChanged();
  expect(await refused()).toMatch(/without a known reason/);

  const enrolledAtB = await (await scanner(b.node)).enroll(HONEST_PALM);
  expect(await waitUntil(() => atA.identify(HONEST_PALM))).toBe(enrolledAtB);
  expect(await atA.identify(VICTIM_PALM)).toBe(victim);
});

test("a peer's tombstone for another region's identity, forged in that region's name, is refused and the identity stays live", async () => {
  const { a, r, atA, victim, db, signerAs, stamp, refused } = await victimAndRogue();
  const at = stamp("a");
  db.prepare("DELETE FROM identity_fields WHERE identity_id = ?").run(victim);
  db.prepare("UPDATE identities SET deleted_hlc = ?, deleted_reason = 'requested', deleted_signature = ? WHERE identity_id = ?").run(
    encodeHlc(at),
    signerAs("a").signTombstone(victim, at, "requested"),
    victim,
  );
  r.node.replication.registryChanged();

  expect(await refused()).toMatch(/tombstone is not signed by a/);
  expect(Effect.runSync(a.node.flows.registry.isLive(victim))).toBe(true);
  expect(await atA.identify(VICTIM_PALM)).toBe(victim);
});
