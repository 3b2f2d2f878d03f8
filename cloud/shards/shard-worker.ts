// The worker thread behind a ShardThread: owns one SignatureShard and answers its requests one at
// a time. faiss runs single-threaded here; parallelism comes from one worker per shard.
import { parentPort } from "node:worker_threads";
import { loadSodium } from "../../protocol/sodium.ts";
import { faiss } from "./faiss-index.ts";
import type { ShardEnvelope, ShardReplies, ShardReplyEnvelope, ShardRequest } from "./shard-messages.ts";
import { SignatureShard } from "./signature-shard.ts";

faiss.Index.setThreads(1);
// Before the first message is handled (messages wait in the port until the listener below).
const sodium = await loadSodium();
let shard: SignatureShard | undefined;

const current = (): SignatureShard => {
  if (shard === undefined) throw new Error("shard not created yet");
  return shard;
};

const handle = (request: ShardRequest): ShardReplies[ShardRequest["op"]] => {
  switch (request.op) {
    case "create":
      shard = SignatureShard.create(request.layout, request.dimension, request.trained);
      return shard.size;
    case "load":
      shard = SignatureShard.load(sodium, request.layout, request.file);
      return shard.size;
    case "train":
      // Training is the one job worth both cores; the other worker is idle while shards build.
      faiss.Index.setThreads(2);
      try {
        return SignatureShard.train(request.layout, request.dimension, request.samples);
      } finally {
        faiss.Index.setThreads(1);
      }
    case "add":
      return current().add(request.identityIds, request.templates);
    case "remove":
      return current().remove(request.identityIds);
    case "search":
      return current().search(request.probe, request.k);
    case "identityIds":
      return current().identityIds();
    case "snapshot":
      current().writeSnapshot(sodium, request.file);
      return current().size;
    case "memory":
      return process.memoryUsage().rss;
  }
};

const answer = (id: number, work: () => ShardReplies[ShardRequest["op"]]) => {
  let reply: ShardReplyEnvelope;
  try {
    reply = { id, ok: true, value: work() };
  } catch (error) {
    reply = { id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
};

// Searches that arrive together (concurrent identifications) go to faiss as one batch; every
// other request runs in arrival order, after the searches queued before it.
type SearchEnvelope = { id: number; request: Extract<ShardRequest, { op: "search" }> };
let searches: SearchEnvelope[] = [];
const flushSearches = () => {
  const batch = searches;
  searches = [];
  if (batch.length === 0) return;
  if (batch.length === 1 || batch.some((s) => s.request.k !== batch[0]!.request.k)) {
    for (const { id, request } of batch) answer(id, () => current().search(request.probe, request.k));
    return;
  }
  let results: ReturnType<SignatureShard["searchMany"]> | undefined;
  let failure: unknown;
  try {
    const d = current().dimension;
    const probes = new Float32Array(batch.length * d);
    batch.forEach((s, i) => probes.set(s.request.probe, i * d));
    results = current().searchMany(probes, batch[0]!.request.k);
  } catch (error) {
    failure = error;
  }
  batch.forEach(({ id }, i) =>
    answer(id, () => {
      if (results === undefined) throw failure;
      return results[i]!;
    }),
  );
};

parentPort!.on("message", (envelope: ShardEnvelope) => {
  if (envelope.request.op === "search") {
    if (searches.length === 0) setImmediate(flushSearches);
    searches.push(envelope as SearchEnvelope);
    return;
  }
  flushSearches();
  answer(envelope.id, () => handle(envelope.request));
});
