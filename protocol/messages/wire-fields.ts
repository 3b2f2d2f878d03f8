// Field schemas shared by the message families. Every string and byte field is bounded so a
// decoded message can never hold more than its frame allowed, and byte fields with a fixed
// cryptographic size are checked to that size.
import { Schema } from "effect";
import { SEALED_SIGNATURE_MAX_BYTES, SEALED_SIGNATURE_MIN_BYTES, TEMPLATE_PUBLIC_KEY_BYTES } from "../template-seal.ts";

const boundedString = (min: number, max: number) => Schema.String.check(Schema.isBetweenLength(min, max));

export const RequestId = boundedString(1, 64);
export const IdentityId = boundedString(1, 64);
export const DeviceId = boundedString(1, 64);
export const RegionId = boundedString(1, 64);
export const MerchantId = boundedString(1, 64);
/** The longest text a person-readable reason or error message may be. */
export const REASON_MAX_LENGTH = 512;
export const Reason = boundedString(0, REASON_MAX_LENGTH);
export const Label = boundedString(0, 128);

/** Milliseconds since the Unix epoch. */
export const Timestamp = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));
export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));
export const Score = Schema.Finite;

export const exactBytes = (length: number) => Schema.Uint8Array.check(Schema.isBetweenLength(length, length));
export const boundedBytes = (max: number) => Schema.Uint8Array.check(Schema.isMaxLength(max));

export const SealedSignature = Schema.Uint8Array.check(Schema.isBetweenLength(SEALED_SIGNATURE_MIN_BYTES, SEALED_SIGNATURE_MAX_BYTES));
export const TemplatePublicKey = exactBytes(TEMPLATE_PUBLIC_KEY_BYTES);
