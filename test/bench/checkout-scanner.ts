// Runs the checkout bench's scanner (checkout-scanner-worker.ts) in a worker thread of its own.
import { Worker } from "node:worker_threads";

export interface ScannerJob {
  readonly sensorSeed: number;
  /** The payers whose palms the scanner sees, in turn. */
  readonly payers: readonly number[];
  readonly templatePublicKey: Uint8Array;
  /** One region challenge per timed capture. */
  readonly challenges: readonly Uint8Array[];
}

export interface ScannerReport {
  /** Frame -> sealed signature, per timed capture, in milliseconds. */
  readonly scannerMs: readonly number[];
  /** One probe (encodePalmProbe) per payer, in `payers` order, for the lanes to seal and send. */
  readonly probes: readonly Uint8Array[];
}

export const runScanner = (job: ScannerJob): Promise<ScannerReport> =>
  new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./checkout-scanner-worker.ts", import.meta.url), { workerData: job });
    worker.once("message", (report: ScannerReport) => resolve(report));
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the scanner worker exited (${code}) without a report`)));
  });
