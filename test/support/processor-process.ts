// Runs the payment processor simulator as its own process (cloud/payments/run-processor-simulator.ts)
// and reads the one JSON line it prints when it is listening.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "./region-process.ts";

export interface ProcessorProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Resolves once the process has ended. */
  readonly exited: Promise<number | string>;
  stop(): Promise<number | string>;
}

export const startProcessorProcess = (): Promise<ProcessorProcess> => {
  const child = spawn(process.execPath, [join(repoRoot, "cloud", "payments", "run-processor-simulator.ts")], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const parsed = JSON.parse(line) as { event?: string; url?: string };
        if (parsed.event === "listening" && parsed.url !== undefined) resolve({ child, url: parsed.url, exited, stop });
      } catch {
        // not the listening line
      }
    });
    void exited.then((code) => reject(new Error(`the processor simulator exited (${code}) before listening`)));
  });
};
