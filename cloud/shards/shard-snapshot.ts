// Index snapshots on disk. Each shard writes its faiss index and label map under a new generation
// number; only then is manifest.json replaced (write, fsync, rename, fsync the directory), so the
// manifest always names one complete generation and the registry watermark it covers. A kill at
// any moment leaves either the old manifest or the new one, never a mixture.
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { IndexLayout } from "./index-layout.ts";
import type { ShardSet } from "./shard-set.ts";
import type { ShardSnapshotFiles } from "./signature-shard.ts";

export interface SnapshotManifest {
  readonly format: 1;
  readonly generation: number;
  /** Every registry row up to here was committed before the snapshot began. */
  readonly watermark: number;
  readonly dimension: number;
  readonly layout: IndexLayout;
  readonly count: number;
  readonly shards: readonly ShardSnapshotFiles[];
}

const MANIFEST = "manifest.json";

const fsyncPath = (path: string): void => {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

export const readSnapshotManifest = (dir: string): SnapshotManifest | undefined => {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(path, "utf8")) as SnapshotManifest;
    if (manifest.format !== 1 || !manifest.shards.every((s) => existsSync(s.indexFile) && existsSync(s.labelsFile))) return undefined;
    return manifest;
  } catch {
    return undefined;
  }
};

/** Writes a new generation and switches the manifest to it; older generations are removed after. */
export const writeSnapshot = async (dir: string, shards: ShardSet, watermark: number): Promise<SnapshotManifest> => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  const generation = (readSnapshotManifest(dir)?.generation ?? 0) + 1;
  const files = Array.from({ length: shards.shardCount }, (_, i) => ({
    indexFile: join(dir, `shard-${i}.g${generation}.faiss`),
    labelsFile: join(dir, `shard-${i}.g${generation}.labels.json`),
  }));
  const count = await shards.snapshot(files);
  // faiss writes with the process umask; the index files hold every live identity's vector.
  for (const f of files) {
    chmodSync(f.indexFile, 0o600);
    chmodSync(f.labelsFile, 0o600);
  }
  const manifest: SnapshotManifest = { format: 1, generation, watermark, dimension: shards.dimension, layout: shards.layout, count, shards: files };
  const temporary = join(dir, `${MANIFEST}.tmp`);
  writeFileSync(temporary, JSON.stringify(manifest), { mode: 0o600 });
  fsyncPath(temporary);
  renameSync(temporary, join(dir, MANIFEST));
  fsyncPath(dir);
  const keep = new Set(files.flatMap((f) => [f.indexFile, f.labelsFile]));
  for (const name of readdirSync(dir)) {
    if (name.startsWith("shard-") && !keep.has(join(dir, name))) rmSync(join(dir, name), { force: true });
  }
  return manifest;
};
