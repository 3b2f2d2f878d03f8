// N real `palmline cloud` processes, each with a federation list naming every other region (its
// identity key, and the partition proxy it dials it through: one per direction) (test/support/partition-proxy.ts), so a test can cut a
// region off, heal it, kill -9 it and restart it on its data directory, and read each region's
// replication state from GET /api/replication. Devices reach their regions directly: a region
// cut off from its peers still serves its own scanners, which is what a partition looks like.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PalmScanner } from "../../cli/palm-scanner.ts";
import type { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { DeviceAgent } from "../../edge/device-agent.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { startPartitionProxy, type PartitionProxy } from "./partition-proxy.ts";
import { regionKeyIn, writeFederationList } from "./federation-lists.ts";
import { issueProvisioningCode, startRegionProcess, type RegionProcess } from "./region-process.ts";
import type { ReplicationStatus } from "../../cloud/replication/region-replication.ts";

/** GET /api/replication answers with the replication service's status. */
export type { ReplicationStatus };

export interface FederatedRegion {
  readonly name: string;
  readonly dataDir: string;
  /** The current process (a new one after restart()). */
  readonly process: RegionProcess;
  readonly url: string;
  readonly httpUrl: string;
  readonly identityPublicKey: Uint8Array;
  replication(): Promise<ReplicationStatus>;
  /** kill -9, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Starts the region again on the same data directory and port. */
  restart(): Promise<void>;
  readonly running: boolean;
}

export interface RegionFederation {
  readonly regions: readonly FederatedRegion[];
  region(name: string): FederatedRegion;
  /** The federation list `name` runs with (`palmline cloud --federation`). */
  federationList(name: string): string;
  /** Every link to and from `name` cut: it keeps serving its devices, alone. */
  cutOff(name: string): void;
  heal(name: string): void;
  /** The proxy `from` dials to reach `to`. */
  link(from: string, to: string): PartitionProxy;
  /** Resolves with every region's state once all (or the named ones) show one digest. */
  waitConverged(options?: { names?: readonly string[]; timeoutMs?: number }): Promise<ReplicationStatus[]>;
  /** Resolves once every named region reports each other named region connected. */
  waitConnected(options?: { names?: readonly string[]; timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

/** Polls `probe` until it returns a value other than undefined; fails with `describe()` at the deadline. */
export const waitFor = async <T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs?: number; describe: () => string | Promise<string> },
): Promise<T> => {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms: ${await options.describe()}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
};

const portOf = (url: string) => Number(new URL(url).port);

export const fetchReplication = async (httpUrl: string, operatorToken: string, timeoutMs = 10_000): Promise<ReplicationStatus> => {
  const response = await fetch(`${httpUrl}/api/replication`, { headers: { authorization: `Bearer ${operatorToken}` }, signal: AbortSignal.timeout(timeoutMs) });
  if (response.status !== 200) throw new Error(`GET ${httpUrl}/api/replication: HTTP ${response.status}`);
  return (await response.json()) as ReplicationStatus;
};

const tail = (p: RegionProcess, lines = 15) => p.output.join("\n").split("\n").slice(-lines).join("\n");

export const startRegionFederation = async (options: {
  names: readonly string[];
  baseDir: string;
  extraArgs?: readonly string[];
  /** Regions whose links start cut (healed later by the test). */
  cutOffAtStart?: readonly string[];
}): Promise<RegionFederation> => {
  const federationList = (name: string) => join(options.baseDir, `${name}.federation.json`);
  const links = new Map<string, PartitionProxy>();
  for (const from of options.names) for (const to of options.names) if (from !== to) links.set(`${from}->${to}`, await startPartitionProxy());
  const link = (from: string, to: string) => {
    const proxy = links.get(`${from}->${to}`);
    if (proxy === undefined) throw new Error(`no link ${from} -> ${to}`);
    return proxy;
  };
  /** Cuts or heals every link to and from `name`. */
  const setCutOff = (name: string, cut: boolean) => {
    for (const other of options.names) {
      if (other === name) continue;
      for (const proxy of [link(name, other), link(other, name)]) {
        if (cut) proxy.cut();
        else proxy.heal();
      }
    }
  };
  for (const name of options.cutOffAtStart ?? []) setCutOff(name, true);
  // Every region's identity key made in its data directory first, so each list can name them all.
  const keys = new Map<string, Uint8Array>();
  for (const name of options.names) {
    mkdirSync(join(options.baseDir, name), { recursive: true });
    keys.set(name, await regionKeyIn(join(options.baseDir, name)));
  }
  for (const name of options.names) {
    const others = options.names.filter((n) => n !== name);
    writeFederationList(
      federationList(name),
      others.map((to) => ({ regionId: to, identityPublicKey: keys.get(to)!, url: link(name, to).url })),
    );
  }

  const startOne = async (name: string, port: number) => {
    const dataDir = join(options.baseDir, name);
    mkdirSync(dataDir, { recursive: true });
    const p = await startRegionProcess(dataDir, ["--region", name, "--federation", federationList(name), ...(options.extraArgs ?? [])], port);
    // Peers reach it through their proxies, now that its port is known.
    for (const from of options.names) if (from !== name) link(from, name).retarget(portOf(p.url));
    return p;
  };

  // All at once: a region dials peers that are not up yet, and its dialer retries until they are.
  const attempts = await Promise.allSettled(options.names.map((name) => startOne(name, 0)));
  const failed = attempts.find((a) => a.status === "rejected");
  if (failed !== undefined) {
    for (const a of attempts) if (a.status === "fulfilled") a.value.child.kill("SIGKILL");
    await Promise.all([...links.values()].map((p) => p.close()));
    throw failed.reason;
  }
  const started = attempts.map((a) => (a as PromiseFulfilledResult<RegionProcess>).value);
  const regions: FederatedRegion[] = [];
  for (const [i, name] of options.names.entries()) {
    let current = started[i]!;
    let running = true;
    const port = portOf(current.url);
    void current.exited.then(() => (running = false));
    regions.push({
      name,
      dataDir: join(options.baseDir, name),
      get process() {
        return current;
      },
      get url() {
        return current.url;
      },
      get httpUrl() {
        return current.httpUrl;
      },
      get identityPublicKey() {
        return current.identityPublicKey;
      },
      get running() {
        return running;
      },
      replication: () => fetchReplication(current.httpUrl, current.operatorToken),
      kill: async () => {
        current.child.kill("SIGKILL");
        await current.exited;
      },
      restart: async () => {
        current = await startOne(name, port);
        running = true;
        void current.exited.then(() => (running = false));
      },
    });
  }
  const region = (name: string) => {
    const r = regions.find((x) => x.name === name);
    if (r === undefined) throw new Error(`no region ${name}`);
    return r;
  };
  const selected = (names?: readonly string[]) => (names ?? options.names).map(region);
  const statuses = (names?: readonly string[]) => Promise.all(selected(names).map((r) => r.replication()));
  const describe = async (names?: readonly string[]) => {
    const parts = await Promise.all(
      selected(names).map(async (r) => {
        const s = await r.replication().catch((e: unknown) => String(e));
        return `--- ${r.name}: ${JSON.stringify(s)}\n${tail(r.process)}`;
      }),
    );
    return parts.join("\n");
  };

  return {
    regions,
    region,
    federationList,
    link,
    cutOff: (name) => setCutOff(name, true),
    heal: (name) => setCutOff(name, false),
    waitConverged: (o = {}) =>
      waitFor(
        async () => {
          const all = await statuses(o.names).catch(() => undefined);
          return all?.every((s) => s.digest === all[0]!.digest) ? all : undefined;
        },
        { timeoutMs: o.timeoutMs ?? 30_000, describe: () => describe(o.names) },
      ),
    waitConnected: async (o = {}) => {
      const names = o.names ?? options.names;
      await waitFor(
        async () => {
          const all = await statuses(names).catch(() => undefined);
          const ok = all?.every((s) => names.every((n) => n === s.regionId || s.peers.some((p) => p.regionId === n && p.connected)));
          return ok === true ? true : undefined;
        },
        { timeoutMs: o.timeoutMs ?? 30_000, describe: () => describe(names) },
      );
    },
    close: async () => {
      await Promise.all(
        regions.map(async (r) => {
          if (!r.running) return;
          r.process.child.kill("SIGTERM");
          const ended = await Promise.race([r.process.exited.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 10_000))]);
          if (!ended) r.process.child.kill("SIGKILL");
        }),
      );
      await Promise.all([...links.values()].map((p) => p.close()));
    },
  };
};

/**
 * A scanner at one region of the federation: a bare palm scanner (cli/palm-scanner.ts) on a real
 * device agent, provisioned with a one-time code from `palmline provision-code`, the region key
 * pinned. It follows its region through a kill -9 and restart (same port): the agent reconnects by
 * itself. Answers in the tests' terms: identity ids, and a failure thrown rather than taken for "nobody".
 */
export class RegionScanner {
  readonly #scanner: PalmScanner;

  constructor(region: FederatedRegion, options: { name: string; stateDir: string; extractor: SignatureExtractor; sensorSeed: number }) {
    const agent = new DeviceAgent({
      deviceName: options.name,
      stateDir: options.stateDir,
      region: { url: region.url, identityPublicKey: region.identityPublicKey },
      // A scanner that enrolls and then identifies people.
      provisioningCode: issueProvisioningCode(region.dataDir, ["--role", "enrollment-kiosk,service-point"]),
    });
    this.#scanner = new PalmScanner({ agent, sensor: new SimulatedPalmSensor({ seed: options.sensorSeed }), extractor: options.extractor });
  }

  /** Enrolls a person's palm and answers the new identity's id. */
  async enroll(subjectSeed: number): Promise<string> {
    const outcome = await this.#scanner.enroll(subjectSeed);
    if (outcome.kind !== "enrolled") throw new Error(`enrollment of palm ${subjectSeed} failed: ${outcome.kind === "failed" ? outcome.reason : outcome.kind}`);
    return outcome.identityId;
  }

  /** One capture, identified by the region: the identity's id, or undefined when nobody matched. */
  async identify(subjectSeed: number): Promise<string | undefined> {
    const outcome = await this.#scanner.identify(subjectSeed);
    if (outcome.kind === "failed") throw new Error(`identification of palm ${subjectSeed} failed: ${outcome.reason}`);
    return outcome.kind === "identified" ? outcome.identityId : undefined;
  }

  /** A deletion request at this device: palm plus confirmation. */
  requestDeletion(subjectSeed: number): Promise<string> {
    return this.#scanner.requestDeletion(subjectSeed);
  }

  stop(): void {
    this.#scanner.stop();
  }
}
