// `palmline cloud`: one regional node, running until SIGINT or SIGTERM.
import { systemClock } from "../../core/clock.ts";
import { defineCommand, parsePort, parsePositiveInt, UsageError, type CommandSpec } from "../command-line.ts";

const cloudSpec = {
  name: "cloud",
  summary: "start a regional cloud node (WebSocket sessions for scanners, /healthz over HTTP)",
  usage:
    "palmline cloud [--port P] [--host H] [--data DIR] [--region NAME] [--shards N] [--processor URL] [--operator-token T] [--inspector-port P] [--federation FILE]",
  options: {
    port: { type: "string" },
    host: { type: "string" },
    data: { type: "string" },
    region: { type: "string" },
    shards: { type: "string" },
    processor: { type: "string" },
    "operator-token": { type: "string" },
    "inspector-port": { type: "string" },
    federation: { type: "string" },
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
    federation: "the federation list: peer region ids, identity keys and URLs to dial (palmline federation add); re-read on SIGHUP; needed to replicate",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean"; multiple?: boolean }>>;

const timestamp = () => new Date().toISOString();

export const cloudCommand = defineCommand(cloudSpec, async (values) => {
  // Whatever the node or a library it loads creates is the region user's alone (the node also
  // sets its own files' modes: cloud/storage/sqlite/registry-database.ts, shard-snapshot.ts).
  process.umask(0o077);
  const federationFile = values.federation;
  if (federationFile !== undefined) {
    // Checked before anything starts: a list the node could not use is a one-line refusal.
    const { loadFederationMembers } = await import("../../cloud/replication/federation-members.ts");
    try {
      loadFederationMembers(federationFile);
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
    ...(federationFile !== undefined ? { federationMembersFile: federationFile } : {}),
  };
  /** Set once the node is up: what SIGHUP calls. */
  let reloadFederation: (() => void) | undefined;
  const program = Effect.gen(function* () {
    const node = yield* RegionNode;
    reloadFederation = () => node.replication.reloadMembers();
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
  // The operator edited the federation list (palmline federation add|remove): follow it now.
  process.on("SIGHUP", () => {
    settings.log("SIGHUP: re-reading the federation list");
    reloadFederation?.();
  });
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
