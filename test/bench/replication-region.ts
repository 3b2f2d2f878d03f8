// One region of the replication bench, in its own process (forked by replication.ts, talking over
// IPC): a full region node (registry, shards on workers, flows, server, replication links) and a
// few commands that make changes through the region's own paths, so the parent can time what
// replication does with them. Not a test double: the node is the one `palmline cloud` runs.
//
// Commands (one reply each, same `id`):
//   enroll  { count, seedFrom }  synthetic templates through the registry (bulk, 500 per
//                                transaction, as an import would) and into the shards
//   seen    { ids }              last-seen raised (what an identification writes)
//   delete  { ids }              the deletion desk: tombstone, data key destroyed, out of the shards
//   watch   { identityId, seed } answers when the identity is no longer identifiable here (wall ms)
//   close                        clean shutdown
import { Effect, ManagedRuntime } from "effect";
import { RegionServicesTag, RegionIndex, RegionNode, RegionStorage, regionNodeLayer, type RegionNodeSettings } from "../../cloud/region-node.ts";
import { systemClock } from "../../core/clock.ts";
import { newIdentityId, type IdentityId } from "../../core/ids.ts";
import { syntheticPalm, syntheticTemplate } from "../cloud/fixtures.ts";

type Command =
  | { id: number; op: "enroll"; count: number; seedFrom: number }
  | { id: number; op: "seen"; ids: string[] }
  | { id: number; op: "delete"; ids: string[] }
  | { id: number; op: "watch"; identityId: string; seed: number }
  | { id: number; op: "close" };

const config = JSON.parse(process.argv[2]!) as { regionId: string; dataDir: string; federationMembersFile: string };
const settings: RegionNodeSettings = {
  regionId: config.regionId,
  dataDir: config.dataDir,
  host: "127.0.0.1",
  port: 0,
  shardCount: 2,
  clock: systemClock,
  // The region's replication lines only: a line per bench deletion would drown the progress.
  log: (line) => {
    if (line.includes("replication")) process.stderr.write(`  ${config.regionId} | ${line}\n`);
  },
  federationMembersFile: config.federationMembersFile,
};
const runtime = ManagedRuntime.make(regionNodeLayer(settings));
const { node, storage, index, flows } = await runtime.runPromise(
  Effect.gen(function* () {
    return { node: yield* RegionNode, storage: yield* RegionStorage, index: yield* RegionIndex, flows: yield* RegionServicesTag };
  }),
);

const reply = (message: unknown) => process.send!(message);

const enroll = async (count: number, seedFrom: number): Promise<string[]> => {
  const ids: string[] = [];
  for (let from = 0; from < count; from += 500) {
    const entries = Array.from({ length: Math.min(500, count - from) }, (_, i) => ({
      identityId: newIdentityId(),
      template: syntheticTemplate(seedFrom + from + i),
    }));
    // The shards follow the registry's commits: answered once this one is in the index, as PalmIdentifier.enroll is.
    const change = await Effect.runPromise(storage.registry.enroll(entries, Date.now()));
    await index.index.reached(change.seq);
    for (const e of entries) ids.push(e.identityId);
  }
  return ids;
};

const watch = async (identityId: string, seed: number) => {
  // Unidentifiable = the registry no longer holds it live (identification reads the registry for
  // every candidate, so an index entry alone never matches). Polled every 2 ms.
  while (Effect.runSync(storage.registry.isLive(identityId))) await new Promise((r) => setTimeout(r, 2));
  const goneAt = Date.now();
  const closest = await index.identifier.closest(syntheticPalm(seed)(0));
  return { goneAt, identifiedAfter: closest?.identityId === identityId };
};

process.on("message", (raw) => {
  const command = raw as Command;
  const run = async (): Promise<unknown> => {
    switch (command.op) {
      case "enroll":
        return { ids: await enroll(command.count, command.seedFrom) };
      case "seen":
        for (const id of command.ids) Effect.runSync(storage.registry.recordSeen(id as IdentityId, Date.now()));
        return {};
      case "delete": {
        const outcomes: Record<string, number> = {};
        for (const id of command.ids) {
          const answer = await flows.deletions.deleteOrDefer(id);
          outcomes[answer.outcome] = (outcomes[answer.outcome] ?? 0) + 1;
        }
        return { outcomes, at: Date.now() };
      }
      case "watch":
        return watch(command.identityId, command.seed);
      case "close":
        await runtime.dispose();
        setImmediate(() => process.exit(0));
        return {};
    }
  };
  run().then(
    (result) => reply({ id: command.id, ok: true, result }),
    (error: unknown) => reply({ id: command.id, ok: false, error: error instanceof Error ? error.stack : String(error) }),
  );
});

reply({ event: "listening", url: node.url, httpUrl: node.httpUrl });
