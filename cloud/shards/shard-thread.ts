// A shard as an actor: a worker thread owning one SignatureShard, driven by messages. The caller
// gets promises; the event loop never waits on a faiss search, and shards search in parallel.
import { Worker } from "node:worker_threads";
import type { IdentityId } from "../../core/ids.ts";
import { PendingReplies } from "../../core/pending-replies.ts";
import type { IndexLayout } from "./index-layout.ts";
import type { ShardEnvelope, ShardReplies, ShardReplyEnvelope, ShardRequest } from "./shard-messages.ts";
import type { SealedShardFile } from "./sealed-shard-file.ts";
import type { ShardCandidate } from "./signature-shard.ts";

export class ShardThread {
  readonly #worker: Worker;
  readonly #replies = new PendingReplies<number, ShardReplies[ShardRequest["op"]]>();
  #next = 1;
  #failure: Error | undefined;

  constructor() {
    this.#worker = new Worker(new URL("./shard-worker.ts", import.meta.url));
    this.#worker.on("message", (reply: ShardReplyEnvelope) => {
      if (reply.ok) this.#replies.resolve(reply.id, reply.value);
      else this.#replies.reject(reply.id, new Error(reply.error));
    });
    const failAll = (error: Error) => {
      this.#failure = error;
      this.#replies.rejectAll(error);
    };
    this.#worker.on("error", failAll);
    this.#worker.on("exit", (code) => failAll(new Error(`shard worker exited (${code})`)));
  }

  #ask<Op extends ShardRequest["op"]>(request: Extract<ShardRequest, { op: Op }>, transfer: ArrayBuffer[] = []): Promise<ShardReplies[Op]> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#next++;
    // The worker answers each op with that op's reply type (shard-messages.ts).
    const reply = this.#replies.expect(id) as Promise<ShardReplies[Op]>;
    const envelope: ShardEnvelope = { id, request };
    try {
      this.#worker.postMessage(envelope, transfer);
    } catch (error) {
      this.#replies.reject(id, error);
    }
    return reply;
  }

  create(layout: IndexLayout, dimension: number, trained?: Uint8Array): Promise<number> {
    return this.#ask<"create">(trained === undefined ? { op: "create", layout, dimension } : { op: "create", layout, dimension, trained });
  }

  load(layout: IndexLayout, file: SealedShardFile): Promise<number> {
    return this.#ask<"load">({ op: "load", layout, file });
  }

  /** Trains the layout on samples (transferred: the caller's buffer is detached). */
  train(layout: IndexLayout, dimension: number, samples: Float32Array): Promise<Uint8Array> {
    return this.#ask<"train">({ op: "train", layout, dimension, samples }, [samples.buffer as ArrayBuffer]);
  }

  /** Adds templates (transferred: the caller's buffer is detached). */
  add(identityIds: readonly IdentityId[], templates: Float32Array): Promise<number> {
    return this.#ask<"add">({ op: "add", identityIds, templates }, [templates.buffer as ArrayBuffer]);
  }

  remove(identityIds: readonly IdentityId[]): Promise<number> {
    return this.#ask<"remove">({ op: "remove", identityIds });
  }

  search(probe: Float32Array, k: number): Promise<ShardCandidate[]> {
    return this.#ask<"search">({ op: "search", probe, k });
  }

  identityIds(): Promise<IdentityId[]> {
    return this.#ask<"identityIds">({ op: "identityIds" });
  }

  snapshot(file: SealedShardFile): Promise<number> {
    return this.#ask<"snapshot">({ op: "snapshot", file });
  }

  /** The process's RSS as seen from the worker (one process: the same for every shard). */
  memory(): Promise<number> {
    return this.#ask<"memory">({ op: "memory" });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
