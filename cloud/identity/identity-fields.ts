// The attributes an identity record holds, each a last-writer-wins register in the record's
// fields, encrypted with the identity's own data key so a deletion shreds them all at once: the
// palm template, the profile (card on file, phone, loyalty card) and the lifecycle registers
// replication carries for deletions (cloud/lifecycle/deletion-registers.ts).

export const TEMPLATE_FIELD = "palm_template";

export interface CardReference {
  readonly paymentToken: string;
  readonly brand: string;
  readonly last4: string;
  readonly expiryMonth: number;
  readonly expiryYear: number;
}

export interface IdentityProfileFields {
  readonly card?: CardReference;
  readonly phone?: string;
  readonly loyaltyCard?: string;
}

/** Each profile attribute's field name. */
export const PROFILE_FIELDS: Readonly<Record<keyof IdentityProfileFields, string>> = { card: "card", phone: "phone", loyaltyCard: "loyalty_card" };

/** The phone register: the registry keeps each region's phone index in step with it. */
export const PHONE_FIELD = PROFILE_FIELDS.phone;

/**
 * Lifecycle registers: each region's count of the identity's open payments, written by that
 * region only, and a deletion request waiting for them.
 */
export const OPEN_PAYMENTS_FIELD_PREFIX = "open_payments:";
export const openPaymentsField = (regionId: string) => `${OPEN_PAYMENTS_FIELD_PREFIX}${regionId}`;
export const DELETION_REQUESTED_FIELD = "deletion_requested";

/** A profile or lifecycle field's plaintext, as written: JSON of the value. */
export const encodeFieldValue = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
export const decodeFieldValue = (plain: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(plain));
