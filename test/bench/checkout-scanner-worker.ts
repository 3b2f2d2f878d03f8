// The checkout bench's scanner, in a worker thread of its own (one ONNX intra-op thread: one
// core): times frame -> sealed signature for each capture (sensor frame, extraction, seal to a
// challenge the region issued), then captures one probe per payer for the lanes to replay.
import { parentPort, workerData } from "node:worker_threads";
import { encodePalmProbe, wipePalmProbe } from "../../core/palm-template.ts";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { captureSealedSignature } from "../../edge/palm-capture.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import type { ScannerJob, ScannerReport } from "./checkout-scanner.ts";

const job = workerData as ScannerJob;
const extractor = await SignatureExtractor.load();
const sensor = new SimulatedPalmSensor({ seed: job.sensorSeed });
// A real hand exists before it reaches the scanner: the simulator renders each hand's skin once
// per sensor, kept out of the timed captures (each capture is still drawn in full).
for (const subjectSeed of job.payers) {
  sensor.present({ subjectSeed, side: "right" });
  await sensor.capture();
}
const scannerMs: number[] = [];
for (const [i, challenge] of job.challenges.entries()) {
  sensor.present({ subjectSeed: job.payers[i % job.payers.length]!, side: "right" });
  const started = performance.now();
  await captureSealedSignature(sensor, extractor, { templatePublicKey: job.templatePublicKey, challenge });
  scannerMs.push(performance.now() - started);
}
const probes: Uint8Array[] = [];
for (const subjectSeed of job.payers) {
  sensor.present({ subjectSeed, side: "right" });
  // A frame judged poor is captured again, as the lane does (edge/palm-capture.ts).
  for (let attempt = 0; ; attempt++) {
    try {
      const probe = await extractor.extract(await sensor.capture());
      probes.push(encodePalmProbe(probe));
      wipePalmProbe(probe);
      break;
    } catch (error) {
      if (attempt >= 4) throw error;
    }
  }
}
sensor.present(undefined);
await extractor.close();
parentPort?.postMessage({ scannerMs, probes } satisfies ScannerReport);
