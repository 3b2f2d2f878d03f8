// `npm run bench -- checkout`: a store the way it runs, with N enrolled (default 100,000), timed
// in figures that do not mix machines:
//  - the node: `palmline cloud` in a child process of its own (test/support/region-process.ts),
//    the payment processor simulator in another (cli/processor-process.ts);
//  - the scanner: a worker thread of its own with one ONNX thread (checkout-scanner.ts), timed
//    alone on one core: frame -> sealed signature (capture, extraction, seal);
//  - the lanes: provisioned devices on their own encrypted links in this process, replaying
//    captures the scanner extracted beforehand, each sealed to a fresh challenge of the node
//    (replay-lane.ts), so scanner CPU does not compete with the node on the machine's cores.
// Node time runs from the sealed authorization sent to its answer at the lane: D lanes (default
// 20), a customer every --pace-ms per lane (default 2,000). Saturation: checkouts/s offered at
// rising rates (--ramp) from a pool of lanes; the knee is the highest rate the node sustained
// before its node-time p99 passed 300 ms. Hand -> approved as a customer sees it is the scanner's
// time plus the challenge's and the authorization's round trips.
//
// The background identities are palm templates from background-palms.ts (rendered palms, then
// their mirror images), written through the real registry before the node starts; the payers are
// simulated palms enrolled through the real path with cards in the processor simulator's vault.
// Progress on stderr; one JSON line on stdout.
import { Effect } from "effect";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { openRegistryAtRest } from "../../cloud/identity/registry-at-rest.ts";
import { deviceBinding } from "../../cloud/storage/device-binding.ts";
import { DeviceDirectory } from "../../cloud/storage/sqlite/device-directory.ts";
import { openRegistryDatabase } from "../../cloud/storage/sqlite/registry-database.ts";
import { newIdentityId, type IdentityId } from "../../core/ids.ts";
import type { PalmTemplate } from "../../core/palm-template.ts";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { captureSealedSignature } from "../../edge/palm-capture.ts";
import { CardVaultClient } from "../../edge/payments/card-vault-client.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { CAPTURE_CHALLENGE_BYTES } from "../../protocol/index.ts";
import { parseNumberInRange, parsePositiveInt, parseWholeNumber, UsageError } from "../../cli/command-line.ts";
import { SCANNER_ENROLLMENT_CAPTURES } from "../../cli/palm-scanner.ts";
import { startProcessorProcess } from "../../cli/processor-process.ts";
import { startRegionProcess } from "../support/region-process.ts";
import { BackgroundPalms, renderedBackground, renderedPalmsFor } from "./background-palms.ts";
import type { CheckoutBenchValues } from "./bench-commands.ts";
import { runScanner } from "./checkout-scanner.ts";
import { ReplayLane, type ReplayedCheckout } from "./replay-lane.ts";

const progress = (line: string) => process.stderr.write(`[checkout ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const ms = (n: number) => Number(n.toFixed(1));
const spread = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: ms(percentile(sorted, 0.5)), p90: ms(percentile(sorted, 0.9)), p99: ms(percentile(sorted, 0.99)), max: ms(sorted.at(-1) ?? 0) };
};
const count = (outcomes: Record<string, number>, outcome: string) => {
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
};
const sleep = (wait: number) => (wait > 0 ? new Promise((r) => setTimeout(r, wait)) : Promise.resolve());

/**
 * CPU a process has used, user and system, in ms, from /proc (Linux; undefined elsewhere): what a
 * checkout costs the node whatever else the machine runs, unlike its latency.
 */
const cpuMsOf = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // utime and stime, fields 14 and 15 of stat(5), in ticks of 1/100 s (CLK_TCK on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
};
const perCheckout = (before: number | undefined, after: number | undefined, checkouts: number) =>
  before !== undefined && after !== undefined && checkouts > 0 ? ms((after - before) / checkouts) : undefined;

const MERCHANT = "palmline-store";
const GOOD_CARD = "4242424242424242";
/** The node-time p99 past which the node counts as saturated (issue #16). */
const SATURATION_P99_MS = 300;

const parseRamp = (value: string | undefined): number[] => {
  if (value === undefined) return [5, 10, 20, 40, 60, 80, 100, 120, 150, 200];
  const rates = value.split(",").map(Number);
  if (rates.length === 0 || rates.some((r) => !Number.isFinite(r) || r <= 0) || rates.some((r, i) => i > 0 && r <= rates[i - 1]!))
    throw new UsageError({ reason: `--ramp takes rising checkouts/s, comma-separated (got ${value})` });
  return rates;
};

export const runCheckoutBench = async (values: CheckoutBenchValues) => {
  const paceMs = parseNumberInRange("pace-ms", values["pace-ms"], 2_000, 0, 3_600_000);
  const enrolled = parseWholeNumber("enrolled", values.enrolled, 100_000, 10_000_000);
  const renderedWanted = Math.min(enrolled, parsePositiveInt("rendered", values.rendered, renderedPalmsFor(enrolled), 1_000_000));
  const devices = parsePositiveInt("devices", values.devices, 20, 1_000);
  const perLane = parsePositiveInt("checkouts", values.checkouts, 10);
  const payerCount = parsePositiveInt("payers", values.payers, 40, 100_000);
  const shardCount = parsePositiveInt("shards", values.shards, 2, 256);
  const scannerCaptures = parsePositiveInt("scanner-captures", values["scanner-captures"], 200, 100_000);
  const ramp = values.ramp === "none" ? [] : parseRamp(values.ramp);
  const stepMs = parsePositiveInt("step-ms", values["step-ms"], 6_000, 600_000);
  const poolSize = parsePositiveInt("saturation-lanes", values["saturation-lanes"], 64, 1_000);
  const dataDir = mkdtempSync(join(tmpdir(), "palmline-bench-checkout-"));
  const loadAtStart = loadavg()[0]!;
  progress(
    `enrolled=${enrolled} rendered=${renderedWanted} lanes=${devices} checkouts/lane=${perLane} pace=${paceMs > 0 ? `${paceMs} ms` : "back to back"} payers=${payerCount} ramp=${ramp.join(",") || "none"} load=${loadAtStart.toFixed(1)}`,
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

  // 2. One-time codes, as `palmline provision-code` issues them: one enrollment kiosk, and the
  // checkout lanes (the paced ones first, the saturation pool after them).
  const laneCount = Math.max(devices, ramp.length > 0 ? poolSize : 0);
  const db = openRegistryDatabase(dataDir);
  const directory = new DeviceDirectory(db);
  const enrollerCode = directory.issueProvisioningCode(deviceBinding({ roles: ["enrollment-kiosk"], merchantId: MERCHANT }), Date.now());
  const laneCodes = Array.from({ length: laneCount }, () =>
    directory.issueProvisioningCode(deviceBinding({ roles: ["checkout"], merchantId: MERCHANT }), Date.now()),
  );
  db.close();

  // 3. The processor simulator and the node, each a process of its own.
  const processor = await startProcessorProcess();
  t = performance.now();
  const node = await startRegionProcess(dataDir, ["--region", "bench", "--shards", String(shardCount), "--processor", processor.url]).catch(async (error) => {
    await processor.stop();
    throw error;
  });
  const startMs = performance.now() - t;
  progress(`node (pid ${node.child.pid}) listening after ${(startMs / 1000).toFixed(1)} s; processor simulator pid ${processor.child.pid}`);
  const lanes: ReplayLane[] = [];
  try {
    // 4. Payers enrolled through the real path at a kiosk, with cards in the processor's vault.
    const enroller = await RegionLink.connect({
      credentials: await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: "kiosk-1" }),
      provisioningCode: enrollerCode,
      requestTimeoutMs: 60_000,
    });
    const vault = new CardVaultClient(processor.url);
    const extractor = await SignatureExtractor.load();
    const payers: number[] = [];
    for (let p = 0; p < payerCount; p++) {
      // Far from the rendered palms' subjects (10,000,000 up: open-set-rendering.ts): a payer who
      // was one of them would be enrolled already, or the source of a mirrored palm.
      const seed = 80_000 + p;
      const sensor = new SimulatedPalmSensor({ seed: seed * 3 });
      sensor.present({ subjectSeed: seed, side: "right" });
      const to = await enroller.captureSeal();
      const sealed: Uint8Array[] = [];
      for (let c = 0; c < SCANNER_ENROLLMENT_CAPTURES; c++) sealed.push(await captureSealedSignature(sensor, extractor, to));
      const card = await vault.vault({ pan: GOOD_CARD, expiryMonth: 12, expiryYear: 2031 });
      const result = await enroller.enroll(sealed, {
        card: { processorToken: card.vaultToken, brand: card.brand, last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear },
      });
      if (result.outcome === "enrolled") payers.push(seed);
      else progress(`payer ${seed} not enrolled: ${result.outcome}${result.reason !== undefined ? ` (${result.reason})` : ""}`);
    }
    await extractor.close();
    progress(`${payers.length} payers enrolled`);
    if (payers.length === 0) throw new Error("no payer was enrolled: nothing to check out");

    // 5. The scanner, alone on one core: its own captures timed, then one capture per payer kept
    // for the lanes to replay. Its seals go to random challenges of the region's size: sealing
    // costs the same whatever the challenge, and a session holds only a few open at once.
    progress(`scanner: ${scannerCaptures} captures in a worker thread`);
    const scanner = await runScanner({
      sensorSeed: 5_000,
      payers,
      templatePublicKey: enroller.templatePublicKey,
      challenges: Array.from({ length: scannerCaptures }, () => new Uint8Array(randomBytes(CAPTURE_CHALLENGE_BYTES))),
    });
    enroller.close();
    const scannerMs = spread([...scanner.scannerMs]);
    progress(`scanner: p50 ${scannerMs.p50} ms, p99 ${scannerMs.p99} ms`);

    // 6. The lanes, each a provisioned checkout device on its own link.
    for (const [i, code] of laneCodes.entries())
      lanes.push(
        await ReplayLane.connect({
          url: node.url,
          identityPublicKey: node.identityPublicKey,
          name: `lane-${i + 1}`,
          provisioningCode: code,
          merchantId: MERCHANT,
        }),
      );
    const probeOf = (n: number) => scanner.probes[n % payers.length]!;

    // 7. Node time: D lanes, a customer every pace per lane, the lanes' first customers spread
    // evenly over the first pace (twenty lanes in step would send twenty palms at once).
    const nodeTimes: number[] = [];
    const challengeTimes: number[] = [];
    const outcomes: Record<string, number> = {};
    let lateStarts = 0;
    const loadBeforePaced = loadavg()[0]!;
    const cpuBefore = { node: cpuMsOf(node.child.pid), processor: cpuMsOf(processor.child.pid), lanes: process.cpuUsage() };
    t = performance.now();
    await Promise.all(
      lanes.slice(0, devices).map(async (lane, index) => {
        let nextSlot = paceMs > 0 ? t + (index * paceMs) / devices : 0;
        for (let c = 0; c < perLane; c++) {
          if (paceMs > 0) {
            const wait = nextSlot - performance.now();
            if (c > 0 && wait < -1) lateStarts++;
            await sleep(wait);
            nextSlot = performance.now() + paceMs;
          }
          const r = await lane.checkout(probeOf(index * perLane + c), 100 + c);
          count(outcomes, r.outcome);
          challengeTimes.push(r.challengeMs);
          if (r.outcome === "approved") nodeTimes.push(r.nodeMs);
        }
      }),
    );
    const pacedWallMs = performance.now() - t;
    const lanesCpu = process.cpuUsage(cpuBefore.lanes);
    const paced = devices * perLane;
    const cpuMsPerCheckout = {
      node: perCheckout(cpuBefore.node, cpuMsOf(node.child.pid), paced),
      processor: perCheckout(cpuBefore.processor, cpuMsOf(processor.child.pid), paced),
      lanes: ms((lanesCpu.user + lanesCpu.system) / 1_000 / paced),
    };
    progress(`CPU per checkout: ${JSON.stringify(cpuMsPerCheckout)}`);
    const nodeMs = spread(nodeTimes);
    const challengeMs = spread(challengeTimes);
    progress(`node time at ${devices} lanes: p50 ${nodeMs.p50} ms, p99 ${nodeMs.p99} ms; outcomes ${JSON.stringify(outcomes)}`);

    // 8. Saturation: arrivals at a steady rate, each served by a free lane of the pool; the ramp
    // stops at the first rate whose node-time p99 passes the limit.
    const steps: {
      offeredPerSecond: number;
      achievedPerSecond: number;
      approved: number;
      other: number;
      nodeMs: ReturnType<typeof spread>;
      waitedForLane: number;
    }[] = [];
    for (const rate of ramp) {
      const arrivals = Math.max(1, Math.round((rate * stepMs) / 1_000));
      const free = [...lanes];
      const waiting: ((lane: ReplayLane) => void)[] = [];
      const release = (lane: ReplayLane) => {
        const next = waiting.shift();
        if (next !== undefined) next(lane);
        else free.push(lane);
      };
      const times: number[] = [];
      let approved = 0;
      let waitedForLane = 0;
      const served: Promise<void>[] = [];
      const stepStart = performance.now();
      for (let k = 0; k < arrivals; k++) {
        await sleep(stepStart + (k * 1_000) / rate - performance.now());
        let lane = free.pop();
        if (lane === undefined) {
          waitedForLane++;
          lane = await new Promise<ReplayLane>((r) => waiting.push(r));
        }
        const taken = lane;
        served.push(
          taken
            .checkout(probeOf(k), 100 + (k % 900))
            .then((r: ReplayedCheckout) => {
              if (r.outcome === "approved") {
                approved++;
                times.push(r.nodeMs);
              }
            })
            .finally(() => release(taken)),
        );
      }
      await Promise.all(served);
      const wall = performance.now() - stepStart;
      const step = {
        offeredPerSecond: rate,
        achievedPerSecond: Number(((approved * 1_000) / wall).toFixed(1)),
        approved,
        other: arrivals - approved,
        nodeMs: spread(times),
        waitedForLane,
      };
      steps.push(step);
      progress(`saturation: offered ${rate}/s, achieved ${step.achievedPerSecond}/s, node time p50 ${step.nodeMs.p50} ms p99 ${step.nodeMs.p99} ms`);
      if (step.nodeMs.p99 > SATURATION_P99_MS) break;
      await sleep(1_000);
    }
    const sustained = steps.filter((s) => s.nodeMs.p99 <= SATURATION_P99_MS);
    const knee = sustained.at(-1);

    const report = {
      bench: "checkout",
      layout: {
        node: `palmline cloud, a child process (${shardCount} shards)`,
        processor: "processor simulator, a child process",
        scanner: "a worker thread, one ONNX thread, timed alone",
        lanes: "provisioned checkout devices in the bench process, replaying the scanner's captures sealed to a fresh challenge each",
      },
      enrolled: enrolled + payers.length,
      background: { rendered: background.renderedCount, singleCapture: singleCaptures, mirrored: background.mirroredCount },
      payers: { enrolled: payers.length, refused: payerCount - payers.length },
      cpus: availableParallelism(),
      loadAverage1m: { atStart: Number(loadAtStart.toFixed(1)), beforePaced: Number(loadBeforePaced.toFixed(1)), atEnd: Number(loadavg()[0]!.toFixed(1)) },
      scannerMs: { captures: scanner.scannerMs.length, ...scannerMs },
      nodeMs: {
        lanes: devices,
        paceMs,
        checkouts: devices * perLane,
        outcomes,
        lateStarts,
        checkoutsPerSecond: Number(((nodeTimes.length * 1_000) / pacedWallMs).toFixed(1)),
        ...nodeMs,
      },
      captureChallengeMs: challengeMs,
      // CPU each process spent per checkout over the paced run (challenge, authorization,
      // capture of the payment): 2 cores / the node's figure bounds its throughput on 2 cores.
      cpuMsPerCheckout,
      saturation: {
        p99LimitMs: SATURATION_P99_MS,
        stepMs,
        lanes: lanes.length,
        steps,
        kneeCheckoutsPerSecond: knee?.achievedPerSecond ?? 0,
        kneeOfferedPerSecond: knee?.offeredPerSecond ?? 0,
        passedEveryStep: ramp.length > 0 && sustained.length === ramp.length,
      },
      // A customer's wait: the challenge's round trip, the scanner's work, the authorization's
      // round trip; the p99 is the sum of the three p99s (an upper bound).
      handToApprovedMs: { p50: ms(challengeMs.p50 + scannerMs.p50 + nodeMs.p50), p99: ms(challengeMs.p99 + scannerMs.p99 + nodeMs.p99) },
      targets: { nodeP99Ms: 100, saturationCheckoutsPerSecond: 100, scannerP99Ms: 15, handToApprovedP99Ms: 300 },
      fillSeconds: Number((fillMs / 1_000).toFixed(1)),
      nodeStartSeconds: Number((startMs / 1_000).toFixed(1)),
    };
    console.log(JSON.stringify(report));
    return report;
  } finally {
    for (const lane of lanes) lane.close();
    node.child.kill("SIGTERM");
    await node.exited;
    await processor.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
