// The phone index's key: a keyed hash of the number, so an operator (and the portal's sign-in)
// can find an identity by phone while the number itself stays encrypted in identity_fields. Keyed
// by the region's storage key, so each region computes its own; replication sends the encrypted
// phone field and the receiving region indexes it under its own hash.
import { createHash } from "node:crypto";

export const phoneHasher = (storageKey: Uint8Array): ((phone: string) => string) => {
  const phoneKey = createHash("sha256").update(storageKey).update("palmline phone index").digest();
  return (phone) => createHash("sha256").update(phoneKey).update(phone).digest("hex");
};
