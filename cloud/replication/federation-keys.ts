// The federation list as the registry's RegionKeys: a replicated write verifies only against the
// key the operator listed for the region that signed it (or this region's own key), never against
// a key learned from the network, and follows the list when the node reloads it.
import type { RegionKeys } from "../identity/region-keys.ts";
import type { FederationMembers } from "./federation-members.ts";

export class FederationKeys implements RegionKeys {
  readonly #ownRegion: string;
  readonly #ownKey: Uint8Array;
  #members: FederationMembers;

  constructor(ownRegion: string, ownKey: Uint8Array, members: FederationMembers) {
    this.#ownRegion = ownRegion;
    this.#ownKey = ownKey;
    this.#members = members;
  }

  publicKeyOf(regionId: string): Uint8Array | undefined {
    return regionId === this.#ownRegion ? this.#ownKey : this.#members.get(regionId)?.identityPublicKey;
  }

  /** The list as reloaded: writes of a region taken off it no longer verify. */
  follow(members: FederationMembers): void {
    this.#members = members;
  }
}
