import { Data } from "effect";

/**
 * A phone number another live identity holds: a number finds one person (the privacy portal signs
 * them in by it, a step-up asks for its digits), so a second enrollment cannot take it over.
 */
export class PhoneAlreadyLinked extends Data.TaggedError("PhoneAlreadyLinked")<{ readonly identityId: string }> {
  override get message() {
    return "this phone number is already linked to an enrolled palm: unlink it in the privacy portal first";
  }
}
