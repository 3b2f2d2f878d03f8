// Transport frame protection, one object per direction. The sender numbers frames from 0 under
// each key; the receiver authenticates a frame first and only then compares its counter with the
// one it expects, so a replay is told apart from a forgery and neither is ever delivered.
// Either side rotates its sending key on its own schedule: it sends a Rekey frame under the old
// key, then both ends of that direction step to KDF(old key) and reset the counter. Old keys are
// wiped, so a key captured later cannot read earlier frames.
import type { Clock } from "../../core/clock.ts";
import { ForgedFrame, OversizedFrame, ReorderedFrame, ReplayedFrame, TruncatedFrame } from "../errors.ts";
import type { Sodium } from "../sodium.ts";
import { AEAD_NONCE_BYTES, FrameKind, MAX_FRAME_COUNTER, TRANSPORT_HEADER_BYTES, TRANSPORT_OVERHEAD_BYTES } from "./frame-layout.ts";

export interface RekeyPolicy {
  readonly afterFrames: number;
  readonly afterMs: number;
}

export const DEFAULT_REKEY_POLICY: RekeyPolicy = Object.freeze({ afterFrames: 1_000_000, afterMs: 15 * 60_000 });

const REKEY_LABEL = new TextEncoder().encode("palmline rekey");

const nextKey = (sodium: Sodium, key: Uint8Array): Uint8Array => {
  const next = sodium.crypto_generichash(32, REKEY_LABEL, key);
  sodium.memzero(key);
  return next;
};

const nonceFor = (counter: number): Uint8Array => {
  const nonce = new Uint8Array(AEAD_NONCE_BYTES);
  new DataView(nonce.buffer).setUint32(AEAD_NONCE_BYTES - 4, counter);
  return nonce;
};

export type TransportKind = typeof FrameKind.Data | typeof FrameKind.Accept | typeof FrameKind.Rekey;

export class FrameSealer {
  readonly #sodium: Sodium;
  readonly #clock: Clock;
  readonly #policy: RekeyPolicy;
  #key: Uint8Array;
  #counter = 0;
  #keyCreatedAt: number;
  #rekeys = 0;

  constructor(sodium: Sodium, key: Uint8Array, clock: Clock, policy: RekeyPolicy = DEFAULT_REKEY_POLICY) {
    this.#sodium = sodium;
    this.#key = key;
    this.#clock = clock;
    this.#policy = policy;
    this.#keyCreatedAt = clock.now();
  }

  get rekeys(): number {
    return this.#rekeys;
  }

  needsRekey(): boolean {
    return this.#counter >= Math.min(this.#policy.afterFrames, MAX_FRAME_COUNTER) || this.#clock.now() - this.#keyCreatedAt >= this.#policy.afterMs;
  }

  seal(kind: TransportKind, plaintext: Uint8Array): Uint8Array {
    const counter = this.#counter++;
    const frame = new Uint8Array(TRANSPORT_OVERHEAD_BYTES + plaintext.byteLength);
    const view = new DataView(frame.buffer);
    frame[0] = kind;
    view.setUint32(1, counter);
    view.setUint32(5, plaintext.byteLength + TRANSPORT_OVERHEAD_BYTES - TRANSPORT_HEADER_BYTES);
    const header = frame.subarray(0, TRANSPORT_HEADER_BYTES);
    const ciphertext = this.#sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, header, null, nonceFor(counter), this.#key);
    frame.set(ciphertext, TRANSPORT_HEADER_BYTES);
    return frame;
  }

  /** The Rekey frame to send; this sealer uses the next key from the following frame on. */
  sealRekey(): Uint8Array {
    const frame = this.seal(FrameKind.Rekey, new Uint8Array(0));
    this.#key = nextKey(this.#sodium, this.#key);
    this.#counter = 0;
    this.#keyCreatedAt = this.#clock.now();
    this.#rekeys++;
    return frame;
  }

  wipe(): void {
    this.#sodium.memzero(this.#key);
  }
}

export interface OpenedFrame {
  readonly kind: TransportKind;
  readonly plaintext: Uint8Array;
}

export class FrameOpener {
  readonly #sodium: Sodium;
  readonly #maxFrameBytes: number;
  #key: Uint8Array;
  #expected = 0;

  constructor(sodium: Sodium, key: Uint8Array, maxFrameBytes: number) {
    this.#sodium = sodium;
    this.#key = key;
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Authenticates and decrypts one frame. Throws a ChannelError naming what was wrong with it. */
  open(frame: Uint8Array): OpenedFrame {
    if (frame.byteLength > this.#maxFrameBytes) {
      throw new OversizedFrame({ byteLength: frame.byteLength, limit: this.#maxFrameBytes });
    }
    if (frame.byteLength < TRANSPORT_OVERHEAD_BYTES) throw new TruncatedFrame({ byteLength: frame.byteLength });
    const kind = frame[0];
    if (kind !== FrameKind.Data && kind !== FrameKind.Accept && kind !== FrameKind.Rekey) {
      throw new ForgedFrame({ reason: `unknown frame kind ${kind}` });
    }
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const counter = view.getUint32(1);
    const declared = view.getUint32(5);
    const actual = frame.byteLength - TRANSPORT_HEADER_BYTES;
    if (declared > actual) throw new TruncatedFrame({ byteLength: frame.byteLength });
    if (declared < actual) throw new ForgedFrame({ reason: "trailing bytes after the frame" });
    let plaintext: Uint8Array;
    try {
      plaintext = this.#sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        frame.subarray(TRANSPORT_HEADER_BYTES),
        frame.subarray(0, TRANSPORT_HEADER_BYTES),
        nonceFor(counter),
        this.#key,
      );
    } catch {
      throw new ForgedFrame({ reason: "authentication failed" });
    }
    if (counter < this.#expected) throw new ReplayedFrame({ counter, expected: this.#expected });
    if (counter > this.#expected) throw new ReorderedFrame({ counter, expected: this.#expected });
    this.#expected++;
    if (kind === FrameKind.Rekey) {
      if (plaintext.byteLength !== 0) throw new ForgedFrame({ reason: "rekey frame with a payload" });
      this.#key = nextKey(this.#sodium, this.#key);
      this.#expected = 0;
    }
    return { kind, plaintext };
  }

  wipe(): void {
    this.#sodium.memzero(this.#key);
  }
}
