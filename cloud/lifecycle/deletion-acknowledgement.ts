// Tells a person their identity is gone, by SMS to the phone they enrolled with. The number is
// read before the tombstone shreds it (afterwards nobody can read it, which is the point) and the
// message is sent only after the deletion has committed, so nobody is told of a deletion that
// then failed. The number never reaches a log line.
import type { SmsGateway } from "../phone/phone-verifier.ts";
import { Effect } from "effect";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";

/** Why an identity was deleted: the person asked, or nobody used it for two years. */
export type DeletionCause = "requested" | "expired";

export const DELETION_MESSAGES: Readonly<Record<DeletionCause, string>> = {
  requested: "Your palmline identity has been deleted: your palm, card, phone number and loyalty card are gone.",
  expired: "Your palmline identity expired after two years without use and was deleted: your palm, card, phone number and loyalty card are gone.",
};

/** An acknowledgement addressed before the deletion, to be sent once it has committed. */
export interface PendingAcknowledgement {
  send(): Promise<void>;
}

export class DeletionAcknowledgement {
  readonly #registry: IdentityRegistryShape;
  readonly #sms: SmsGateway;
  readonly #log: (line: string) => void;

  constructor(options: { registry: IdentityRegistryShape; sms: SmsGateway; log: (line: string) => void }) {
    this.#registry = options.registry;
    this.#sms = options.sms;
    this.#log = options.log;
  }

  /** Reads where to send it; call before the tombstone. Undefined for an identity without a phone. */
  address(identityId: string, cause: DeletionCause): PendingAcknowledgement | undefined {
    const phone = Effect.runSync(this.#registry.readProfile(identityId)).phone;
    if (phone === undefined) return undefined;
    return {
      send: async () => {
        try {
          await this.#sms.send(phone, DELETION_MESSAGES[cause]);
          this.#log(`deletion of ${identityId} acknowledged by SMS`);
        } catch (error) {
          // The deletion stands either way; a lost acknowledgement is logged, never retried with a number kept.
          this.#log(`deletion of ${identityId} could not be acknowledged: ${error instanceof Error ? error.message : String(error)}`);
        }
      },
    };
  }
}
