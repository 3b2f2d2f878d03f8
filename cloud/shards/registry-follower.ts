// Keeps the shards following the identity registry: every commit's change (local enrollment,
// deletion, or records merged from a peer) is applied to the index in commit order, the registry
// always first, so an index entry never exists without its record. Whoever must not answer
// before the index has caught up (an enrollment's duplicate check for the next one, a deletion's
// acknowledgement) waits for the commit's change number.
import { Effect, PubSub, type Scope } from "effect";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";
import type { RegistryChange } from "../identity/registry-change.ts";
import type { ShardSet } from "./shard-set.ts";

export interface RegistryFollower {
  /** Resolves once the shards have applied every change up to `seq`. */
  reached(seq: number): Promise<void>;
}

export const followRegistry = (
  registry: IdentityRegistryShape,
  shards: Pick<ShardSet, "add" | "remove">,
  log: (line: string) => void,
): Effect.Effect<RegistryFollower, never, Scope.Scope> =>
  Effect.gen(function* () {
    const subscription = yield* registry.subscribeChanges;
    // The shards were opened from the registry as it is now.
    let handled = yield* Effect.orDie(registry.latestSeq());
    const waiting: { seq: number; resolve: () => void }[] = [];

    const apply = async (change: RegistryChange) => {
      // An identity is in the shards at most once: a replaced template's old entry goes first.
      const out = [...change.removed, ...change.replaced];
      if (out.length > 0) await shards.remove(out);
      if (change.indexed.length === 0) return;
      // Read back from the registry: only what is live there now is indexed.
      const templates = await Effect.runPromise(registry.templatesOf(change.indexed));
      if (templates.length > 0) await shards.add(templates);
    };

    const follow = Effect.gen(function* () {
      const change = yield* PubSub.take(subscription);
      yield* Effect.promise(() =>
        apply(change).catch((error: unknown) =>
          // The next start reconciles the index with the registry (region-shards.ts); meanwhile say so.
          log(`index did not follow registry change ${change.seq}: ${error instanceof Error ? error.message : String(error)}`),
        ),
      );
      handled = Math.max(handled, change.seq);
      for (let i = waiting.length - 1; i >= 0; i--) {
        if (waiting[i]!.seq <= handled) waiting.splice(i, 1)[0]!.resolve();
      }
    });
    yield* Effect.forkScoped(Effect.forever(follow));
    return {
      reached: (seq) => (seq <= handled ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ seq, resolve }))),
    };
  });
