// The benches' command lines: each bench's options and help, kept apart from the benches so that
// `npm run bench -- <name> --help` and a bad argument load none of them. The benches read their
// values through cli/command-line.ts's parsers (defaults and ranges live where each value is used).
import type { CommandSpec, CommandValues } from "../../cli/command-line.ts";

export const protocolBenchSpec = {
  name: "protocol",
  program: "npm run bench --",
  summary: "handshakes/s, encrypted frames/s, bytes of overhead per frame",
  usage: "npm run bench -- protocol",
  options: {},
  optionHelp: {},
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean" }>>;

export const cryptoBenchSpec = {
  name: "crypto",
  program: "npm run bench --",
  summary: "libsodium-wrappers (WebAssembly) against sodium-native and node:crypto on frame encryption, template decryption and key wrapping",
  usage: "npm run bench -- crypto [--rounds N] [--round-ms MS]",
  options: {
    rounds: { type: "string" },
    "round-ms": { type: "string" },
  },
  optionHelp: {
    rounds: "rounds; in each, every library runs every path in turn; figures are the rounds' median (default 7)",
    "round-ms": "milliseconds per path, library and round (default 300)",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" }>>;

export const checkoutBenchSpec = {
  name: "checkout",
  program: "npm run bench --",
  summary: "a store as it runs (node, processor, scanner apart): scanner time, node time at D paced lanes, saturation, hand -> approved",
  usage:
    "npm run bench -- checkout [--enrolled N] [--rendered R] [--devices D] [--checkouts C] [--pace-ms MS] [--payers P] [--shards S] [--scanner-captures K] [--ramp R1,R2,...|none] [--step-ms MS] [--saturation-lanes L]",
  options: {
    enrolled: { type: "string" },
    rendered: { type: "string" },
    devices: { type: "string" },
    checkouts: { type: "string" },
    payers: { type: "string" },
    shards: { type: "string" },
    "pace-ms": { type: "string" },
    "scanner-captures": { type: "string" },
    ramp: { type: "string" },
    "step-ms": { type: "string" },
    "saturation-lanes": { type: "string" },
  },
  optionHelp: {
    enrolled: "background identities in the registry (default 100,000; 1,000,000 takes about 10x the fill and the node's memory)",
    rendered:
      "of them, palms rendered through the simulated sensor and the extractor (cached in .cache/open-set): up to 20,000 enrolled from three captures, the rest single-capture palms; the others are their mirror images (default: half, and room for failures to acquire, so mirrors fill the rest)",
    devices: "checkout lanes timed for node time, each a provisioned device on its own link (default 20)",
    checkouts: "checkouts per lane for node time (default 10)",
    payers: "payers enrolled through the real path, with cards (default 40)",
    shards: "FAISS shards of the node (default 2)",
    "pace-ms": "a customer every MS per lane for node time; 0 is back to back (default 2,000)",
    "scanner-captures": "captures the scanner times, frame -> sealed signature, in its worker thread (default 200)",
    ramp: "checkouts/s offered in turn for saturation, rising; none skips it (default 5,10,20,40,60,80,100,120,150,200)",
    "step-ms": "milliseconds of arrivals per saturation rate (default 6,000)",
    "saturation-lanes": "lanes the saturation arrivals are served by, one checkout in flight each (default 64)",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" }>>;

export const replicationBenchSpec = {
  name: "replication",
  program: "npm run bench --",
  summary: "two regions: changes/s, convergence after a partition, deletion -> unidentifiable",
  usage: "npm run bench -- replication [--changes N] [--shared N] [--steady N] [--deletions N] [--keep]",
  options: {
    changes: { type: "string" },
    shared: { type: "string" },
    steady: { type: "string" },
    deletions: { type: "string" },
    keep: { type: "boolean" },
  },
  optionHelp: {
    changes: "changes each side makes while partitioned (default 10,000)",
    shared: "identities both regions hold before the partition (default 4,000)",
    steady: "identities enrolled while the link is up (default 5,000)",
    deletions: "deletions timed until the other region stops holding them (default 20)",
    keep: "keep the regions' data directories",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean" }>>;

export const identifyBenchSpec = {
  name: "identify",
  program: "npm run bench --",
  summary: "identification among N enrolled rendered palms: recall@1, impostors, newcomers, latency, restart, bytes/identity",
  usage:
    "npm run bench -- identify [--enrolled N] [--rendered R] [--queries Q] [--impostors I] [--newcomers M] [--tail-probes P] [--tail-templates K] [--shards S] [--data DIR] [--keep] [--layout L] [--nprobe K] [--candidates C]",
  options: {
    enrolled: { type: "string" },
    rendered: { type: "string" },
    queries: { type: "string" },
    impostors: { type: "string" },
    newcomers: { type: "string" },
    "tail-probes": { type: "string" },
    "tail-templates": { type: "string" },
    shards: { type: "string" },
    data: { type: "string" },
    keep: { type: "boolean" },
    layout: { type: "string" },
    nprobe: { type: "string" },
    candidates: { type: "string" },
  },
  optionHelp: {
    enrolled: "identities in the registry, up to 1,000,000 (default 100,000)",
    rendered:
      "of them, palms rendered through the simulated sensor and the extractor (cached in .cache/open-set): up to 20,000 enrolled from three captures, the rest single-capture palms; the others are their mirror images (default: half, and room for failures to acquire, so mirrors fill the rest)",
    queries: "mated queries: new captures of the first enrolled rendered palms (default 1,000)",
    impostors: "never-enrolled palms identified through the full policy (default 250)",
    newcomers: "never-enrolled palms enrolled through the real path, duplicate check included (default 200)",
    "tail-probes": "non-mated probes of the check that derived palms have the rendered palms' impostor tail (default 1,000)",
    "tail-templates": "rendered templates, and as many mirrored ones, each tail probe is scored against (default 1,000)",
    shards: "FAISS shards (default 2)",
    data: "registry directory to fill (default a temporary one, removed afterwards)",
    keep: "keep the temporary data directory",
    layout: "force a FAISS index layout description instead of the chosen one",
    nprobe: "force the IVF lists probed per query",
    candidates: "candidates re-ranked by the template matcher per query (default: as many as a region re-ranks, RERANK_CANDIDATES)",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean" }>>;

export type CheckoutBenchValues = CommandValues<typeof checkoutBenchSpec.options>;
export type ReplicationBenchValues = CommandValues<typeof replicationBenchSpec.options>;
export type IdentifyBenchValues = CommandValues<typeof identifyBenchSpec.options>;
