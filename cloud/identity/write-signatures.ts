// Every write to an identity record is signed by the region that made it, with its Ed25519
// identity key: a field register over (identity, field, stamp, ciphertext or null), a tombstone
// over (identity, stamp, reason). The signer is the region the HLC stamp names, so a signature
// travels with its register and still verifies after any number of regions forwarded it.
// What a region may write is write-authority.ts's rule; this file only proves who wrote it.
import { encodeHlc, type HlcTimestamp } from "../../core/hybrid-logical-clock.ts";
import type { IdentityKeyPair } from "../../protocol/index.ts";
import type { Sodium } from "../../protocol/sodium.ts";
import type { RegionKeys } from "./region-keys.ts";

export const WRITE_SIGNATURE_BYTES = 64;

/** One register write as it is signed. */
export interface SignedFieldWrite {
  readonly name: string;
  readonly stamp: HlcTimestamp;
  readonly value: Uint8Array | null;
}

const FIELD_DOMAIN = "palmline/field-write/v1";
const TOMBSTONE_DOMAIN = "palmline/tombstone/v1";

/** Length-prefixed parts: no two different writes encode to the same bytes. */
const canonical = (parts: readonly (Uint8Array | string)[]): Uint8Array => {
  const encoded = parts.map((p) => (typeof p === "string" ? new TextEncoder().encode(p) : p));
  const out = new Uint8Array(encoded.reduce((n, p) => n + 4 + p.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of encoded) {
    view.setUint32(at, p.byteLength);
    out.set(p, at + 4);
    at += 4 + p.byteLength;
  }
  return out;
};

const fieldMessage = (identityId: string, w: SignedFieldWrite) =>
  // A cleared register ("null") and an empty ciphertext must not sign alike: the marker says which.
  canonical([FIELD_DOMAIN, identityId, w.name, encodeHlc(w.stamp), w.value === null ? "cleared" : "value", w.value ?? new Uint8Array(0)]);

const tombstoneMessage = (identityId: string, stamp: HlcTimestamp, reason: string) => canonical([TOMBSTONE_DOMAIN, identityId, encodeHlc(stamp), reason]);

export class WriteSignatures {
  readonly regionId: string;
  readonly #sodium: Sodium;
  readonly #identity: IdentityKeyPair;
  readonly #regions: RegionKeys;

  constructor(sodium: Sodium, regionId: string, identity: IdentityKeyPair, regions: RegionKeys) {
    this.#sodium = sodium;
    this.regionId = regionId;
    this.#identity = identity;
    this.#regions = regions;
  }

  /** This region's signature on a write it makes (the stamp must be its own). */
  signField(identityId: string, write: SignedFieldWrite): Uint8Array {
    return this.#sign(write.stamp, fieldMessage(identityId, write));
  }

  signTombstone(identityId: string, stamp: HlcTimestamp, reason: string): Uint8Array {
    return this.#sign(stamp, tombstoneMessage(identityId, stamp, reason));
  }

  /** Whether the region the stamp names signed this write. */
  fieldSigned(identityId: string, write: SignedFieldWrite, signature: Uint8Array): boolean {
    return this.#verify(write.stamp.nodeId, fieldMessage(identityId, write), signature);
  }

  tombstoneSigned(identityId: string, stamp: HlcTimestamp, reason: string, signature: Uint8Array): boolean {
    return this.#verify(stamp.nodeId, tombstoneMessage(identityId, stamp, reason), signature);
  }

  /** Whether the federation knows a key for the region (a write from a stranger cannot verify). */
  knows(regionId: string): boolean {
    return this.#publicKeyOf(regionId) !== undefined;
  }

  #publicKeyOf(regionId: string): Uint8Array | undefined {
    return regionId === this.regionId ? this.#identity.publicKey : this.#regions.publicKeyOf(regionId);
  }

  #sign(stamp: HlcTimestamp, message: Uint8Array): Uint8Array {
    if (stamp.nodeId !== this.regionId) throw new RangeError(`region ${this.regionId} cannot sign a write stamped by ${stamp.nodeId}`);
    return this.#sodium.crypto_sign_detached(message, this.#identity.secretKey);
  }

  #verify(regionId: string, message: Uint8Array, signature: Uint8Array): boolean {
    const key = this.#publicKeyOf(regionId);
    if (key === undefined || signature.byteLength !== WRITE_SIGNATURE_BYTES) return false;
    try {
      return this.#sodium.crypto_sign_verify_detached(signature, message, key);
    } catch {
      return false;
    }
  }
}
