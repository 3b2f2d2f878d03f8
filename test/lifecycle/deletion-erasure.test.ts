// A deletion is complete only once no file on disk holds the person's palm: the index snapshot
// that still held it has been replaced and destroyed before the device is answered and before
// the person is told. Real node on a data directory, the index snapshot opened with the region's
// own keys (the most anyone holding the whole directory could do).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { DELETION_MESSAGES } from "../../cloud/lifecycle/deletion-acknowledgement.ts";
import { readSealedShard } from "../../cloud/shards/sealed-shard-file.ts";
import { IndexSnapshots } from "../../cloud/shards/shard-snapshot.ts";
import { loadOrCreateRegionKeyring } from "../../cloud/storage/region-keyring.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { tempDir } from "../cloud/fixtures.ts";
import { startLifecycleRegion, type LifecycleRegion } from "./lifecycle-region.ts";

const PHONE = "+4915112340077";
const PALM = 41;

let region: LifecycleRegion | undefined;
afterEach(() => region?.close());

/** Identities in every index snapshot on disk the region's keys can open, and how many generation keys lie there. */
const onDisk = async (dataDir: string) => {
  const sodium = await loadSodium();
  const { storageKey } = await loadOrCreateRegionKeyring(dataDir);
  const snapshot = new IndexSnapshots({ dir: join(dataDir, "index"), sodium, storageKey }).read();
  if (snapshot.kind !== "usable") throw new Error(`no usable index snapshot: ${JSON.stringify(snapshot)}`);
  return {
    identities: snapshot.files.flatMap((file) => readSealedShard(sodium, file).identities),
    keys: readdirSync(join(dataDir, "index")).filter((name) => name.endsWith(".key")).length,
  };
};

test("the device is answered and the person told of a deletion only once no index snapshot on disk holds the palm", async () => {
  const dataDir = tempDir();
  region = await startLifecycleRegion({ dataDir });
  const identityId = await region.enroll(PALM, PHONE);
  await region.close(); // its final snapshot holds the palm
  region = await startLifecycleRegion({ dataDir });
  expect((await onDisk(dataDir)).identities).toContain(identityId);

  const toldWhile: Awaited<ReturnType<typeof onDisk>>[] = [];
  const send = region.sms.send.bind(region.sms);
  region.sms.send = async (number, text) => {
    if (text === DELETION_MESSAGES.requested) toldWhile.push(await onDisk(dataDir));
    await send(number, text);
  };
  const point = await region.link("service");
  const answer = await point.requestDeletion(await region.seal(point, PALM, 30));
  point.close();
  expect(answer).toMatchObject({ outcome: "deleted", identityId });
  const answeredWhile = await onDisk(dataDir);

  expect(toldWhile).toHaveLength(1);
  for (const state of [toldWhile[0]!, answeredWhile]) {
    expect(state.identities).not.toContain(identityId);
    expect(state.keys).toBe(1);
  }
}, 120_000);
