// What `palmline store`, `gate` and `kiosk` share: a simulated region (cli/simulated-region.ts)
// with the inspector when asked for, seeded simulated people, and a live status line per device.
import { SIMULATION_PROBE_LIMIT } from "../cloud/session/probe-guard.ts";
import { parsePort } from "./command-line.ts";
import { InspectionHub } from "../inspector/inspection-hub.ts";
import { startInspectorServer } from "../inspector/inspector-server.ts";
import type { DeviceMode } from "../edge/device-mode.ts";
import type { FlowResult } from "../edge/flows/flow-result.ts";
import { startSimulatedRegion, type SimulatedBinding } from "./simulated-region.ts";
import { startSimulatedRegionApart } from "./simulated-region-apart.ts";

/** Luhn-valid test cards; the simulator declines the second. */
export const GOOD_CARD = "4242424242424242";
export const DECLINING_CARD = "4000000000000002";

export interface SimulatedPerson {
  readonly seed: number;
  readonly name: string;
  readonly pan: string;
  readonly phone: string;
  readonly loyaltyCard: string | undefined;
}

/** Deterministic people from a seed: the same seed gives the same crowd. */
export const simulatedPeople = (count: number, seed: number): SimulatedPerson[] =>
  Array.from({ length: count }, (_, i) => {
    const s = seed * 1_000 + i + 1;
    return {
      seed: s,
      name: `person ${i + 1}`,
      pan: i % 5 === 4 ? DECLINING_CARD : GOOD_CARD,
      phone: `+4915${String(10_000_000 + s).slice(-8)}`,
      loyaltyCard: i % 2 === 0 ? `LOY-${s}` : undefined,
    };
  });

export interface Decision {
  readonly device: string;
  readonly who: string;
  readonly expected: string;
  readonly result: FlowResult;
  readonly right: boolean;
}

export const startSite = async (options: { dataDir?: string; quiet: boolean; resultShownMs?: number; inspectorPort?: number; title?: string }) => {
  const inspection = options.inspectorPort !== undefined ? new InspectionHub() : undefined;
  const region = await startSimulatedRegion({
    regionId: "site",
    extractorPerDevice: true,
    probeLimit: SIMULATION_PROBE_LIMIT,
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    log: options.quiet ? () => {} : (line) => console.log(`  region | ${line}`),
    ...(inspection !== undefined ? { inspection } : {}),
  });
  const inspector =
    inspection !== undefined
      ? await startInspectorServer({ hub: inspection, title: `palmline inspector — ${options.title ?? "site"}`, port: options.inspectorPort ?? 0 })
      : undefined;
  const resultShown = options.resultShownMs !== undefined ? { resultShownMs: options.resultShownMs } : {};
  return {
    node: region.node,
    processor: region.processor,
    sms: region.sms,
    stops: region.stops,
    resultShown,
    inspectorUrl: inspector?.pageUrl,
    /** A device set up for one mode: its flow binding refuses any other (edge/device-mode.ts). */
    device: (name: string, mode: DeviceMode, binding?: SimulatedBinding) => region.device(name, { mode, ...(binding !== undefined ? { binding } : {}) }),
    kiosk: (name: string) => region.kiosk(name, resultShown),
    close: async () => {
      await inspector?.close();
      await region.close();
    },
  };
};

export type Site = Awaited<ReturnType<typeof startSite>>;

/** What a device's status line shows: its mode, its link, a counter and its display. */
export interface DeviceStatus {
  readonly name: string;
  readonly mode: string | undefined;
  readonly link: string;
  readonly detail?: string;
  readonly display: string;
}

/** One device's status line: `lane-1     | checkout | online (3 ms) | 2 served | Approved ...`. */
export const statusLine = (s: DeviceStatus): string =>
  [`  ${s.name.padEnd(10)}`, s.mode ?? "any flow", s.link, ...(s.detail !== undefined ? [s.detail] : []), s.display].join(" | ");

/**
 * A redraw of the board on a terminal: back up over the lines drawn last time, then each line
 * cleared and written again, so every device keeps one line updated in place.
 */
export const boardFrame = (lines: readonly string[], previouslyDrawn: number): string =>
  (previouslyDrawn > 0 ? `\x1b[${previouslyDrawn}A` : "") + lines.map((l) => `\x1b[2K${l}\n`).join("");

/** One decision as one line, for a pipe or a log. */
export const decisionLine = (d: Decision): string => {
  const latency = d.result.latencyMs !== undefined ? `${d.result.latencyMs.toFixed(0).padStart(5)} ms` : "       -";
  return `  ${d.right ? "ok  " : "WRONG"} | ${d.device.padEnd(10)} ${d.who.padEnd(12)} ${latency}  ${d.result.text}${d.right ? "" : `  (expected ${d.expected})`}`;
};

/** Where the board writes: stdout, or anything with the same two members. */
export interface BoardOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** A live status line per device on a terminal; plain decision lines otherwise. */
export class StatusBoard {
  readonly #devices = new Map<string, () => DeviceStatus>();
  readonly #tty: boolean;
  readonly #enabled: boolean;
  readonly #out: BoardOutput;
  #drawn = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(enabled: boolean, out: BoardOutput = process.stdout) {
    this.#enabled = enabled;
    this.#out = out;
    this.#tty = enabled && out.isTTY === true;
  }

  /** A device on the board; `detail` is the device's own counter ("3 served"). */
  track(name: string, agent: { readonly mode: string | undefined; status(): string }, display: { readonly current: string }, detail?: () => string): void {
    this.#devices.set(name, () => ({
      name,
      mode: agent.mode,
      link: agent.status(),
      ...(detail !== undefined ? { detail: detail() } : {}),
      display: display.current,
    }));
  }

  start(): void {
    if (this.#tty) this.#timer = setInterval(() => this.draw(), 200);
  }

  /** A decision: on a terminal the board redraws; in a pipe each decision is one line. */
  decision(d: Decision): void {
    if (!this.#enabled) return;
    if (this.#tty) return this.draw();
    this.#out.write(`${decisionLine(d)}\n`);
  }

  draw(): void {
    if (!this.#tty) return;
    const lines = [...this.#devices.values()].map((status) => statusLine(status()));
    this.#out.write(boardFrame(lines, this.#drawn));
    this.#drawn = lines.length;
  }

  /** A last redraw, once: a second stop must not back up over what was printed after the board. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.draw();
  }
}

/** Resolves on SIGINT/SIGTERM; `stopping()` tells loops to finish. */
export const stopSignal = () => {
  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      stopping = true;
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return { stopped, stopping: () => stopping };
};

export const summary = (decisions: readonly Decision[]) => {
  const wrong = decisions.filter((d) => !d.right);
  const latencies = decisions
    .map((d) => d.result.latencyMs)
    .filter((l): l is number => l !== undefined)
    .sort((a, b) => a - b);
  const p = (q: number) => (latencies.length === 0 ? 0 : latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
  return { decisions: decisions.length, right: decisions.length - wrong.length, wrong: wrong.length, p50Ms: p(0.5), p99Ms: p(0.99) };
};

/** What `palmline store`, `gate` and `kiosk` open with: a scripted run (--once) moves on quickly; a watched one leaves each result on screen a moment. */
interface SiteRunOptions {
  readonly title: string;
  readonly once: boolean;
  readonly json: boolean;
  readonly inspectorPort: string | undefined;
}

const siteOptions = (options: SiteRunOptions) => ({
  quiet: true,
  resultShownMs: options.once ? 100 : 1_500,
  title: options.title,
  ...(options.inspectorPort !== undefined ? { inspectorPort: parsePort(options.inspectorPort, 0) } : {}),
});

/** The site, its inspector announced, the status board and the decision log. With --json, stdout carries only the summary. */
const openRunOn = <S extends { readonly inspectorUrl: string | undefined }>(site: S, options: SiteRunOptions) => {
  if (site.inspectorUrl !== undefined) (options.json ? console.error : console.log)(`inspector: ${site.inspectorUrl}`);
  const board = new StatusBoard(!options.json);
  const decisions: Decision[] = [];
  const record = (d: Decision) => {
    decisions.push(d);
    board.decision(d);
  };
  return { site, board, decisions, record };
};

/** `palmline gate` and `kiosk`: the region in this process (startSite). */
export const openSiteRun = async (options: SiteRunOptions) => openRunOn(await startSite(siteOptions(options)), options);

/**
 * `palmline store`: the node and the processor in processes of their own, the lanes and the kiosk
 * in this one (simulated-region-apart.ts), so a decision's time is the node's, not the
 * simulation's. With an inspector the region runs in this process instead: the inspector watches
 * the devices' flows and the node's sessions and sagas in one hub.
 */
export const startStoreSite = async (options: ReturnType<typeof siteOptions>) => {
  const resultShown = options.resultShownMs !== undefined ? { resultShownMs: options.resultShownMs } : {};
  if (options.inspectorPort !== undefined) {
    const site = await startSite(options);
    return { ...site, layout: "one process (with the inspector)", charges: async () => site.processor.authorizations.size };
  }
  const region = await startSimulatedRegionApart({ regionId: "site", extractorPerDevice: true });
  return {
    stops: region.stops,
    resultShown,
    inspectorUrl: undefined,
    layout: `node pid ${region.pids.node}, processor pid ${region.pids.processor}, devices pid ${process.pid}`,
    device: (name: string, mode: DeviceMode, binding?: SimulatedBinding) => region.device(name, { mode, ...(binding !== undefined ? { binding } : {}) }),
    kiosk: (name: string) => region.kiosk(name, resultShown),
    charges: async () => (await region.charges()).length,
    close: region.close,
  };
};

export const openStoreRun = async (options: SiteRunOptions) => openRunOn(await startStoreSite(siteOptions(options)), options);
