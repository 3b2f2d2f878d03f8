// `npm run bench -- replication`: two regions, each a full region node in its own process
// (replication-region.ts, forked), joined by a federation key, their link through a TCP proxy
// that the bench cuts and heals (test/support/partition-proxy.ts).
//
// 1. Steady state: region A enrolls --steady identities while the link is up; changes/s is that
//    count over the time from the first write to equal digests in both regions.
// 2. Partition: the link is cut; each side makes --changes changes (explicit mix below) on
//    identities they share and on new ones; the link is healed and the time to equal digests
//    (GET /api/replication on both) is measured, with the time the link took to come back.
// 3. Deletion: a shared identity deleted in one region (the deletion desk: tombstone, key
//    destroyed, out of the shards), timed until the other region no longer holds it live
//    (identification reads the registry for every candidate, so that is when it stops matching).
//
// Templates are synthetic signatures (test/cloud/fixtures.ts syntheticPalm), written through the
// registry in transactions of 500 and added to the shards, as a bulk import does; replication
// does not care what a template looks like, only how many bytes it is (10 KB encrypted).
// Progress on stderr; one JSON line on stdout.
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { regionKeyIn, writeFederationList } from "../support/federation-lists.ts";
import { startPartitionProxy } from "../support/partition-proxy.ts";
import { fetchReplication, type ReplicationStatus } from "../support/region-federation.ts";
import { OPERATOR_TOKEN_FILE } from "../../cloud/region-node.ts";
import { readTokenFile } from "../../http/secret-file.ts";
import { parseWholeNumber, UsageError } from "../../cli/command-line.ts";
import type { ReplicationBenchValues } from "./bench-commands.ts";

const progress = (line: string) => process.stderr.write(`[replication ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

/** How long each GET /api/replication took to answer (the digest is computed on the region's main thread). */
const statusMs: number[] = [];
let statusErrors = 0;

interface Region {
  readonly name: string;
  readonly httpUrl: string;
  readonly child: ChildProcess;
  call<T>(command: Record<string, unknown>): Promise<T>;
  status(): Promise<ReplicationStatus>;
}

/** Starts a region whose federation list names `peer`, dialled through `peerUrl`. */
const startRegion = async (name: string, dataDir: string, peer: { regionId: string; dataDir: string }, peerUrl: string): Promise<Region> => {
  const federationMembersFile = writeFederationList(join(dataDir, "federation.json"), [
    { regionId: peer.regionId, identityPublicKey: await regionKeyIn(peer.dataDir), url: peerUrl },
  ]);
  const settings = { regionId: name, dataDir, federationMembersFile };
  const child = fork(join(import.meta.dirname, "replication-region.ts"), [JSON.stringify(settings)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  const listening = new Promise<{ url: string; httpUrl: string }>((resolve, reject) => {
    child.on("message", (raw) => {
      const m = raw as { event?: string; url: string; httpUrl: string; id?: number; ok?: boolean; result?: unknown; error?: string };
      if (m.event === "listening") return resolve(m);
      const p = m.id !== undefined ? pending.get(m.id) : undefined;
      if (p === undefined) return;
      pending.delete(m.id!);
      if (m.ok === true) p.resolve(m.result);
      else p.reject(new Error(`region ${name}: ${m.error}`));
    });
    child.once("exit", (code, signal) => {
      const error = new Error(`region ${name} exited (${code ?? signal})`);
      reject(error);
      for (const p of pending.values()) p.reject(error);
    });
  });
  const { httpUrl } = await listening;
  return {
    name,
    httpUrl,
    child,
    call: <T>(command: Record<string, unknown>) =>
      new Promise<T>((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ ...command, id });
      }),
    status: async () => {
      // A region busy applying a large batch answers late; how late is part of the result.
      const started = performance.now();
      const status = await fetchReplication(httpUrl, readTokenFile(join(dataDir, OPERATOR_TOKEN_FILE)), 300_000);
      statusMs.push(performance.now() - started);
      return status;
    },
  };
};

/** Polls both regions until their digests are equal; answers the wall time it first saw that. */
const untilEqual = async (a: Region, b: Region, timeoutMs: number, onConnected?: (at: number) => void): Promise<number> => {
  const deadline = performance.now() + timeoutMs;
  let connectedSeen = false;
  for (;;) {
    let sa: ReplicationStatus;
    let sb: ReplicationStatus;
    try {
      [sa, sb] = await Promise.all([a.status(), b.status()]);
    } catch (error) {
      // A reset keep-alive connection says nothing about replication: ask again, within the deadline.
      statusErrors++;
      if (performance.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const now = performance.now();
    if (!connectedSeen && sa.peers.some((p) => p.connected) && sb.peers.some((p) => p.connected)) {
      connectedSeen = true;
      onConnected?.(now);
    }
    if (sa.digest === sb.digest) return now;
    if (now > deadline) throw new Error(`no convergence within ${timeoutMs} ms: ${JSON.stringify(sa)} ${JSON.stringify(sb)}`);
    // Each status computes the registry digest on the region's main thread (statusCallMs in the
    // report): polled every 250 ms, so the measurement does not slow what it measures too much.
    await new Promise((r) => setTimeout(r, 250));
  }
};

export const runReplicationBench = async (values: ReplicationBenchValues) => {
  const changes = parseWholeNumber("changes", values.changes, 10_000);
  const shared = parseWholeNumber("shared", values.shared, 4_000);
  const steady = parseWholeNumber("steady", values.steady, 5_000);
  const deletions = parseWholeNumber("deletions", values.deletions, 20);
  // The mix per side: 60% new enrollments, 30% last-seen raised on shared identities, 10% deletions
  // of shared identities. Each side deletes identities the other raises last-seen on (concurrent
  // tombstone vs. update: the tombstone must win).
  const perSide = {
    enrollments: Math.round(changes * 0.6),
    lastSeen: Math.round(changes * 0.3),
    deletions: changes - Math.round(changes * 0.6) - Math.round(changes * 0.3),
  };
  // Both sides' deletions, the ranges they raise last-seen on, and live ones left to time deletions with.
  const sharedNeeded = Math.max(perSide.deletions + perSide.lastSeen, 2 * perSide.deletions + deletions);
  if (shared < sharedNeeded) throw new UsageError({ reason: `--shared must be at least ${sharedNeeded} for --changes ${changes}` });
  const dataDir = mkdtempSync(join(tmpdir(), "palmline-bench-replication-"));
  for (const side of ["a", "b"]) mkdirSync(join(dataDir, side), { recursive: true });
  progress(`changes/side=${changes} (${JSON.stringify(perSide)}) shared=${shared} steady=${steady}`);

  // One proxy per direction: A dials B through aToB, B dials A through bToA.
  const aToB = await startPartitionProxy();
  const bToA = await startPartitionProxy();
  const a = await startRegion("bench-a", join(dataDir, "a"), { regionId: "bench-b", dataDir: join(dataDir, "b") }, aToB.url);
  const b = await startRegion("bench-b", join(dataDir, "b"), { regionId: "bench-a", dataDir: join(dataDir, "a") }, bToA.url);
  aToB.retarget(Number(new URL(b.httpUrl).port));
  bToA.retarget(Number(new URL(a.httpUrl).port));

  try {
    // 1. Shared identities, enrolled at A, replicated to B.
    const { ids: sharedIds } = await a.call<{ ids: string[] }>({ op: "enroll", count: shared, seedFrom: 1_000_000 });
    await untilEqual(a, b, 120_000);
    progress(`${shared} shared identities in both regions`);

    // Steady state: A writes while the link is up.
    const t = performance.now();
    await a.call({ op: "enroll", count: steady, seedFrom: 2_000_000 });
    const producedMs = performance.now() - t;
    const steadyEqual = await untilEqual(a, b, 120_000);
    const steadyMs = steadyEqual - t;
    progress(`steady: ${steady} enrollments written at A in ${producedMs.toFixed(0)} ms, both equal after ${steadyMs.toFixed(0)} ms`);

    // 2. Partition, changes on both sides, heal.
    aToB.cut();
    bToA.cut();
    await new Promise((r) => setTimeout(r, 200));
    const sideChanges = async (region: Region, seedFrom: number, seenIds: string[], deleteIds: string[]) => {
      const started = performance.now();
      await region.call({ op: "enroll", count: perSide.enrollments, seedFrom });
      await region.call({ op: "seen", ids: seenIds });
      const deleted = await region.call<{ outcomes: Record<string, number> }>({ op: "delete", ids: deleteIds });
      return { ms: performance.now() - started, deletions: deleted.outcomes };
    };
    const d = perSide.deletions;
    // A deletes shared[0, d) and raises last-seen on shared[d, 2d) (which B deletes) and on
    // shared[2d, d + lastSeen); B the mirror image. Both raise last-seen on the same last range.
    const aDeletes = sharedIds.slice(0, d);
    const bDeletes = sharedIds.slice(d, 2 * d);
    const aSeen = [...bDeletes, ...sharedIds.slice(2 * d, 2 * d + perSide.lastSeen - d)];
    const bSeen = [...aDeletes, ...sharedIds.slice(2 * d, 2 * d + perSide.lastSeen - d)];
    const [aSide, bSide] = await Promise.all([sideChanges(a, 3_000_000, aSeen, aDeletes), sideChanges(b, 4_000_000, bSeen, bDeletes)]);
    const [beforeA, beforeB] = await Promise.all([a.status(), b.status()]);
    progress(`partitioned: A made its changes in ${aSide.ms.toFixed(0)} ms, B in ${bSide.ms.toFixed(0)} ms; live A=${beforeA.live} B=${beforeB.live}`);

    let connectedAt: number | undefined;
    const healedAt = performance.now();
    aToB.heal();
    bToA.heal();
    const equalAt = await untilEqual(a, b, 300_000, (at) => (connectedAt = at));
    const afterA = await a.status();
    const convergenceMs = equalAt - healedAt;
    progress(
      `healed: link up after ${((connectedAt ?? equalAt) - healedAt).toFixed(0)} ms, digests equal after ${convergenceMs.toFixed(0)} ms; live ${afterA.live}`,
    );

    // 3. Deletion -> unidentifiable in the other region, alternating directions.
    const stillLive = sharedIds.slice(2 * d);
    const deletionMs: number[] = [];
    let stillIdentified = 0;
    for (let k = 0; k < deletions && k < stillLive.length; k++) {
      const [from, to] = k % 2 === 0 ? [a, b] : [b, a];
      const identityId = stillLive[k]!;
      const seed = 1_000_000 + sharedIds.indexOf(identityId);
      const watched = to.call<{ goneAt: number; identifiedAfter: boolean }>({ op: "watch", identityId, seed });
      const requestedAt = Date.now();
      await from.call({ op: "delete", ids: [identityId] });
      const gone = await watched;
      deletionMs.push(gone.goneAt - requestedAt);
      if (gone.identifiedAfter) stillIdentified++;
    }
    deletionMs.sort((x, y) => x - y);
    progress(`deletion -> unidentifiable in the other region: p50 ${percentile(deletionMs, 0.5)} ms, max ${deletionMs.at(-1)} ms`);

    const report = {
      bench: "replication",
      regions: "2 processes (full region nodes), link through a loopback TCP proxy",
      cpus: availableParallelism(),
      steadyState: {
        enrollments: steady,
        producedMs: Math.round(producedMs),
        equalDigestsMs: Math.round(steadyMs),
        changesPerSecond: Math.round((steady * 1000) / steadyMs),
      },
      partition: {
        changesPerSide: changes,
        mixPerSide: perSide,
        sharedIdentities: shared,
        conflicts: `each side deletes ${d} shared identities that the other raises last-seen on`,
        liveBeforeHeal: { a: beforeA.live, b: beforeB.live },
        liveAfter: afterA.live,
        expectedLive: shared + steady - 2 * d + 2 * perSide.enrollments,
        tombstonesAfter: afterA.tombstones,
        linkUpAfterHealMs: connectedAt !== undefined ? Math.round(connectedAt - healedAt) : null,
        convergenceMs: Math.round(convergenceMs),
        targetMs: 2_000,
      },
      statusCallMs: {
        calls: statusMs.length,
        errors: statusErrors,
        p50: Math.round(
          percentile(
            [...statusMs].sort((x, y) => x - y),
            0.5,
          ),
        ),
        max: Math.round(Math.max(0, ...statusMs)),
      },
      deletionToUnidentifiableMs: {
        samples: deletionMs.length,
        p50: percentile(deletionMs, 0.5),
        max: deletionMs.at(-1) ?? null,
        stillIdentifiedAfter: stillIdentified,
        targetMs: 1_000,
      },
    };
    console.log(JSON.stringify(report));
    return report;
  } finally {
    await Promise.allSettled([a.call({ op: "close" }), b.call({ op: "close" })]);
    await Promise.all([aToB.close(), bToA.close()]);
    if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
  }
};
