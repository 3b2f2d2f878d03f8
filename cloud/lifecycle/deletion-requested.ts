// The refusal of a new payment for an identity whose deletion is waiting for its open payments:
// taking one would open another transaction for the deletion to wait on.
import { Data } from "effect";

export class DeletionRequested extends Data.TaggedError("DeletionRequested")<{ readonly identityId: string }> {
  override get message() {
    return "deletion requested: this identity takes no new payments";
  }
}
