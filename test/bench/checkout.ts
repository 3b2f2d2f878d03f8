// `npm run bench -- checkout`: hand over the scanner -> approved on the display, with N enrolled
// (default 100,000) and D checkout lanes busy at once (default 20), on this machine.
//
// The background identities are palm templates from background-palms.ts (rendered palms, then
// their mirror images), written through the real registry; the payers are simulated palms
// enrolled through the real path with cards in the processor simulator's vault. Each lane is a
// real device agent with its own ONNX extractor, over its own encrypted WebSocket, running the
// checkout machine: capture -> seal -> region (identify, authorize at the processor) -> capture
// of the payment -> receipt. Progress on stderr; one JSON line on stdout.
//
// --pace-ms N: each lane starts its next checkout N ms after the previous one began (a customer
// every N ms per lane; later if the lane is still busy), the lanes' first customers spread evenly
// over the first N ms. 0, the default, is back to back.
import { Effect } from "effect";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { openRegistryAtRest } from "../../cloud/identity/registry-at-rest.ts";
import { newIdentityId, type IdentityId } from "../../core/ids.ts";
import type { PalmTemplate } from "../../core/palm-template.ts";
import { CheckoutLane } from "../../edge/flows/checkout-lane.ts";
import { whenState } from "../../edge/flows/flow-driver.ts";
import { SimulatedDisplay } from "../../hardware/display.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { BackgroundPalms, renderedBackground, renderedPalmsFor } from "./background-palms.ts";
import { parseNumberInRange, parsePositiveInt, parseWholeNumber } from "../../cli/command-line.ts";
import { startSimulatedRegion } from "../../cli/simulated-region.ts";
import type { CheckoutBenchValues } from "./bench-commands.ts";

const progress = (line: string) => process.stderr.write(`[checkout ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

export const runCheckoutBench = async (values: CheckoutBenchValues) => {
  const paceMs = parseNumberInRange("pace-ms", values["pace-ms"], 0, 0, 3_600_000);
  const enrolled = parseWholeNumber("enrolled", values.enrolled, 100_000, 10_000_000);
  const renderedWanted = Math.min(enrolled, parsePositiveInt("rendered", values.rendered, renderedPalmsFor(enrolled), 1_000_000));
  const devices = parsePositiveInt("devices", values.devices, 20, 1_000);
  const perLane = parsePositiveInt("checkouts", values.checkouts, 10);
  const payerCount = parsePositiveInt("payers", values.payers, 40, 100_000);
  const shardCount = parsePositiveInt("shards", values.shards, 2, 256);
  const dataDir = mkdtempSync(join(tmpdir(), "palmline-bench-checkout-"));
  progress(
    `enrolled=${enrolled} rendered=${renderedWanted} devices=${devices} checkouts/lane=${perLane} payers=${payerCount} pace=${paceMs > 0 ? `${paceMs} ms` : "back to back"}`,
  );

  // 1. Background identities, through the real registry (templates encrypted per identity).
  const { templates: rendered, singleCaptures } = await renderedBackground({
    rendered: renderedWanted,
    mated: 0,
    nonMated: 0,
    threads: availableParallelism(),
    progress,
  });
  const background = new BackgroundPalms({ count: enrolled, rendered, sourcesFrom: 0 });
  progress(`background: ${background.renderedCount} rendered (${singleCaptures} of them single-capture palms) + ${background.mirroredCount} mirrored`);
  const atRest = await openRegistryAtRest({ dataDir, regionId: "bench" });
  let t = performance.now();
  for (let from = 0; from < enrolled; from += 10_000) {
    const entries: { identityId: IdentityId; template: PalmTemplate }[] = [];
    for (let i = from; i < Math.min(enrolled, from + 10_000); i++) entries.push({ identityId: newIdentityId(), template: background.template(i) });
    Effect.runSync(atRest.registry.enroll(entries, Date.now()));
    progress(`fill: ${Math.min(enrolled, from + 10_000)}/${enrolled}`);
  }
  await atRest.close();
  const fillMs = performance.now() - t;

  // 2. The simulated region: the node (shards rebuilt from the registry), the processor simulator,
  // and devices that each run their own model session.
  t = performance.now();
  const region = await startSimulatedRegion({ regionId: "bench", dataDir, shardCount, log: () => {}, extractorPerDevice: true });
  const { node } = region;
  const startMs = performance.now() - t;
  progress(`node listening after ${(startMs / 1000).toFixed(1)} s with ${node.enrolledCount()} enrolled`);

  // 3. Payers enrolled through the real path, with cards in the processor's vault.
  const payers: number[] = [];
  for (let p = 0; p < payerCount; p++) {
    // Far from the rendered palms' subjects (10,000,000 up: open-set-rendering.ts): a payer who
    // was one of them would be enrolled already, or the source of a mirrored palm.
    const seed = 80_000 + p;
    try {
      await region.enroll(seed, { sensorSeed: seed * 3 });
      payers.push(seed);
    } catch (error) {
      progress(`payer ${seed} not enrolled: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  progress(`${payers.length} payers enrolled`);

  // 4. D lanes, all busy: each serves its shoppers back to back.
  const lanes = await Promise.all(
    Array.from({ length: devices }, async (_, i) => {
      const { agent, extractor } = await region.device(`lane-${i + 1}`);
      const sensor = new SimulatedPalmSensor({ seed: 5_000 + i });
      return {
        lane: new CheckoutLane({
          agent,
          sensor,
          extractor,
          display: new SimulatedDisplay(),
          merchantId: "palmline-store",
          merchantKind: "first-party",
          resultShownMs: 0,
        }),
        sensor,
        index: i,
      };
    }),
  );
  // A real hand exists before it reaches the scanner; the simulator renders each hand's skin once
  // per sensor (about 15 ms), which would otherwise land inside the first checkout of that payer
  // on each lane. Rendered here, before the clock starts; every capture is still drawn in full.
  for (const { sensor, index } of lanes) {
    for (let c = 0; c < Math.min(perLane, payers.length); c++) {
      sensor.present({ subjectSeed: payers[(index * perLane + c) % payers.length]!, side: "right" });
      await sensor.capture();
    }
    sensor.present(undefined);
  }
  const latencies: number[] = [];
  // Sealed capture -> approved: the region's share (identify, authorize, capture) plus the wire.
  const regionLatencies: number[] = [];
  const outcomes: Record<string, number> = {};
  /** Paced checkouts that began later than their slot because the lane was still busy. */
  let lateStarts = 0;
  t = performance.now();
  await Promise.all(
    lanes.map(async ({ lane, sensor, index }) => {
      // Lanes are not in step: each one's first customer comes at its own offset within the pace,
      // spread evenly (twenty lanes started together would send twenty palms at once every
      // pace, a burst no store sees).
      let nextSlot = paceMs > 0 ? t + (index * paceMs) / devices : 0;
      for (let c = 0; c < perLane; c++) {
        await whenState(lane.actor, "idle");
        if (paceMs > 0) {
          const wait = nextSlot - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          else if (c > 0 && wait < -1) lateStarts++;
          nextSlot = performance.now() + paceMs;
        }
        lane.begin(100 + c, "EUR");
        sensor.present({ subjectSeed: payers[(index * perLane + c) % payers.length]!, side: "right" });
        const started = performance.now();
        let sealedAt = 0;
        const sub = lane.actor.subscribe((s) => {
          if (s.value === "authorizing" && sealedAt === 0) sealedAt = performance.now();
        });
        const result = await lane.presentHand();
        const ms = performance.now() - started;
        sub.unsubscribe();
        if (result.kind === "approved" && sealedAt > 0) regionLatencies.push(performance.now() - sealedAt);
        outcomes[result.kind] = (outcomes[result.kind] ?? 0) + 1;
        if (result.kind === "approved") latencies.push(ms);
      }
    }),
  );
  const wallMs = performance.now() - t;
  latencies.sort((a, b) => a - b);
  regionLatencies.sort((a, b) => a - b);
  const report = {
    bench: "checkout",
    enrolled: node.enrolledCount(),
    background: { rendered: background.renderedCount, singleCapture: singleCaptures, mirrored: background.mirroredCount },
    devices,
    checkouts: devices * perLane,
    pacing: paceMs > 0 ? { paceMs, perLane: `a customer every ${paceMs} ms`, lateStarts } : { paceMs: 0, perLane: "back to back" },
    // Payers the region refused at enrollment (already enrolled: matched a background identity).
    payers: { enrolled: payers.length, refused: payerCount - payers.length },
    outcomes,
    handToApprovedMs: {
      p50: Number(percentile(latencies, 0.5).toFixed(1)),
      p90: Number(percentile(latencies, 0.9).toFixed(1)),
      p99: Number(percentile(latencies, 0.99).toFixed(1)),
      max: Number((latencies.at(-1) ?? 0).toFixed(1)),
    },
    sealedToApprovedMs: { p50: Number(percentile(regionLatencies, 0.5).toFixed(1)), p99: Number(percentile(regionLatencies, 0.99).toFixed(1)) },
    cpus: availableParallelism(),
    checkoutsPerSecond: Number(((latencies.length * 1000) / wallMs).toFixed(1)),
    fillSeconds: Number((fillMs / 1000).toFixed(1)),
    nodeStartSeconds: Number((startMs / 1000).toFixed(1)),
    targetP99Ms: 300,
  };
  for (const l of lanes) l.lane.stop();
  await region.close();
  rmSync(dataDir, { recursive: true, force: true });
  console.log(JSON.stringify(report));
  return report;
};
