// The Debian packages palmline needs on the machine, each with the file that shows it is there.
// One list for the install step (scripts/install-native.mjs) and its messages. Files, not dpkg's
// database, decide: a library built by hand or a browser at the same path serves as well.
import { existsSync } from "node:fs";

const libDirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"];
const anyLib =
  (...names) =>
  () =>
    names.some((name) => libDirs.some((dir) => existsSync(`${dir}/${name}`)));

export const SYSTEM_PACKAGES = [
  {
    name: "libfaiss-dev",
    why: "faiss-node is compiled against it",
    present: () => existsSync("/usr/include/faiss/Index.h") && anyLib("libfaiss.so", "libfaiss.a")(),
  },
  { name: "libopenblas-openmp-dev", why: "faiss's BLAS", present: anyLib("libopenblas.so", "libblas.so") },
  { name: "chromium", why: "the browser tests drive it", present: () => existsSync(process.env.PALMLINE_CHROMIUM ?? "/usr/bin/chromium") },
];

export const missingSystemPackages = () => SYSTEM_PACKAGES.filter((p) => !p.present());

export const systemPackageCommand = (names) => `apt-get update && apt-get install -y --no-install-recommends ${names.join(" ")}`;
