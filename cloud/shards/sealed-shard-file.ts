// One shard's snapshot on disk, sealed: its label map and faiss index bytes in one
// crypto_secretstream (XChaCha20-Poly1305) under the snapshot generation's key. Every message is
// bound to the generation and shard as associated data, so a file cannot be moved to another
// shard or generation; a flipped bit, a truncation or a wrong key fails to open.
//
// Layout: the stream header, then messages, each preceded by its ciphertext length (u32 LE):
// first the contents (label map and the index's byte length, JSON), then the index in chunks,
// the last one tagged final.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { Data } from "effect";
import type { IdentityId } from "../../core/ids.ts";
import type { Sodium } from "../../protocol/sodium.ts";

/** Where a shard's sealed snapshot goes and what it is bound to. */
export interface SealedShardFile {
  readonly path: string;
  /** The generation's key (32 bytes), never written anywhere in clear. */
  readonly key: Uint8Array;
  readonly generation: number;
  readonly shard: number;
}

export interface ShardContents {
  /** faiss label -> identity; null where an identity was removed. */
  readonly identities: readonly (IdentityId | null)[];
  readonly index: Uint8Array;
}

export class SealedShardUnreadable extends Data.TaggedError("SealedShardUnreadable")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `index snapshot ${this.path} is unreadable: ${this.reason}`;
  }
}

const CHUNK = 4 * 2 ** 20;

const boundTo = (file: SealedShardFile, part: "contents" | "index") => `palmline index snapshot g${file.generation} shard ${file.shard} ${part}`;

export const writeSealedShard = (sodium: Sodium, file: SealedShardFile, contents: ShardContents): void => {
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(file.key);
  // A file a killed write left under this name is replaced, never appended to or reused.
  rmSync(file.path, { force: true });
  const fd = openSync(file.path, "wx", 0o600);
  try {
    writeSync(fd, header);
    const push = (message: Uint8Array, part: "contents" | "index", last: boolean) => {
      const tag = last ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
      const sealed = sodium.crypto_secretstream_xchacha20poly1305_push(state, message, boundTo(file, part), tag);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(sealed.byteLength);
      writeSync(fd, length);
      writeSync(fd, sealed);
    };
    const head = JSON.stringify({ indexBytes: contents.index.byteLength, identities: contents.identities });
    push(new TextEncoder().encode(head), "contents", contents.index.byteLength === 0);
    for (let at = 0; at < contents.index.byteLength; at += CHUNK) {
      const end = Math.min(at + CHUNK, contents.index.byteLength);
      push(contents.index.subarray(at, end), "index", end === contents.index.byteLength);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

export const readSealedShard = (sodium: Sodium, file: SealedShardFile): ShardContents => {
  const refuse = (reason: string) => new SealedShardUnreadable({ path: file.path, reason });
  let fd: number;
  try {
    fd = openSync(file.path, "r");
  } catch (cause) {
    throw refuse(String(cause));
  }
  try {
    // A length read from the file is trusted only as far as the file goes.
    let unread = fstatSync(fd).size;
    const readExactly = (bytes: number): Uint8Array => {
      if (bytes > unread) throw refuse("truncated");
      unread -= bytes;
      const out = new Uint8Array(bytes);
      let got = 0;
      while (got < bytes) {
        const n = readSync(fd, out, got, bytes - got, null);
        if (n === 0) throw refuse("truncated");
        got += n;
      }
      return out;
    };
    const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(readExactly(sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES), file.key);
    let final = false;
    const pull = (part: "contents" | "index"): Uint8Array => {
      if (final) throw refuse("truncated");
      const length = Buffer.from(readExactly(4)).readUInt32LE(0);
      const opened = sodium.crypto_secretstream_xchacha20poly1305_pull(state, readExactly(length), boundTo(file, part));
      if (opened === false) throw refuse("wrong key or tampered data");
      final = opened.tag === sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
      return opened.message;
    };
    let head: { indexBytes: number; identities: (IdentityId | null)[] };
    try {
      head = JSON.parse(new TextDecoder().decode(pull("contents"))) as typeof head;
    } catch (error) {
      throw error instanceof SealedShardUnreadable ? error : refuse("contents are not JSON");
    }
    if (!Number.isSafeInteger(head.indexBytes) || head.indexBytes < 0 || head.indexBytes > unread || !Array.isArray(head.identities))
      throw refuse("contents malformed");
    const index = new Uint8Array(head.indexBytes);
    let at = 0;
    while (at < head.indexBytes) {
      const chunk = pull("index");
      if (at + chunk.byteLength > head.indexBytes) throw refuse("index longer than announced");
      index.set(chunk, at);
      at += chunk.byteLength;
    }
    if (!final) throw refuse("truncated");
    if (unread !== 0) throw refuse("data after the final message");
    return { identities: head.identities, index };
  } finally {
    closeSync(fd);
  }
};
