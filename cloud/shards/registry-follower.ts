// Keeps the shards following the identity registry: every commit's change (local enrollment,
// deletion, or records merged from a peer) is applied to the index in commit order, the registry
// always first, so an index entry never exists without its record. Whoever must not answer
// before the index has caught up (an enrollment's duplicate check for the next one) waits for the
// commit's change number. A change that removed identities (a deletion here, an expiry, a
// tombstone merged from a peer) also asks for a fresh index snapshot at once, so the removed
// vectors leave the disk soon; whoever must not confirm a deletion before that (the person's
// acknowledgement) waits for erased().
import { Effect, PubSub, type Scope } from "effect";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";
import type { RegistryChange } from "../identity/registry-change.ts";
import type { ShardSet } from "./shard-set.ts";

export interface RegistryFollower {
  /** Resolves once the shards have applied every change up to `seq`. */
  reached(seq: number): Promise<void>;
  /**
   * Resolves once every change up to `seq` is applied and no index file on disk holds an
   * identity those changes removed (the same as reached() where the shards keep no snapshot).
   */
  erased(seq: number): Promise<void>;
}

/** Changes applied, at most, while a removal waits for its snapshot to be asked for. */
const ERASE_AFTER = 64;

export const followRegistry = (
  registry: IdentityRegistryShape,
  shards: Pick<ShardSet, "add" | "remove">,
  log: (line: string) => void,
  /** Writes an index snapshot begun after the call, destroying the one before (region-shards.ts). */
  snapshot?: () => Promise<void>,
): Effect.Effect<RegistryFollower, never, Scope.Scope> =>
  Effect.gen(function* () {
    const subscription = yield* registry.subscribeChanges;
    // The shards were opened from the registry as it is now.
    let handled = yield* Effect.orDie(registry.latestSeq());
    const waiting: { seq: number; resolve: () => void }[] = [];
    // The last change that removed identities, and the last change a finished snapshot covers.
    let removedThrough = handled;
    let erasedThrough = handled;
    // The last change a snapshot was asked to cover, and changes applied since a removal not yet asked for.
    let askedThrough = handled;
    let unasked = 0;
    const isErased = (seq: number) => erasedThrough >= Math.min(seq, removedThrough);
    const erasing: { seq: number; resolve: () => void }[] = [];
    const settle = (list: { seq: number; resolve: () => void }[], done: (seq: number) => boolean) => {
      for (let i = list.length - 1; i >= 0; i--) {
        if (done(list[i]!.seq)) list.splice(i, 1)[0]!.resolve();
      }
    };
    const erase = (through: number) => {
      if (snapshot === undefined) {
        erasedThrough = through;
        settle(erasing, isErased);
        return;
      }
      snapshot().then(
        () => {
          erasedThrough = Math.max(erasedThrough, through);
          settle(erasing, isErased);
        },
        // Waiters stay, and the next change asks again.
        (error: unknown) => {
          askedThrough = Math.min(askedThrough, erasedThrough);
          log(`index snapshot after a removal failed: ${error instanceof Error ? error.message : String(error)}`);
        },
      );
    };

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
      settle(waiting, (seq) => seq <= handled);
      if (change.removed.length > 0) removedThrough = handled;
      // Changes already waiting are applied first, so removals committed together share one
      // snapshot; a stream that never pauses still asks for one every ERASE_AFTER changes.
      if (removedThrough > askedThrough && (++unasked >= ERASE_AFTER || (yield* PubSub.remaining(subscription)) === 0)) {
        unasked = 0;
        askedThrough = handled;
        erase(handled);
      }
    });
    yield* Effect.forkScoped(Effect.forever(follow));
    const reached = (seq: number) => (seq <= handled ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ seq, resolve })));
    return {
      reached,
      erased: async (seq) => {
        await reached(seq);
        if (!isErased(seq)) await new Promise<void>((resolve) => erasing.push({ seq, resolve }));
      },
    };
  });
