// Which Ed25519 identity key each region of the federation signs its writes with: what a
// region needs to check a record written elsewhere, including one forwarded by a third region.
// Until the operator's allow-list provides it, a node answers from the peers it has pinned
// (IdentityStorage.peer) and its own key.
import { Effect } from "effect";
import type { IdentityStorageShape } from "../storage/identity-storage.ts";

export interface RegionKeys {
  /** The region's identity public key; undefined for a region not in the federation. */
  readonly publicKeyOf: (regionId: string) => Uint8Array | undefined;
}

/** The keys of the peers pinned in storage: what a node knows of the federation today. */
export const pinnedRegionKeys = (storage: Pick<IdentityStorageShape, "peer">): RegionKeys => ({
  publicKeyOf: (regionId) => Effect.runSync(Effect.orElseSucceed(storage.peer(regionId), () => undefined))?.publicKey,
});
