// Which region may write what in an identity record: the one owner of that rule, applied alike
// to a write made here (refused before it is stored) and to a peer's record (refused before it
// is merged). The writer is the region that signed the write (write-signatures.ts).
// - The template, card, phone and loyalty card identify and charge the person: only the region
//   that enrolled them (the record's origin) writes them. Any region may clear the card: the
//   person unlinking it in the portal of whichever region they reach.
// - `open_payments:<R>` is region R's count: only R writes it.
// - `deletion_requested` names the region that recorded a deletion request: any region may.
// - A tombstone may come from any region a person asked (or whose expiry ran), with its reason.
// - Last-seen is a max-register any region raises; it carries no signature (it can only delay an expiry).
// Any other field name is refused: nothing unknown enters a record.
import { Data } from "effect";
import { DELETION_REQUESTED_FIELD, OPEN_PAYMENTS_FIELD_PREFIX, openPaymentsField, PROFILE_FIELDS, TEMPLATE_FIELD } from "./identity-fields.ts";
import { TOMBSTONE_REASONS } from "./replicated-record.ts";

const OWNER_FIELDS: ReadonlySet<string> = new Set([TEMPLATE_FIELD, ...Object.values(PROFILE_FIELDS)]);
const CLEARABLE_ANYWHERE: ReadonlySet<string> = new Set([PROFILE_FIELDS.card]);

export interface FieldWrite {
  readonly name: string;
  readonly cleared: boolean;
  /** The region that made (and signed) the write. */
  readonly writer: string;
  /** The region the identity was enrolled in. */
  readonly origin: string;
}

/** Why the write is not the writer's to make; undefined when it is. */
export const fieldWriteRefusal = ({ name, cleared, writer, origin }: FieldWrite): string | undefined => {
  if (OWNER_FIELDS.has(name)) {
    if (writer === origin || (cleared && CLEARABLE_ANYWHERE.has(name))) return undefined;
    return `${name} of an identity enrolled in ${origin} is written by ${origin} only, not ${writer}`;
  }
  if (name.startsWith(OPEN_PAYMENTS_FIELD_PREFIX))
    return name === openPaymentsField(writer) ? undefined : `${name} is written by its own region only, not ${writer}`;
  if (name === DELETION_REQUESTED_FIELD) return undefined;
  return `${name} is not a field of an identity record`;
};

/** Why a tombstone with this reason is refused; undefined when it stands. */
export const tombstoneRefusal = (reason: string | undefined): string | undefined =>
  reason !== undefined && (TOMBSTONE_REASONS as readonly string[]).includes(reason) ? undefined : `a tombstone without a known reason (${reason ?? "none"})`;

/** A write this region asked for that is not its to make: nothing was stored. */
export class WriteNotAuthorised extends Data.TaggedError("WriteNotAuthorised")<{ readonly identityId: string; readonly reason: string }> {
  override get message() {
    return `write to ${this.identityId} refused: ${this.reason}`;
  }
}
