#!/usr/bin/env node
// The `palmline` executable. palmline's TypeScript runs on Node 24 by type stripping; when this
// file is started by an older Node (the machine's own), it re-runs itself on the Node 24 pinned
// in the project's `node` dependency. Plain JavaScript so that any Node can read it.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "cli", "main.ts");
const major = Number(process.versions.node.split(".")[0]);

if (major >= 24) {
  await import(entry);
} else {
  let pinned;
  try {
    pinned = createRequire(join(root, "package.json")).resolve("node/bin/node");
  } catch {
    console.error(`palmline: needs Node >= 24 (this is ${process.version}); run \`npm install\` in ${root} to fetch the pinned one`);
    process.exit(1);
  }
  const child = spawn(pinned, [entry, ...process.argv.slice(2)], { stdio: "inherit" });
  // Forward stop signals and wait for the child's clean shutdown instead of dying first. (A
  // terminal's Ctrl-C reaches the child directly as well; palmline treats a repeat as one.)
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
