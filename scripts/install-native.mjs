// palmline's install step (npm's postinstall): brings the Debian packages palmline and its tests
// need, then builds faiss-node's native addon from its npm sources against Debian's libfaiss-dev.
//
// faiss-node 0.5.1's own install script downloads a prebuilt binary or clones faiss from GitHub;
// neither is reachable here, so package.json's "allowScripts" skips it and this step compiles
// src/faiss.cc with node-gyp instead. Chromium is only for the browser tests, but `npm install &&
// npm test` must work on a bare machine, so it is brought here the same way. Idempotent: what is
// present and working is left alone. Plain JavaScript on purpose: it must run before anything else
// is known to work.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { missingSystemPackages, systemPackageCommand } from "./system-packages.mjs";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const faissDir = join(root, "node_modules", "faiss-node");
const addon = join(faissDir, "build", "Release", "faiss-node.node");
const log = (line) => console.log(`[palmline install] ${line}`);
const fail = (line) => {
  console.error(`[palmline install] ${line}`);
  process.exit(1);
};

const addonWorks = () => {
  if (!existsSync(addon)) return false;
  // Load in a child so a broken build cannot take this process down with it.
  const probe = spawnSync(
    process.execPath,
    [
      "-e",
      `const f=require(${JSON.stringify(faissDir)});const i=new f.IndexFlatIP(2);i.addFloat32(new Float32Array([1,0]));const m=f.Index.fromFactory(2,"IDMap,Flat",0);m.addWithIdsFloat32(new Float32Array([1,0]),new Float64Array([7]));const c=f.Index.fromBytes(m.toBytes());process.exit(c.searchFloat32(new Float32Array([1,0]),1).labels[0]===7&&i.searchFloat32(new Float32Array([1,0]),1).labels[0]===0?0:1)`,
    ],
    { stdio: "ignore" },
  );
  return probe.status === 0;
};

const installSystemPackages = (packages) => {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasApt = spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
  const names = packages.map((p) => p.name);
  if (!isRoot || !hasApt) {
    fail(
      `palmline needs ${packages.map((p) => `${p.name} (${p.why})`).join(", ")}; ${!hasApt ? "apt-get is not available" : "this install is not running as root"}. Run as root: ${systemPackageCommand(names)}`,
    );
  }
  log(`installing ${names.join(", ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const tryInstall = () => spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...names], { stdio: "inherit", env }).status === 0;
  if (!tryInstall()) {
    // A fresh machine often has no package lists yet.
    spawnSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
    if (!tryInstall()) fail(`apt-get could not install ${names.join(" ")}. Run as root: ${systemPackageCommand(names)}`);
  }
};

// node-gyp must not download headers (no network): use the pinned Node's own headers shipped in
// the `node` package, else the system's. N-API keeps the addon ABI-stable across both.
const nodeHeadersDir = () => {
  const candidates = [
    join(root, "node_modules", "node", "node_modules", `node-${process.platform}-${process.arch}`),
    join(root, "node_modules", `node-${process.platform}-${process.arch}`),
    process.env.npm_config_nodedir,
    "/usr",
  ].filter(Boolean);
  const found = candidates.find((dir) => existsSync(join(dir, "include", "node", "common.gypi")));
  if (!found) fail("no Node.js headers found for node-gyp (looked in the pinned `node` package and /usr/include/node). Reinstall with `npm ci`.");
  return found;
};

const missing = missingSystemPackages();
if (missing.length > 0) installSystemPackages(missing);

if (!existsSync(join(faissDir, "src", "faiss.cc"))) {
  log("faiss-node is not installed; nothing to build");
  process.exit(0);
}
if (addonWorks()) {
  log("faiss-node addon already built and working");
  process.exit(0);
}

for (const file of ["binding.gyp", "palmline-faiss-compat.h", "palmline-index-methods.inc"]) {
  copyFileSync(join(root, "native", "faiss-node", file), join(faissDir, file));
}

// palmline's patch: its own methods (native/faiss-node/palmline-index-methods.inc) spliced into
// faiss-node's IndexBase, and the class constructors made per-thread, because every worker
// thread that loads the addon runs its Init again and a process-wide reference would point into
// another thread's heap. Always applied to the pristine source, so it is idempotent; each
// anchor must match exactly once, so an upgraded faiss-node fails loudly instead of silently.
const source = join(faissDir, "src", "faiss.cc");
const pristine = `${source}.orig`;
if (!existsSync(pristine)) copyFileSync(source, pristine);
const splice = (text, anchor, replacement) => {
  const count = text.split(anchor).length - 1;
  if (count !== 1) fail(`faiss-node patch: expected one "${anchor.split("\n")[0]}" in src/faiss.cc, found ${count}`);
  return text.replace(anchor, replacement);
};
let patched = readFileSync(pristine, "utf8");
patched = splice(
  patched,
  "#include <faiss/impl/IDSelector.h>\n",
  "#include <faiss/impl/IDSelector.h>\n#include <faiss/AutoTune.h>\n#include <omp.h>\n#include <vector>\n",
);
patched = splice(
  patched,
  "protected:\n  std::unique_ptr<faiss::Index> index_;\n  inline static Napi::FunctionReference *constructor;",
  '#include "../palmline-index-methods.inc"\n\nprotected:\n  std::unique_ptr<faiss::Index> index_;\n  inline static thread_local Napi::FunctionReference *constructor;',
);
for (const cls of ["Index", "IndexFlatL2", "IndexFlatIP"]) {
  const anchor = `InstanceMethod("toBuffer", &${cls}::toBuffer),`;
  const added = ["addFloat32", "addWithIdsFloat32", "trainFloat32", "searchFloat32", "setParameter", "toBytes"].map(
    (m) => `InstanceMethod("${m}", &${cls}::${m}),`,
  );
  const statics = ["setThreads", "fromBytes"].map((m) => `StaticMethod("${m}", &${cls}::${m}),`);
  patched = splice(patched, anchor, [anchor, ...added, ...statics].join("\n      "));
}
writeFileSync(source, patched);
// npm's own node-gyp (npm names it to every install script): a node-gyp of our own in
// devDependencies would bring packages that warn on the machine's older Node at every install.
const nodeGyp = process.env.npm_config_node_gyp ?? createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
log("compiling faiss-node against the system libfaiss (about a minute)");
const headers = nodeHeadersDir();
const build = spawnSync(process.execPath, [nodeGyp, "rebuild", `--nodedir=${headers}`, "--jobs=2"], {
  cwd: faissDir,
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
  env: { ...process.env, npm_config_nodedir: headers },
});
if (build.status !== 0) {
  // The compiler is chatty with warnings; only a failure deserves its output.
  console.error(`${build.stdout ?? ""}${build.stderr ?? ""}`.split("\n").slice(-40).join("\n"));
  fail(
    `node-gyp could not build faiss-node (output above). Check that the faiss libraries are installed: ${systemPackageCommand(["libfaiss-dev", "libopenblas-openmp-dev"])}`,
  );
}
if (!addonWorks()) fail("faiss-node was built but does not load; remove node_modules and run `npm ci` again");
log(`faiss-node built: ${addon}`);
