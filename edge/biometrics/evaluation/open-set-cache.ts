// The open-set population's on-disk cache: one file per stage, pipeline key and chunk of
// CHUNK_PALMS consecutive palms. A file holds the chunk's first palms in order (a prefix), so a
// run that needs more palms extends it and an interrupted run resumes at the last chunk written.
// Synthetic (simulator) palms only; the folder is git-ignored and never committed.
//
// Chunk file, little-endian: "POSC", u32 CACHE_FORMAT, u32 entry count, then per entry u8 kind
// (0 bytes, 1 failure), u32 length, that many bytes (the template or probe; the failure's reason
// in UTF-8). A file that does not parse to the end, or whose bytes do not decode, is invalid.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodePalmProbe, decodePalmTemplate } from "../../../core/palm-template.ts";
import type { OpenSetStage, PalmEntry } from "./open-set-rendering.ts";

/** Bump when what a cached entry means changes in a way the key below does not see. */
export const CACHE_FORMAT = 1;
export const CHUNK_PALMS = 1_000;

const MAGIC = 0x4353_4f50; // "POSC" read little-endian

/** The file name of a chunk: the key is a hash of everything the entries depend on. */
export const chunkPath = (dir: string, stage: OpenSetStage, key: string, chunk: number): string =>
  join(dir, `${stage}-${key.slice(0, 16)}-${String(chunk).padStart(4, "0")}.bin`);

export const cacheKey = (parts: Record<string, string | number>): string =>
  createHash("sha256")
    .update(JSON.stringify({ format: CACHE_FORMAT, chunk: CHUNK_PALMS, ...parts }))
    .digest("hex");

export const encodeChunk = (entries: readonly PalmEntry[]): Uint8Array => {
  const payloads = entries.map((e) => ("bytes" in e ? e.bytes : new TextEncoder().encode(e.failure)));
  const out = new Uint8Array(12 + payloads.reduce((n, p) => n + 5 + p.byteLength, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, CACHE_FORMAT, true);
  view.setUint32(8, entries.length, true);
  let at = 12;
  entries.forEach((e, i) => {
    out[at] = "bytes" in e ? 0 : 1;
    view.setUint32(at + 1, payloads[i]!.byteLength, true);
    out.set(payloads[i]!, at + 5);
    at += 5 + payloads[i]!.byteLength;
  });
  return out;
};

/** The entries of a chunk file, or why it is unusable. */
export const decodeChunk = (stage: OpenSetStage, bytes: Uint8Array): PalmEntry[] | { invalid: string } => {
  if (bytes.byteLength < 12) return { invalid: `${bytes.byteLength} bytes is shorter than the header` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== CACHE_FORMAT) return { invalid: "not a chunk of this cache format" };
  const count = view.getUint32(8, true);
  if (count > CHUNK_PALMS) return { invalid: `${count} entries exceed a chunk's ${CHUNK_PALMS}` };
  const entries: PalmEntry[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + 5 > bytes.byteLength) return { invalid: `truncated at entry ${i}` };
    const kind = bytes[at]!,
      length = view.getUint32(at + 1, true);
    const payload = bytes.slice(at + 5, at + 5 + length);
    if (payload.byteLength !== length) return { invalid: `truncated at entry ${i}` };
    at += 5 + length;
    if (kind === 1) {
      entries.push({ failure: new TextDecoder().decode(payload) });
      continue;
    }
    if (kind !== 0) return { invalid: `entry ${i} has kind ${kind}` };
    try {
      if (stage === "gallery") decodePalmTemplate(payload);
      else decodePalmProbe(payload);
    } catch (e) {
      return { invalid: `entry ${i} does not decode: ${(e as Error).message}` };
    }
    entries.push({ bytes: payload });
  }
  if (at !== bytes.byteLength) return { invalid: `${bytes.byteLength - at} bytes after the last entry` };
  return entries;
};

/** The cached entries of a chunk: empty when there is no file; a warning and empty when it is invalid. */
export const readChunk = (path: string, stage: OpenSetStage, warn: (line: string) => void): PalmEntry[] => {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path)); // a plain Uint8Array, not a Buffer, like freshly rendered entries
  } catch {
    return [];
  }
  const entries = decodeChunk(stage, bytes);
  if (!Array.isArray(entries)) {
    warn(`open-set cache: ${path} is invalid (${entries.invalid}); rendering it again`);
    return [];
  }
  return entries;
};

/** Writes a chunk whole, through a temporary file, so an interrupted write leaves the old one. */
export const writeChunk = (path: string, dir: string, entries: readonly PalmEntry[]): void => {
  mkdirSync(dir, { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, encodeChunk(entries));
  renameSync(temporary, path);
};
