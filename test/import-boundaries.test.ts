// The import direction (DESIGN.md) is kept by biome.json: one noRestrictedImports rule per top-level
// folder. These tests lint a throwaway tree under that very file, so a rule dropped from it fails here.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const biome = createRequire(import.meta.url).resolve("@biomejs/biome/bin/biome");
const RULE = "lint/style/noRestrictedImports";

interface ImportCase {
  readonly why: string;
  readonly file: string;
  readonly source: string;
}

const forbidden: readonly ImportCase[] = [
  { why: "edge never imports cloud", file: "edge/flows/gate.ts", source: `import { a } from "../../cloud/session/a.ts";` },
  { why: "cloud never imports edge", file: "cloud/session/desk.ts", source: `import { a } from "../../edge/flows/a.ts";` },
  { why: "a type-only import crosses the boundary too", file: "edge/link.ts", source: `import type { A } from "../cloud/a.ts";` },
  { why: "a re-export crosses the boundary too", file: "edge/reexport.ts", source: `export { a } from "../cloud/a.ts";` },
  { why: "a dynamic import crosses the boundary too", file: "edge/lazy.ts", source: `export const a = await import("../cloud/a.ts");` },
  { why: "core imports nothing else from the repo", file: "core/ids.ts", source: `import { a } from "../protocol/a.ts";` },
  { why: "core does no I/O", file: "core/clock.ts", source: `import { readFileSync } from "node:fs";` },
  { why: "protocol does not reach up to edge", file: "protocol/messages/m.ts", source: `import { a } from "../../edge/a.ts";` },
  { why: "hardware never talks to the cloud", file: "hardware/keypad.ts", source: `import { a } from "../protocol/a.ts";` },
  { why: "cloud does not drive hardware", file: "cloud/gate.ts", source: `import { a } from "../hardware/a.ts";` },
  { why: "only edge/biometrics uses models", file: "edge/flows/model.ts", source: `import { a } from "../../models/a.ts";` },
  { why: "models reaches into edge only for the biometrics contract", file: "models/onnx/g.ts", source: `import { a } from "../../edge/flows/a.ts";` },
  { why: "the inspector does not import cloud", file: "inspector/hub.ts", source: `import { a } from "../cloud/a.ts";` },
  { why: "the HTTP router imports only core", file: "http/router.ts", source: `import { a } from "../protocol/a.ts";` },
  { why: "no part imports cli", file: "cloud/node.ts", source: `import { a } from "../cli/a.ts";` },
  { why: "cli does not import test support", file: "cli/demo.ts", source: `import { a } from "../test/support/a.ts";` },
];

const allowed: readonly ImportCase[] = [
  { why: "protocol imports core", file: "protocol/codec.ts", source: `import { a } from "../core/a.ts";` },
  {
    why: "edge imports protocol, hardware and core",
    file: "edge/flows/lane.ts",
    source: `import { a } from "../../protocol/a.ts";\nimport { b } from "../../hardware/b.ts";\nimport { c } from "../../core/c.ts";`,
  },
  {
    why: "cloud imports protocol, inspector and http",
    file: "cloud/server/s.ts",
    source: `import { a } from "../../protocol/a.ts";\nimport { b } from "../../inspector/b.ts";\nimport { c } from "../../http/c.ts";`,
  },
  { why: "edge/biometrics imports models", file: "edge/biometrics/encoder.ts", source: `import { a } from "../../models/a.ts";` },
  { why: "models imports the biometrics contract", file: "models/graph.ts", source: `import { a } from "../edge/biometrics/contract.ts";` },
  { why: "cli composes edge and cloud", file: "cli/site.ts", source: `import { a } from "../edge/a.ts";\nimport { b } from "../cloud/b.ts";` },
  { why: "tests import every part", file: "test/flows/t.ts", source: `import { a } from "../../cloud/a.ts";\nimport { b } from "../../edge/b.ts";` },
  { why: "imports within a folder are free", file: "cloud/session/h.ts", source: `import { a } from "../shards/a.ts";\nimport { b } from "./b.ts";` },
  { why: "core imports packages and node:crypto", file: "core/hash.ts", source: `import { Data } from "effect";\nimport { randomBytes } from "node:crypto";` },
];

// Top-level folders whose imports are not restricted: the test suite and the repo's own tooling.
const UNRESTRICTED = new Set(["test", "scripts", "bin"]);

/** Top-level folders holding source, tracked or new (git's view, so ignored scratch stays out). */
const sourceFolders = (): string[] => {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" }).split("\n");
  const folders = files.filter((f) => /\.(ts|mjs|js)$/.test(f) && f.includes("/")).map((f) => f.split("/")[0]!);
  return [...new Set(folders)].sort();
};

const coverageProbe = (folder: string): ImportCase => ({
  why: `${folder} is governed`,
  file: `${folder}/boundary-probe.ts`,
  source: `import { a } from "../test/support/a.ts";`,
});

/** `× path:line:col: rule: message` lines of Biome's concise reporter, by path. */
const lintTree = (dir: string): Map<string, string[]> => {
  const run = spawnSync(
    process.execPath,
    [biome, "lint", "--vcs-enabled=false", `--only=style/noRestrictedImports`, "--max-diagnostics=none", "--reporter=concise", "."],
    {
      cwd: dir,
      encoding: "utf8",
    },
  );
  const byFile = new Map<string, string[]>();
  for (const line of `${run.stdout}\n${run.stderr}`.split("\n")) {
    const m = /^\S+ ([^:\s]+):\d+:\d+: /.exec(line);
    if (m === null) continue;
    byFile.set(m[1]!, [...(byFile.get(m[1]!) ?? []), line]);
  }
  return byFile;
};

describe("import boundaries (biome.json)", () => {
  let dir = "";
  let reports = new Map<string, string[]>();
  const folders = sourceFolders().filter((f) => !UNRESTRICTED.has(f));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "palmline-boundaries-"));
    copyFileSync(join(root, "biome.json"), join(dir, "biome.json"));
    for (const c of [...forbidden, ...allowed, ...folders.map(coverageProbe)]) {
      mkdirSync(join(dir, dirname(c.file)), { recursive: true });
      writeFileSync(join(dir, c.file), `${c.source}\n`);
    }
    reports = lintTree(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(forbidden)("refuses: $why ($file)", ({ file }) => {
    expect(reports.get(file)?.join("\n")).toContain(RULE);
  });

  it.each(allowed)("allows: $why ($file)", ({ file }) => {
    expect(reports.get(file)).toBeUndefined();
  });

  it("reports a violation on one line naming the file, the import's position and the rule it breaks", () => {
    expect(reports.get("edge/flows/gate.ts")).toEqual([
      expect.stringMatching(/^× edge\/flows\/gate\.ts:1:19: lint\/style\/noRestrictedImports: edge\/ imports only core\/, protocol\/, hardware\/;/),
    ]);
  });

  it.each(folders)("every top-level source folder has import rules: %s/", (folder) => {
    expect(reports.get(coverageProbe(folder).file)?.join("\n")).toContain(RULE);
  });
});
