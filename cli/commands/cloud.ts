// `palmline cloud`: one regional node, running until SIGINT or SIGTERM.
import { systemClock } from "../../core/clock.ts";
import { defineCommand, parsePort, parsePositiveInt, UsageError, type Command, type CommandSpec } from "../command-line.ts";
import { OPERATOR_TOKEN_VARIABLE } from "./revoke-device.ts";

/** Environment variables the node reads its tokens from, when no file is named (argv is visible to every user). */
export const METRICS_TOKEN_VARIABLE = "PALMLINE_METRICS_TOKEN";
export const INSPECTOR_TOKEN_VARIABLE = "PALMLINE_INSPECTOR_TOKEN";

const cloudSpec = {
  name: "cloud",
  summary: "start a regional cloud node (WebSocket sessions for scanners, /healthz over HTTP)",
  usage:
    "palmline cloud [--port P] [--host H] [--data DIR] [--region NAME] [--shards N] [--processor URL] [--operator-token-file FILE] [--metrics-token-file FILE] [--tls-cert FILE --tls-key FILE] [--inspector-port P [--inspector-token-file FILE]] [--federation FILE [--restored]]",
  options: {
    port: { type: "string" },
    host: { type: "string" },
    data: { type: "string" },
    region: { type: "string" },
    shards: { type: "string" },
    processor: { type: "string" },
    "operator-token-file": { type: "string" },
    "metrics-token-file": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "inspector-port": { type: "string" },
    "inspector-token-file": { type: "string" },
    federation: { type: "string" },
    restored: { type: "boolean" },
  },
  optionHelp: {
    port: "TCP port for WebSocket and HTTP (default 7400; 0 picks a free one)",
    host: "address to listen on (default 127.0.0.1)",
    data: "data directory: registry database and region keys (default .data/region)",
    region: "region name, unique among peered regions (default local)",
    shards: "number of FAISS shards (default 2)",
    processor: "payment processor base URL (e.g. the simulator's); without it card payments are refused",
    "operator-token-file": `file (mode 0600) holding the operator API's bearer token; else ${OPERATOR_TOKEN_VARIABLE}, else DIR/operator-token (created at first start)`,
    "metrics-token-file": `file (mode 0600) holding a bearer token /metrics requires; else ${METRICS_TOKEN_VARIABLE}; without either /metrics is public`,
    "tls-cert": "serve HTTP and WebSocket over TLS (https, wss) with this PEM certificate chain; needs --tls-key",
    "tls-key": "the certificate's PEM private key (mode 0600)",
    "inspector-port": "serve the inspector (sessions, sagas) on 127.0.0.1 at this port (0: any free port)",
    "inspector-token-file": `file (mode 0600) holding the inspector's token; else ${INSPECTOR_TOKEN_VARIABLE}, else a fresh one each start, shown in its URL`,
    restored: "DIR was restored from a backup: identify and enroll nobody until re-synced with a peer region (people deleted since the backup are live in it)",
    federation: "the federation list: peer region ids, identity keys and URLs to dial (palmline federation add); re-read on SIGHUP; needed to replicate",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean"; multiple?: boolean }>>;

const timestamp = () => new Date().toISOString();

/** A token from the file the operator named, else from the environment; undefined when neither is given. */
const tokenFrom = async (file: string | undefined, variable: string): Promise<string | undefined> => {
  const { readTokenFile } = await import("../../http/secret-file.ts");
  if (file !== undefined) {
    try {
      return readTokenFile(file);
    } catch (error) {
      throw new UsageError({ reason: error instanceof Error ? error.message : String(error) });
    }
  }
  const fromEnvironment = process.env[variable];
  if (fromEnvironment === undefined || fromEnvironment === "") return undefined;
  if (fromEnvironment.length < 16) throw new UsageError({ reason: `${variable} must be at least 16 characters` });
  return fromEnvironment;
};

const tlsFrom = async (certFile: string | undefined, keyFile: string | undefined) => {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) throw new UsageError({ reason: "--tls-cert and --tls-key go together" });
  const { readFileSync } = await import("node:fs");
  const { readSecretFile } = await import("../../http/secret-file.ts");
  try {
    return { cert: readFileSync(certFile), key: readSecretFile(keyFile) };
  } catch (error) {
    throw new UsageError({ reason: error instanceof Error ? error.message : String(error) });
  }
};

const startCloud = defineCommand(cloudSpec, async (values) => {
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
  const operatorToken = await tokenFrom(values["operator-token-file"], OPERATOR_TOKEN_VARIABLE);
  const metricsToken = await tokenFrom(values["metrics-token-file"], METRICS_TOKEN_VARIABLE);
  const inspectorToken = await tokenFrom(values["inspector-token-file"], INSPECTOR_TOKEN_VARIABLE);
  const tls = await tlsFrom(values["tls-cert"], values["tls-key"]);
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
    ...(operatorToken !== undefined ? { operatorToken } : {}),
    ...(metricsToken !== undefined ? { metricsToken } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(inspection !== undefined ? { inspection } : {}),
    ...(federationFile !== undefined ? { federationMembersFile: federationFile } : {}),
    ...(values.restored === true ? { restored: true } : {}),
  };
  /** Set once the node is up: what SIGHUP calls. */
  let reloadFederation: (() => void) | undefined;
  const program = Effect.gen(function* () {
    const node = yield* RegionNode;
    reloadFederation = () => node.replication.reloadMembers();
    if (inspection !== undefined) {
      // Loopback only, whatever --host says: the inspector can send events into live actors.
      const inspector = yield* Effect.acquireRelease(
        Effect.promise(() =>
          startInspectorServer({
            hub: inspection,
            title: `palmline inspector — region ${node.regionId}`,
            port: inspectorPort ?? 0,
            ...(inspectorToken !== undefined ? { token: inspectorToken } : {}),
          }),
        ),
        (server) => Effect.promise(() => server.close()),
      );
      // Its page's address carries the token in the fragment, which no browser sends to a server.
      console.log(JSON.stringify({ event: "inspector", url: inspector.pageUrl }));
    }
    // One machine-readable line, so scripts and tests can find the address and the pinned key.
    console.log(
      JSON.stringify({
        event: "listening",
        url: node.url,
        httpUrl: node.httpUrl,
        regionId: node.regionId,
        identityPublicKey: Buffer.from(node.identityPublicKey).toString("base64"),
        // Where the operator's tools find the token (never the token itself: logs are kept).
        ...(node.operatorTokenFile !== undefined ? { operatorTokenFile: node.operatorTokenFile } : {}),
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

/** `--operator-token VALUE` (a token on argv, readable by every user) is refused with its reason, not as an unknown option. */
export const cloudCommand: Command = {
  spec: startCloud.spec,
  run(argv) {
    if (argv.some((arg) => arg === "--operator-token" || arg.startsWith("--operator-token=")))
      throw new UsageError({
        command: "palmline cloud",
        reason: `--operator-token is refused: a token on the command line is visible to every user of the machine; use --operator-token-file FILE or ${OPERATOR_TOKEN_VARIABLE}`,
      });
    return startCloud.run(argv);
  },
};
