// The payment processor simulator as a process of its own (cloud/payments/run-processor-simulator.ts),
// as `palmline store` and the checkout bench run it: started, its URL read from the one JSON line
// it prints when listening, and stopped with SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface ChildListening<T> {
  readonly child: ChildProcess;
  /** The JSON line the child printed once listening. */
  readonly listening: T;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then the exit. */
  stop(): Promise<number | string>;
}

/**
 * Starts `node <entry> ...args` and resolves once it prints `{"event":"listening",...}`; every
 * other JSON line goes to `onEvent`, anything else it prints to `onLine`.
 */
export const startListeningChild = <T>(
  entry: string,
  args: readonly string[],
  handlers: { onEvent?: (event: { event?: string } & Record<string, unknown>) => void; onLine?: (line: string) => void } = {},
): Promise<ChildListening<T>> => {
  const child = spawn(process.execPath, [entry, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  child.stderr!.on("data", (d: Buffer) => output.push(d.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const event = line.startsWith("{") ? (JSON.parse(line) as { event?: string } & Record<string, unknown>) : undefined;
      if (event?.event === "listening") resolve({ child, listening: event as T, exited, stop });
      else if (event !== undefined) handlers.onEvent?.(event);
      else handlers.onLine?.(line);
    });
    void exited.then((code) => reject(new Error(`${entry} exited (${code}) before listening:\n${output.join("")}`)));
  });
};

export const startProcessorProcess = async () => {
  const started = await startListeningChild<{ url: string }>(join(import.meta.dirname, "..", "cloud", "payments", "run-processor-simulator.ts"), []);
  return { ...started, url: started.listening.url };
};
