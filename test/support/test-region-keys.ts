// Region identity keys for in-process tests: each test region's key follows from its id, so
// every test region knows every other's (as an operator's allow-list would make them known).
import type { RegionKeys } from "../../cloud/identity/region-keys.ts";
import type { IdentityKeyPair } from "../../protocol/index.ts";
import type { Sodium } from "../../protocol/sodium.ts";

export const testRegionIdentityKey = (sodium: Sodium, regionId: string): IdentityKeyPair => {
  const { publicKey, privateKey } = sodium.crypto_sign_seed_keypair(sodium.crypto_generichash(32, `palmline test region ${regionId}`, null));
  return { publicKey, secretKey: privateKey };
};

export const testRegionKeys = (sodium: Sodium): RegionKeys => ({ publicKeyOf: (regionId) => testRegionIdentityKey(sodium, regionId).publicKey });
