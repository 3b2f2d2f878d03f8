// A long-lived Ed25519 identity: one per device and one per region. The handshake proves
// possession by signing the transcript; a device pins its region's public key at provisioning.
import { loadSodium } from "../sodium.ts";

export interface IdentityKeyPair {
  readonly publicKey: Uint8Array;
  /** libsodium's 64-byte form (seed followed by the public key). */
  readonly secretKey: Uint8Array;
}

export const IDENTITY_PUBLIC_KEY_BYTES = 32;

export const generateIdentityKeyPair = async (): Promise<IdentityKeyPair> => {
  const sodium = await loadSodium();
  const { publicKey, privateKey } = sodium.crypto_sign_keypair();
  return { publicKey, secretKey: privateKey };
};

/** Rebuilds a key pair from its 32-byte seed (how a device keeps its identity on disk). */
export const identityKeyPairFromSeed = async (seed: Uint8Array): Promise<IdentityKeyPair> => {
  const sodium = await loadSodium();
  const { publicKey, privateKey } = sodium.crypto_sign_seed_keypair(seed);
  return { publicKey, secretKey: privateKey };
};

export const identityKeySeed = async (keys: IdentityKeyPair): Promise<Uint8Array> => {
  const sodium = await loadSodium();
  return sodium.crypto_sign_ed25519_sk_to_seed(keys.secretKey);
};
