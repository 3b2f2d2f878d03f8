// Index snapshots on disk, sealed. One owner for a snapshot generation's key and files: a
// generation is a fresh random key, one sealed file per shard (sealed-shard-file.ts), the key
// wrapped by the region's storage key in g<N>.key (mode 0600), and manifest.json naming it. The
// wrapping binds the key to its generation and to the manifest's exact bytes, so an edited
// manifest, a swapped key file or a tampered shard file is refused and the index rebuilt from
// the registry.
//
// Writing: shard files, then the key file, then manifest.json replaced (write, fsync, rename,
// fsync the directory), so a kill at any moment leaves either the old generation or the new one
// named, never a mixture. Then the old generation is destroyed: its key file overwritten with
// zeros before it is unlinked, so its files are unreadable even where their blocks linger on
// disk (on filesystems that overwrite in place, as SQLite's secure_delete also assumes). What a
// kill leaves behind (a half-written generation, an old one not yet destroyed, clear files of
// format 1) is destroyed the same way at the next open or write.
import { createHash, randomFillSync } from "node:crypto";
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
import type { Sodium } from "../../protocol/sodium.ts";
import { exposedKeyFile } from "../storage/region-keyring.ts";
import type { IndexLayout } from "./index-layout.ts";
import type { SealedShardFile } from "./sealed-shard-file.ts";
import type { ShardSet } from "./shard-set.ts";
import { shredFile } from "./shred-file.ts";

export interface SnapshotManifest {
  readonly format: 2;
  readonly generation: number;
  /** Every registry row up to here was committed before the snapshot began. */
  readonly watermark: number;
  readonly dimension: number;
  readonly layout: IndexLayout;
  readonly count: number;
  /** Sealed shard files, by name within the index directory, one per shard in shard order. */
  readonly shards: readonly string[];
}

export type SnapshotOnDisk =
  | { readonly kind: "none" }
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "usable"; readonly manifest: SnapshotManifest; readonly files: readonly SealedShardFile[] };

const MANIFEST = "manifest.json";
const keyFileOf = (generation: number) => `g${generation}.key`;
const shardFileOf = (generation: number, shard: number) => `shard-${shard}.g${generation}.sealed`;
const keyBoundTo = (generation: number, manifestText: string) =>
  `palmline index snapshot key g${generation} manifest ${createHash("sha256").update(manifestText).digest("hex")}`;

const fsyncPath = (path: string): void => {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

export class IndexSnapshots {
  readonly dir: string;
  readonly #sodium: Sodium;
  readonly #storageKey: Uint8Array;

  constructor(options: { dir: string; sodium: Sodium; storageKey: Uint8Array }) {
    if (options.storageKey.byteLength !== options.sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES) throw new RangeError("storage key must be 32 bytes");
    this.dir = options.dir;
    this.#sodium = options.sodium;
    this.#storageKey = options.storageKey;
  }

  /** The generation manifest.json names, with its key unwrapped, or why it cannot be used. */
  read(): SnapshotOnDisk {
    const path = join(this.dir, MANIFEST);
    if (!existsSync(path)) return { kind: "none" };
    let text: string;
    let manifest: SnapshotManifest;
    try {
      text = readFileSync(path, "utf8");
      manifest = JSON.parse(text) as SnapshotManifest;
    } catch (error) {
      return { kind: "refused", reason: `manifest unreadable (${String(error)})` };
    }
    if (manifest.format !== 2) return { kind: "refused", reason: `format ${String(manifest.format)} is not a sealed snapshot` };
    if (!Number.isSafeInteger(manifest.generation) || !Array.isArray(manifest.shards)) return { kind: "refused", reason: "manifest malformed" };
    const keyPath = join(this.dir, keyFileOf(manifest.generation));
    if (!existsSync(keyPath)) return { kind: "refused", reason: `${keyPath} is missing` };
    // A key another user could have read is not used: the rebuild that follows writes a new
    // generation under a new key and destroys this one.
    const exposed = exposedKeyFile(keyPath);
    if (exposed !== undefined) return { kind: "refused", reason: exposed.message };
    const key = this.#unwrap(readFileSync(keyPath), keyBoundTo(manifest.generation, text));
    if (key === undefined) return { kind: "refused", reason: `${keyPath} does not open for this manifest: wrong key or tampered files` };
    return {
      kind: "usable",
      manifest,
      files: manifest.shards.map((name, shard) => ({ path: join(this.dir, name), key, generation: manifest.generation, shard })),
    };
  }

  /** Writes a new generation of every shard under a fresh key, switches the manifest to it, destroys the old one. */
  async write(shards: ShardSet, watermark: number): Promise<SnapshotManifest> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
    const current = this.read();
    // Never a number any file here has had: a refused generation's files are not reused by name.
    const generation = Math.max(0, ...readdirSync(this.dir).map((name) => Number(/(?:^|\.)g(\d+)\./.exec(name)?.[1] ?? 0))) + 1;
    this.destroyAllBut(current.kind === "usable" ? current.manifest.generation : undefined);
    const key = randomFillSync(new Uint8Array(this.#sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES));
    try {
      const names = Array.from({ length: shards.shardCount }, (_, shard) => shardFileOf(generation, shard));
      const count = await shards.snapshot(names.map((name, shard) => ({ path: join(this.dir, name), key, generation, shard })));
      const manifest: SnapshotManifest = {
        format: 2,
        generation,
        watermark,
        dimension: shards.dimension,
        layout: shards.layout,
        count,
        shards: names,
      };
      const text = JSON.stringify(manifest);
      const keyPath = join(this.dir, keyFileOf(generation));
      rmSync(keyPath, { force: true });
      writeFileSync(keyPath, this.#wrap(key, keyBoundTo(generation, text)), { mode: 0o600, flag: "wx" });
      fsyncPath(keyPath);
      const temporary = join(this.dir, `${MANIFEST}.tmp`);
      writeFileSync(temporary, text, { mode: 0o600 });
      fsyncPath(temporary);
      renameSync(temporary, join(this.dir, MANIFEST));
      fsyncPath(this.dir);
      this.destroyAllBut(generation);
      return manifest;
    } finally {
      key.fill(0);
    }
  }

  /** Destroys every file of the index directory that is not the given generation's (keys shredded first). */
  destroyAllBut(generation: number | undefined): void {
    if (!existsSync(this.dir)) return;
    const keep = new Set([MANIFEST]);
    if (generation !== undefined) {
      keep.add(keyFileOf(generation));
      for (const name of readdirSync(this.dir)) if (name.endsWith(`.g${generation}.sealed`)) keep.add(name);
    }
    const stale = readdirSync(this.dir).filter((name) => !keep.has(name));
    if (stale.length === 0) return;
    // Keys first: once a generation's key is gone its sealed files are noise. Clear index files
    // (format 1, or the transient file an earlier version passed each index through and a kill
    // left behind) hold vectors themselves, so they are overwritten too.
    const inClear = (name: string) => name.endsWith(".key") || name.endsWith(".faiss") || name.endsWith(".labels.json");
    for (const name of stale.filter(inClear)) shredFile(join(this.dir, name));
    for (const name of stale.filter((n) => !inClear(n))) rmSync(join(this.dir, name), { force: true, recursive: true });
    fsyncPath(this.dir);
  }

  #wrap(key: Uint8Array, boundTo: string): Uint8Array {
    const s = this.#sodium;
    const nonce = randomFillSync(new Uint8Array(s.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES));
    const box = s.crypto_aead_xchacha20poly1305_ietf_encrypt(key, boundTo, null, nonce, this.#storageKey);
    const out = new Uint8Array(nonce.byteLength + box.byteLength);
    out.set(nonce, 0);
    out.set(box, nonce.byteLength);
    return out;
  }

  #unwrap(wrapped: Uint8Array, boundTo: string): Uint8Array | undefined {
    const s = this.#sodium;
    const n = s.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    if (wrapped.byteLength < n + s.crypto_aead_xchacha20poly1305_ietf_ABYTES) return undefined;
    try {
      return s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, wrapped.subarray(n), boundTo, wrapped.subarray(0, n), this.#storageKey);
    } catch {
      return undefined;
    }
  }
}
