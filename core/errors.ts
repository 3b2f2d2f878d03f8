// Typed domain errors. Each carries a _tag so Effect code can catch it by name, and a message a
// person can read. Transport-level failures live in protocol/, I/O failures in cloud/ and edge/.
import { Data } from "effect";

export class InvalidSignature extends Data.TaggedError("InvalidSignature")<{ readonly reason: string }> {
  override get message() {
    return `invalid palm signature: ${this.reason}`;
  }
}

export class UnknownIdentity extends Data.TaggedError("UnknownIdentity")<{ readonly identityId: string }> {
  override get message() {
    return `unknown identity ${this.identityId}`;
  }
}

export class AlreadyEnrolled extends Data.TaggedError("AlreadyEnrolled")<{
  readonly identityId: string;
  readonly score: number;
}> {
  override get message() {
    return "this palm is already enrolled";
  }
}
