// Per-handshake X25519 key pairs. The secret comes from the platform CSPRNG (Web Crypto's
// getRandomValues, backed by the OS) rather than libsodium's randombytes, which in the WebAssembly
// build costs ~90 us a call, a sixth of a handshake; X25519 clamps any 32 random bytes into a
// valid scalar.
import type { Sodium } from "../sodium.ts";

export interface EphemeralKeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

export const generateEphemeralKeyPair = (sodium: Sodium): EphemeralKeyPair => {
  const privateKey = crypto.getRandomValues(new Uint8Array(32));
  return { publicKey: sodium.crypto_scalarmult_base(privateKey), privateKey };
};
