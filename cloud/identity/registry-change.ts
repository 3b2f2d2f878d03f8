// What one commit of the identity registry changed, published on the registry's change stream:
// the shards index and un-index from it, deletion completion reacts to peers' records, metrics
// count it. One event per commit, in commit order.
import type { IdentityId } from "../../core/ids.ts";

export interface RegistryChange {
  /** Made in this region, or merged from a peer's records. */
  readonly source: "local" | "peer";
  /** The registry's latest change number once this commit was in: a follower that has handled it has handled everything before. */
  readonly seq: number;
  /** Every identity whose record changed. */
  readonly changed: readonly IdentityId[];
  /** Live identities whose template is new or changed: to (re)index. */
  readonly indexed: readonly IdentityId[];
  /** Of those, the ones that had a template before: their old index entry goes first. */
  readonly replaced: readonly IdentityId[];
  /** Identities that were live and are tombstoned now: to take out of the index. */
  readonly removed: readonly IdentityId[];
}
