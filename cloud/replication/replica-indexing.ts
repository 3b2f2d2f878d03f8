// Keeps the shards in step with records merged from other regions: every region indexes every
// live identity (docs/replication.md, "How it flows"). The registry is written first (apply), then
// the index, as for a local enrollment, so an index entry never exists without its record.
import type { IdentityRegistry } from "../registry/identity-registry.ts";
import type { ShardSet } from "../shards/shard-set.ts";
import type { ApplyOutcome } from "./registry-replica.ts";

export const indexReplicated = async (
  outcome: Pick<ApplyOutcome, "live" | "removed">,
  o: { readonly registry: Pick<IdentityRegistry, "templatesOf">; readonly shards: Pick<ShardSet, "add" | "remove"> },
): Promise<void> => {
  if (outcome.removed.length > 0) await o.shards.remove(outcome.removed);
  // An identity is in the shards at most once: an older copy of a re-indexed template goes first.
  if (outcome.live.length > 0) await o.shards.remove(outcome.live);
  // Read back from the registry: only what is live there now is indexed (a record merged live
  // and tombstoned by a later batch is left out).
  const templates = outcome.live.length === 0 ? [] : o.registry.templatesOf(outcome.live);
  if (templates.length > 0) await o.shards.add(templates);
};
