// `palmline cloud`: one regional node, running until SIGINT or SIGTERM.
import { systemClock } from "../../core/clock.ts";
import { defineCommand, parsePort, parsePositiveInt, UsageError, type CommandSpec } from "../command-line.ts";

const cloudSpec = {
  name: "cloud",
  summary: "start a regional cloud node (WebSocket sessions for scanners, /healthz over HTTP)",
  usage:
    "palmline cloud [--port P] [--host H] [--data DIR] [--region NAME] [--shards N] [--processor URL] [--operator-token T] [--inspector-port P] [--federation-key FILE --peer URL [--peer URL ...]]",
  options: {
    port: { type: "string" },
    host: { type: "string" },
    data: { type: "string" },
    region: { type: "string" },
    shards: { type: "string" },
    processor: { type: "string" },
    "operator-token": { type: "string" },
    "inspector-port": { type: "string" },
    "federation-key": { type: "string" },
    peer: { type: "string", multiple: true },
  },
  optionHelp: {
    port: "TCP port for WebSocket and HTTP (default 7400; 0 picks a free one)",
    host: "address to listen on (default 127.0.0.1)",
    data: "data directory: registry database and region keys (default .data/region)",
    region: "region name, unique among peered regions (default local)",
    shards: "number of FAISS shards (default 2)",
    processor: "payment processor base URL (e.g. the simulator's); without it card payments are refused",
    "operator-token": "bearer token required on the operator API under /api/",
    "inspector-port": "serve the inspector (sessions, sagas) on 127.0.0.1 at this port (0: any free port)",
    "federation-key": "the federation's shared key file (palmline federation-key --out FILE); needed to replicate",
    peer: "a peer region's WebSocket URL (its \"listening\" line's url) to replicate with; repeat for more",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean"; multiple?: boolean }>>;

const timestamp = () => new Date().toISOString();

export const cloudCommand = defineCommand(cloudSpec, async (values) => {
  // Whatever the node or a library it loads creates is the region user's alone (the node also
  // sets its own files' modes: cloud/storage/sqlite/registry-database.ts, shard-snapshot.ts).
  process.umask(0o077);
  const peers = values.peer ?? [];
  if (peers.length > 0 && values["federation-key"] === undefined) {
    throw new UsageError({
      reason: "--peer needs --federation-key FILE: regions replicate only within one federation (create a key with: palmline federation-key --out FILE)",
    });
  }
  for (const peer of peers) {
    if (!/^wss?:\/\/[^/]+\/?$/.test(peer) || !URL.canParse(peer))
      throw new UsageError({ reason: `--peer must be a region's ws:// or wss:// URL, got "${peer}"` });
  }
  let federationKey: Uint8Array | undefined;
  if (values["federation-key"] !== undefined) {
    const { loadFederationKey } = await import("../../cloud/replication/federation-key.ts");
    try {
      federationKey = loadFederationKey(values["federation-key"]);
    } catch (error) {
      throw new UsageError({ reason: error instanceof Error ? error.message : String(error) });
    }
  }
  const inspectorPort = values["inspector-port"] !== undefined ? parsePort(values["inspector-port"], 0, "inspector-port") : undefined;
  const port = parsePort(values.port, 7400);
  const shardCount = parsePositiveInt("shards", values.shards, 2, 256);
  // Loaded only when the command runs: its --help and argument errors need none of it.
  const { Cause, Effect, Exit, Fiber } = await import("effect");
  const { regionNodeLayer, RegionNode } = await import("../../cloud/region-node.ts");
  const { InspectionHub } = await import("../../inspector/inspection-hub.ts");
  const { startInspectorServer } = await import("../../inspector/inspector-server.ts");
  const inspection = inspectorPort !== undefined ? new InspectionHub() : undefined;
  const settings = {
    regionId: values.region ?? "local",
    dataDir: values.data ?? ".data/region",
    host: values.host ?? "127.0.0.1",
    port,
    shardCount,
    clock: systemClock,
    log: (line: string) => console.log(`${timestamp()} ${line}`),
    ...(values.processor !== undefined ? { processorUrl: values.processor } : {}),
    ...(values["operator-token"] !== undefined ? { operatorToken: values["operator-token"] } : {}),
    ...(inspection !== undefined ? { inspection } : {}),
    ...(federationKey !== undefined ? { federationKey, peers } : {}),
  };
  const program = Effect.gen(function* () {
    const node = yield* RegionNode;
    if (inspection !== undefined) {
      // Loopback only, whatever --host says: the inspector can send events into live actors.
      const inspector = yield* Effect.acquireRelease(
        Effect.promise(() => startInspectorServer({ hub: inspection, title: `palmline inspector — region ${node.regionId}`, port: inspectorPort ?? 0 })),
        (server) => Effect.promise(() => server.close()),
      );
      console.log(JSON.stringify({ event: "inspector", url: inspector.url }));
    }
    // One machine-readable line, so scripts and tests can find the address and the pinned key.
    console.log(
      JSON.stringify({
        event: "listening",
        url: node.url,
        httpUrl: node.httpUrl,
        regionId: node.regionId,
        identityPublicKey: Buffer.from(node.identityPublicKey).toString("base64"),
      }),
    );
    return yield* Effect.never;
  }).pipe(Effect.scoped, Effect.provide(regionNodeLayer(settings)));
  const fiber = Effect.runFork(program);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return; // a repeated signal (terminal and launcher both send one) is the same request
    stopping = true;
    settings.log(`${signal}: shutting down`);
    void Effect.runPromise(Fiber.interrupt(fiber));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  const exit = await Effect.runPromise(Fiber.await(fiber));
  if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)) {
    console.error(`palmline cloud: ${Cause.pretty(exit.cause).split("\n")[0]}`);
    return 1;
  }
  settings.log("region node stopped");
  return 0;
});
