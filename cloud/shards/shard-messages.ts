// What a ShardThread (main thread) and its worker say to each other. Vectors travel as
// transferred Float32Array buffers, never as number arrays.
import type { IdentityId } from "../../core/ids.ts";
import type { IndexLayout } from "./index-layout.ts";
import type { SealedShardFile } from "./sealed-shard-file.ts";
import type { ShardCandidate } from "./signature-shard.ts";

export type ShardRequest =
  | { readonly op: "create"; readonly layout: IndexLayout; readonly dimension: number; readonly trained?: Uint8Array }
  | { readonly op: "load"; readonly layout: IndexLayout; readonly file: SealedShardFile }
  | { readonly op: "train"; readonly layout: IndexLayout; readonly dimension: number; readonly samples: Float32Array }
  | { readonly op: "add"; readonly identityIds: readonly IdentityId[]; readonly templates: Float32Array }
  | { readonly op: "remove"; readonly identityIds: readonly IdentityId[] }
  | { readonly op: "search"; readonly probe: Float32Array; readonly k: number }
  | { readonly op: "identityIds" }
  | { readonly op: "snapshot"; readonly file: SealedShardFile }
  | { readonly op: "memory" };

export interface ShardReplies {
  readonly create: number;
  readonly load: number;
  readonly train: Uint8Array;
  readonly add: number;
  readonly remove: number;
  readonly search: ShardCandidate[];
  readonly identityIds: IdentityId[];
  readonly snapshot: number;
  readonly memory: number;
}

export type ShardEnvelope = { readonly id: number; readonly request: ShardRequest };
export type ShardReplyEnvelope =
  | { readonly id: number; readonly ok: true; readonly value: ShardReplies[ShardRequest["op"]] }
  | { readonly id: number; readonly ok: false; readonly error: string };
