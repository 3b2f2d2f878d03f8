// Checkout. First-party merchants: the region authorizes an amount on the person's card (with an
// idempotency key, so a retried request never charges twice) and later captures or voids it.
// Third-party merchants: the region only issues a single-use credential bound to the merchant and
// the checkout's nonce; amount and basket never reach palmline, which learns only where.
// A merchant's device learns outcomes, never who paid: no identity id in any answer, and the
// loyalty card only on a first-party receipt (the one programme palmline keeps is the operator's).
import { Schema } from "effect";
import { StepUpToken } from "./step-up.ts";
import { boundedBytes, Label, MerchantId, Reason, RequestId, SealedSignature, Timestamp } from "./wire-fields.ts";

export const Money = Schema.Struct({
  /** In the currency's minor unit (cents); at most 10^12 to stay an exact integer everywhere. */
  amountMinor: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1e12 })),
  currency: Schema.String.check(Schema.isPattern(/^[A-Z]{3}$/)),
});

const IdempotencyKey = Schema.String.check(Schema.isBetweenLength(8, 128));
const AuthorizationId = Schema.String.check(Schema.isBetweenLength(1, 128));
/** The merchant's per-checkout nonce. */
const MerchantNonce = Schema.Uint8Array.check(Schema.isBetweenLength(16, 64));

export const PaymentAuthorizeRequest = Schema.Struct({
  type: Schema.Literal("payment.authorize.request"),
  requestId: RequestId,
  idempotencyKey: IdempotencyKey,
  merchantId: MerchantId,
  amount: Money,
  sealedSignature: SealedSignature,
  /** A step-up the region confirmed: pays as that identity (a new idempotency key, see docs/protocol.md). */
  stepUpToken: Schema.optionalKey(StepUpToken),
});
export type PaymentAuthorizeRequest = typeof PaymentAuthorizeRequest.Type;

export const PaymentAuthorizeResult = Schema.Struct({
  type: Schema.Literal("payment.authorize.result"),
  requestId: RequestId,
  outcome: Schema.Literals(["approved", "declined", "no-match", "step-up-required", "failed"]),
  authorizationId: Schema.optionalKey(AuthorizationId),
  /** step-up-required: continue with stepup.digits, then ask again with it. */
  stepUpToken: Schema.optionalKey(StepUpToken),
  cardBrand: Schema.optionalKey(Label),
  cardLast4: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[0-9]{4}$/))),
  /** The payer's card in the operator's loyalty programme, shown with a first-party receipt. */
  loyaltyCard: Schema.optionalKey(Label),
  reason: Schema.optionalKey(Reason),
});
export type PaymentAuthorizeResult = typeof PaymentAuthorizeResult.Type;

export const PaymentSettleRequest = Schema.Struct({
  type: Schema.Literal("payment.settle.request"),
  requestId: RequestId,
  authorizationId: AuthorizationId,
  action: Schema.Literals(["capture", "void"]),
  /** Capture a smaller amount than authorized; omitted captures the full authorization. */
  amount: Schema.optionalKey(Money),
});
export type PaymentSettleRequest = typeof PaymentSettleRequest.Type;

export const PaymentSettleResult = Schema.Struct({
  type: Schema.Literal("payment.settle.result"),
  requestId: RequestId,
  authorizationId: AuthorizationId,
  outcome: Schema.Literals(["captured", "voided", "failed"]),
  reason: Schema.optionalKey(Reason),
});
export type PaymentSettleResult = typeof PaymentSettleResult.Type;

export const PaymentCredentialRequest = Schema.Struct({
  type: Schema.Literal("payment.credential.request"),
  requestId: RequestId,
  merchantId: MerchantId,
  /** The credential is bound to it: redeemable only for this checkout, and echoed in the answer. */
  merchantNonce: MerchantNonce,
  sealedSignature: SealedSignature,
  stepUpToken: Schema.optionalKey(StepUpToken),
});
export type PaymentCredentialRequest = typeof PaymentCredentialRequest.Type;

export const PaymentCredential = Schema.Struct({
  /** Opaque to the device and the merchant; redeemed with the processor, signed by the region. */
  token: boundedBytes(1024).check(Schema.isMinLength(1)),
  merchantId: MerchantId,
  /** The request's nonce: the lane takes the credential only for the checkout it asked for. */
  merchantNonce: MerchantNonce,
  expiresAt: Timestamp,
});

export const PaymentCredentialResult = Schema.Struct({
  type: Schema.Literal("payment.credential.result"),
  requestId: RequestId,
  outcome: Schema.Literals(["issued", "no-match", "step-up-required", "refused"]),
  credential: Schema.optionalKey(PaymentCredential),
  stepUpToken: Schema.optionalKey(StepUpToken),
  reason: Schema.optionalKey(Reason),
});
export type PaymentCredentialResult = typeof PaymentCredentialResult.Type;

export const paymentMessages = [
  PaymentAuthorizeRequest,
  PaymentAuthorizeResult,
  PaymentSettleRequest,
  PaymentSettleResult,
  PaymentCredentialRequest,
  PaymentCredentialResult,
] as const;
