// Encryption at rest, per identity. Each identity has its own random data key; the region's
// storage key wraps it. Templates and personal fields are encrypted with the data key, bound to
// the identity and field name as associated data so a ciphertext cannot be moved to another row.
// Deleting an identity destroys its wrapped data key: every copy of its ciphertexts, backups
// included, becomes unreadable (crypto-shredding).
import { randomFillSync } from "node:crypto";
import type { Sodium } from "../../protocol/sodium.ts";
import { Data } from "effect";

export class VaultDecryptionFailed extends Data.TaggedError("VaultDecryptionFailed")<{ readonly what: string }> {
  override get message() {
    return `could not decrypt ${this.what}: wrong key or tampered data`;
  }
}

export class IdentityVault {
  readonly #sodium: Sodium;
  readonly #storageKey: Uint8Array;

  constructor(sodium: Sodium, storageKey: Uint8Array) {
    if (storageKey.byteLength !== sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
      throw new RangeError("storage key must be 32 bytes");
    }
    this.#sodium = sodium;
    this.#storageKey = storageKey;
  }

  // Keys and nonces come from the OS CSPRNG through node:crypto in one call: libsodium's WASM
  // build fetches its random bytes four at a time through JS, which cost more than the
  // encryption itself when thousands of records are sealed or re-wrapped at once.
  newDataKey(): Uint8Array {
    return randomFillSync(new Uint8Array(this.#sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES));
  }

  wrapDataKey(identityId: string, dataKey: Uint8Array): Uint8Array {
    return this.#seal(this.#storageKey, dataKey, `data-key:${identityId}`);
  }

  unwrapDataKey(identityId: string, wrapped: Uint8Array): Uint8Array {
    return this.#open(this.#storageKey, wrapped, `data-key:${identityId}`, `data key of ${identityId}`);
  }

  encryptField(identityId: string, field: string, dataKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
    return this.#seal(dataKey, plaintext, `field:${identityId}:${field}`);
  }

  decryptField(identityId: string, field: string, dataKey: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    return this.#open(dataKey, ciphertext, `field:${identityId}:${field}`, `${field} of ${identityId}`);
  }

  #seal(key: Uint8Array, plaintext: Uint8Array, associated: string): Uint8Array {
    const s = this.#sodium;
    const nonce = randomFillSync(new Uint8Array(s.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES));
    const box = s.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, associated, null, nonce, key);
    const out = new Uint8Array(nonce.byteLength + box.byteLength);
    out.set(nonce, 0);
    out.set(box, nonce.byteLength);
    return out;
  }

  #open(key: Uint8Array, sealed: Uint8Array, associated: string, what: string): Uint8Array {
    const s = this.#sodium;
    const n = s.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    if (sealed.byteLength < n + s.crypto_aead_xchacha20poly1305_ietf_ABYTES) throw new VaultDecryptionFailed({ what });
    try {
      return s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed.subarray(n), associated, sealed.subarray(0, n), key);
    } catch {
      throw new VaultDecryptionFailed({ what });
    }
  }
}
