import { Data } from "effect";

/** A write to an identity that is deleted or was never enrolled here. */
export class IdentityNotLive extends Data.TaggedError("IdentityNotLive")<{ readonly identityId: string }> {
  override get message() {
    return `identity ${this.identityId} is not live`;
  }
}
