// Runs `palmline cloud` as a real child process, as an operator would, and reads the one JSON
// line it prints when it is listening.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const repoRoot = join(import.meta.dirname, "..", "..");
export const cliEntry = join(repoRoot, "cli", "main.ts");

export interface RegionProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly httpUrl: string;
  readonly identityPublicKey: Uint8Array;
  /** The operator token, read as an operator would: from the file the listening line names. */
  readonly operatorToken: string;
  readonly output: string[];
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
}

/** `port` 0 picks a free one; a restarted region passes its old port so its devices find it again. */
export const startRegionProcess = (dataDir: string, extraArgs: string[] = [], port = 0): Promise<RegionProcess> => {
  const child = spawn(process.execPath, [cliEntry, "cloud", "--port", String(port), "--data", dataDir, ...extraArgs], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  child.stderr!.on("data", (d: Buffer) => output.push(d.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      output.push(line);
      if (!line.startsWith("{")) return;
      const parsed = JSON.parse(line) as { event?: string; url: string; httpUrl: string; identityPublicKey: string; operatorTokenFile?: string };
      if (parsed.event === "listening") {
        resolve({
          child,
          url: parsed.url,
          httpUrl: parsed.httpUrl,
          identityPublicKey: new Uint8Array(Buffer.from(parsed.identityPublicKey, "base64")),
          operatorToken:
            parsed.operatorTokenFile !== undefined ? readFileSync(parsed.operatorTokenFile, "utf8").trim() : (process.env.PALMLINE_OPERATOR_TOKEN ?? ""),
          output,
          exited,
        });
      }
    });
    void exited.then((code) => reject(new Error(`palmline cloud exited (${code}) before listening:\n${output.join("\n")}`)));
  });
};

/** A one-time code from `palmline provision-code`, bound as `binding` says (its flags: --role ROLE, --merchant ID, --venue ID). */
export const issueProvisioningCode = (dataDir: string, binding: readonly string[]): string => {
  const run = spawnSync(process.execPath, [cliEntry, "provision-code", "--data", dataDir, "--json", ...binding], { cwd: repoRoot, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`provision-code failed: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { code: string }).code;
};
