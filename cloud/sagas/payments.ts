// Runs payment sagas for device sessions and the operator API, and makes them exactly-once:
// the ledger row for an idempotency key is written before the processor hears of it; a retry of
// the same key joins the attempt still running, answers from the ledger once it has ended, or,
// after a node restart left it "authorizing", re-drives it with the same key, which the
// processor answers with the authorization it already made.
import { createActor, fromPromise, toPromise } from "xstate";
import type { Clock } from "../../core/clock.ts";
import type {
  PaymentAuthorizeRequest,
  PaymentAuthorizeResult,
  PaymentCredentialRequest,
  PaymentCredentialResult,
  PaymentSettleRequest,
  PaymentSettleResult,
} from "../../protocol/index.ts";
import { DeletionRequested } from "../lifecycle/deletion-requested.ts";
import { ProcessorRefused, type ProcessorAdapter } from "../payments/processor-adapter.ts";
import { Effect } from "effect";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";
import type { PaymentLedger, PaymentRecord } from "../storage/sqlite/payment-ledger.ts";
import type { LookupRequest, PalmLookup } from "./palm-lookup.ts";
import { paymentSaga, PROCESSOR_TIMEOUT_MS, type PaymentSagaInput, type PaymentSagaOutput } from "./payment-saga.ts";
import { sagaActorOptions, type InspectHook } from "./saga-actor-options.ts";

type AuthorizeAnswer = Omit<PaymentAuthorizeResult, "type" | "requestId">;
type CredentialAnswer = Omit<PaymentCredentialResult, "type" | "requestId">;
type SettleAnswer = Omit<PaymentSettleResult, "type" | "requestId">;

/** How long a third-party credential can be redeemed: one checkout, not a stored card. */
export const CREDENTIAL_TTL_MS = 120_000;

/**
 * How long after a node start an attempt a crash left "authorizing" is left to its device: the
 * lane retries with the same key for up to 25 s (its authorization timeout) and that retry
 * re-drives it to approved and captured. Past this, nobody will ask for it again.
 */
export const ABANDONED_AFTER_MS = 30_000;

export interface PaymentsOptions {
  readonly ledger: PaymentLedger;
  readonly registry: IdentityRegistryShape;
  readonly processor: ProcessorAdapter;
  readonly lookup: PalmLookup;
  readonly clock: Clock;
  readonly inspect?: InspectHook;
  readonly log: (line: string) => void;
  /** Merchants run by the operator; everyone else is third-party and gets credentials only. */
  readonly firstPartyMerchants: ReadonlySet<string>;
  /** Whether a deletion of the identity is waiting (here or announced by another region): no new payments then. */
  readonly deletionPending?: (identityId: string) => boolean;
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class Payments {
  readonly #o: PaymentsOptions;
  readonly #running = new Map<string, Promise<AuthorizeAnswer>>();

  constructor(options: PaymentsOptions) {
    this.#o = options;
  }

  /** Whether this device already began a payment with this key (a retry finds it by the key, not by its capture). */
  hasAttempt(deviceId: string, idempotencyKey: string): boolean {
    const key = `${deviceId}:${idempotencyKey}`;
    return this.#running.has(key) || this.#o.ledger.find(key) !== undefined;
  }

  authorize(deviceId: string, request: PaymentAuthorizeRequest): Promise<AuthorizeAnswer> {
    // Keys are per device: two lanes can never collide, and one cannot replay another's key.
    const key = `${deviceId}:${request.idempotencyKey}`;
    const running = this.#running.get(key);
    if (running !== undefined) return running;
    const attempt = this.#authorizeOnce(deviceId, key, request).finally(() => this.#running.delete(key));
    this.#running.set(key, attempt);
    return attempt;
  }

  async #authorizeOnce(deviceId: string, key: string, request: PaymentAuthorizeRequest): Promise<AuthorizeAnswer> {
    const { ledger, clock } = this.#o;
    if (!this.#o.firstPartyMerchants.has(request.merchantId)) {
      return { outcome: "failed", reason: "a third-party merchant asks for a payment credential; palmline does not take its amounts" };
    }
    const previous = ledger.find(key);
    if (previous !== undefined) {
      if (previous.merchantId !== request.merchantId || previous.amountMinor !== request.amount.amountMinor || previous.currency !== request.amount.currency) {
        return { outcome: "failed", reason: "idempotency key reused for a different payment" };
      }
      if (previous.state !== "authorizing") return this.#answerFromLedger(previous);
      this.#o.log(`payment ${request.idempotencyKey}: re-driving an attempt left in flight`);
    } else {
      ledger.begin(
        { idempotencyKey: key, merchantId: request.merchantId, amountMinor: request.amount.amountMinor, currency: request.amount.currency },
        clock.now(),
      );
    }
    const output = await this.#runSaga(
      { kind: "authorize", idempotencyKey: key, merchantId: request.merchantId, amountMinor: request.amount.amountMinor, currency: request.amount.currency },
      request.sealedSignature,
      { deviceId, purpose: "payment", stepUpToken: request.stepUpToken },
    );
    const now = clock.now();
    switch (output.outcome) {
      case "approved":
        ledger.update(key, { state: "approved", identityId: output.payer.identityId, authorizationId: output.authorizationId }, now);
        return this.#approved(output.authorizationId, output.payer.card, output.payer.loyaltyCard);
      case "declined":
        ledger.update(key, { state: "declined", identityId: output.payer.identityId, authorizationId: output.authorizationId, reason: output.reason }, now);
        return { outcome: "declined", reason: output.reason };
      case "no-match":
        ledger.update(key, { state: "no-match" }, now);
        return { outcome: "no-match" };
      case "step-up-required":
        // This attempt ends here, nothing authorized; the confirmed step-up comes with a new key.
        ledger.update(key, { state: "no-match", reason: "step-up required" }, now);
        return { outcome: "step-up-required", stepUpToken: output.token };
      case "credential-issued":
        return { outcome: "failed", reason: "unexpected credential" };
      case "failed": {
        // A processor failure leaves the attempt "authorizing", so the device's retry re-drives it
        // with the same key; anything decided before the processor was asked is final.
        const beforeProcessor = output.payer === undefined || output.payer.card === undefined;
        if (beforeProcessor) ledger.update(key, { state: "failed", reason: output.reason }, now);
        return { outcome: "failed", reason: output.reason };
      }
    }
  }

  /**
   * At node start: attempts a crash left "authorizing". Those no device retried within `graceMs`
   * are re-driven with their own key (the processor answers with the authorization it already
   * made, or makes it now) and settled: an approval is voided, a decline recorded, so no hold is
   * left on a card and nothing is charged twice. Returns a function that cancels the sweep.
   */
  sweepAbandoned(graceMs: number = ABANDONED_AFTER_MS): () => void {
    const keys = this.#o.ledger
      .inFlight()
      .filter((r) => r.amountMinor !== null)
      .map((r) => r.idempotencyKey);
    if (keys.length === 0) return () => {};
    this.#o.log(`payments: ${keys.length} attempt(s) left in flight by a restart; settling any not retried within ${graceMs} ms`);
    const timer = this.#o.clock.setTimeout(() => void this.#settleAbandoned(keys), graceMs);
    return () => this.#o.clock.clearTimeout(timer);
  }

  async #settleAbandoned(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      if (this.#running.has(key)) continue; // a device's retry is driving it
      const record = this.#o.ledger.find(key);
      if (record?.state !== "authorizing") continue;
      // Registered like a device's attempt, so a late retry of the key joins this one.
      const attempt = this.#settleAbandonedOne(record).finally(() => this.#running.delete(key));
      this.#running.set(key, attempt);
      await attempt;
    }
  }

  async #settleAbandonedOne(record: PaymentRecord): Promise<AuthorizeAnswer> {
    const { ledger, processor, registry, clock, log } = this.#o;
    const key = record.idempotencyKey;
    // The identity is written just before the processor is called: without it, it never was.
    if (record.identityId === null) {
      ledger.update(key, { state: "failed", reason: "abandoned before the processor was asked" }, clock.now());
      return { outcome: "failed", reason: "abandoned before the processor was asked" };
    }
    const card = Effect.runSync(registry.readProfile(record.identityId)).card;
    if (card === undefined || record.amountMinor === null || record.currency === null) {
      log(`payment ${key}: left in flight, but without a card on file it cannot be re-driven`);
      return { outcome: "failed", reason: "left in flight" };
    }
    const abort = new AbortController();
    const deadline = clock.setTimeout(() => abort.abort(new Error("payment processor timed out")), PROCESSOR_TIMEOUT_MS);
    try {
      const made = await processor.authorize(
        { idempotencyKey: key, paymentToken: card.paymentToken, merchantId: record.merchantId, amountMinor: record.amountMinor, currency: record.currency },
        abort.signal,
      );
      if (made.status === "declined") {
        const reason = made.declineCode ?? "declined";
        ledger.update(key, { state: "declined", authorizationId: made.authorizationId, reason }, clock.now());
        log(`payment ${key}: left in flight, settled as declined`);
        return { outcome: "declined", reason };
      }
      await processor.void(made.authorizationId);
      ledger.update(key, { state: "voided", authorizationId: made.authorizationId, reason: "abandoned at a node restart: voided" }, clock.now());
      log(`payment ${key}: left in flight, authorization voided`);
      return { outcome: "failed", reason: "abandoned at a node restart: voided" };
    } catch (error) {
      // Still "authorizing": the next start tries again.
      log(`payment ${key}: left in flight, processor not reachable (${reasonOf(error)}); kept for the next start`);
      return { outcome: "failed", reason: reasonOf(error) };
    } finally {
      clock.clearTimeout(deadline);
    }
  }

  async credential(deviceId: string, request: PaymentCredentialRequest): Promise<CredentialAnswer> {
    const output = await this.#runSaga({ kind: "credential", merchantId: request.merchantId, merchantNonce: request.merchantNonce }, request.sealedSignature, {
      deviceId,
      purpose: "credential",
      stepUpToken: request.stepUpToken,
    });
    if (output.outcome === "no-match") return { outcome: "no-match" };
    if (output.outcome === "step-up-required") return { outcome: "step-up-required", stepUpToken: output.token };
    if (output.outcome !== "credential-issued") return { outcome: "refused", reason: "reason" in output ? output.reason : "refused" };
    // Where, not what: the ledger learns the merchant and the identity, never an amount.
    const key = `${deviceId}:credential:${request.requestId}`;
    this.#o.ledger.begin({ idempotencyKey: key, merchantId: request.merchantId, amountMinor: null, currency: null }, this.#o.clock.now());
    this.#o.ledger.update(key, { state: "credential-issued", identityId: output.payer.identityId }, this.#o.clock.now());
    // The merchant learns that it can charge, never who: no identity id, and no loyalty card (the
    // one programme palmline keeps is the operator's, and this merchant is not the operator).
    return {
      outcome: "issued",
      credential: {
        token: new TextEncoder().encode(output.token),
        merchantId: request.merchantId,
        merchantNonce: request.merchantNonce,
        expiresAt: output.expiresAt,
      },
    };
  }

  async settle(deviceId: string, request: PaymentSettleRequest): Promise<SettleAnswer> {
    const record = this.#o.ledger.byAuthorization(request.authorizationId);
    const base = { authorizationId: request.authorizationId };
    if (record === undefined || !record.idempotencyKey.startsWith(`${deviceId}:`)) return { ...base, outcome: "failed", reason: "unknown authorization" };
    const done = request.action === "capture" ? "captured" : "voided";
    if (record.state === done) return { ...base, outcome: done };
    if (record.state !== "approved") return { ...base, outcome: "failed", reason: `the payment is ${record.state}` };
    try {
      if (request.action === "capture") await this.#o.processor.capture(request.authorizationId, request.amount?.amountMinor);
      else await this.#o.processor.void(request.authorizationId);
    } catch (error) {
      return { ...base, outcome: "failed", reason: reasonOf(error) };
    }
    this.#o.ledger.update(record.idempotencyKey, { state: done }, this.#o.clock.now());
    return { ...base, outcome: done };
  }

  async refund(authorizationId: string, amountMinor?: number): Promise<{ outcome: "refunded" | "failed"; reason?: string }> {
    const record = this.#o.ledger.byAuthorization(authorizationId);
    if (record === undefined || record.state !== "captured") return { outcome: "failed", reason: "only captured payments can be refunded" };
    try {
      await this.#o.processor.refund(authorizationId, amountMinor);
    } catch (error) {
      return { outcome: "failed", reason: reasonOf(error) };
    }
    this.#o.ledger.update(record.idempotencyKey, { state: "refunded" }, this.#o.clock.now());
    return { outcome: "refunded" };
  }

  /** The operator voids an authorization no device will settle (a lane gone for good). */
  async voidApproved(authorizationId: string): Promise<{ outcome: "voided" | "failed"; reason?: string }> {
    const record = this.#o.ledger.byAuthorization(authorizationId);
    if (record === undefined || record.state !== "approved") return { outcome: "failed", reason: "only an approved payment not yet captured can be voided" };
    try {
      await this.#o.processor.void(authorizationId);
    } catch (error) {
      return { outcome: "failed", reason: reasonOf(error) };
    }
    this.#o.ledger.update(record.idempotencyKey, { state: "voided", reason: "voided by the operator" }, this.#o.clock.now());
    return { outcome: "voided" };
  }

  /**
   * An approval nobody settled within its lifetime (cloud/lifecycle/authorization-expiry.ts) is
   * voided at the processor, so the hold leaves the card and the payment no longer keeps a
   * deletion waiting. One the processor refuses to void (it no longer holds it open) is recorded
   * "expired"; one it cannot be asked about now stays approved and is tried again.
   */
  async expireAuthorization(authorizationId: string): Promise<"voided" | "expired" | "not-reached" | "not-open"> {
    const { ledger, processor, clock, log } = this.#o;
    const record = ledger.byAuthorization(authorizationId);
    if (record?.state !== "approved") return "not-open";
    try {
      await processor.void(authorizationId);
    } catch (error) {
      if (!(error instanceof ProcessorRefused)) {
        log(`payment ${record.idempotencyKey}: past its lifetime, processor not reachable (${reasonOf(error)}); tried again later`);
        return "not-reached";
      }
      ledger.update(
        record.idempotencyKey,
        { state: "expired", reason: `past its lifetime; the processor would not void it (${reasonOf(error)})` },
        clock.now(),
      );
      log(`payment ${record.idempotencyKey}: past its lifetime, recorded expired (${reasonOf(error)})`);
      return "expired";
    }
    ledger.update(record.idempotencyKey, { state: "voided", reason: "past its lifetime: voided" }, clock.now());
    log(`payment ${record.idempotencyKey}: past its lifetime, authorization voided`);
    return "voided";
  }

  #runSaga(input: PaymentSagaInput, sealedSignature: Uint8Array, request: LookupRequest): Promise<PaymentSagaOutput> {
    const { processor, lookup, clock } = this.#o;
    const machine = paymentSaga.provide({
      actors: {
        identify: fromPromise(async () => {
          const found = await lookup(sealedSignature, request);
          if (found.kind === "identified" && this.#o.deletionPending?.(found.payer.identityId) === true)
            throw new DeletionRequested({ identityId: found.payer.identityId });
          return found;
        }),
        authorize: fromPromise(async ({ input: { payer }, signal }) => {
          if (input.kind !== "authorize") throw new Error("not an authorization");
          this.#o.ledger.update(input.idempotencyKey, { state: "authorizing", identityId: payer.identityId }, clock.now());
          return processor.authorize(
            {
              idempotencyKey: input.idempotencyKey,
              paymentToken: payer.card!.paymentToken,
              merchantId: input.merchantId,
              amountMinor: input.amountMinor,
              currency: input.currency,
            },
            signal,
          );
        }),
        reverse: fromPromise(async ({ signal }) => {
          // Asking again with the same key returns whatever the first call made (or makes it now),
          // which is then voided. A reversal that fails leaves the row "authorizing", so the
          // device's retry with the same key settles it.
          if (input.kind !== "authorize") return;
          const record = this.#o.ledger.find(input.idempotencyKey);
          const card = record?.identityId != null ? Effect.runSync(this.#o.registry.readProfile(record.identityId)).card : undefined;
          if (card === undefined) return;
          const made = await processor.authorize(
            {
              idempotencyKey: input.idempotencyKey,
              paymentToken: card.paymentToken,
              merchantId: input.merchantId,
              amountMinor: input.amountMinor,
              currency: input.currency,
            },
            signal,
          );
          if (made.status === "approved") await processor.void(made.authorizationId);
          this.#o.ledger.update(
            input.idempotencyKey,
            { state: "voided", authorizationId: made.authorizationId, reason: "reversed after a processor failure" },
            clock.now(),
          );
        }),
        issueCredential: fromPromise(async ({ input: { payer } }) => {
          const expiresAt = clock.now() + CREDENTIAL_TTL_MS;
          if (input.kind !== "credential") throw new Error("not a credential");
          const { token } = await processor.issueMerchantCredential({
            paymentToken: payer.card!.paymentToken,
            merchantId: input.merchantId,
            merchantNonce: Buffer.from(input.merchantNonce).toString("base64url"),
            expiresAt,
          });
          return { token, expiresAt };
        }),
      },
    });
    const actor = createActor(machine, {
      input,
      ...sagaActorOptions(clock, this.#o.inspect, input.kind === "authorize" ? `payment:${input.idempotencyKey}` : `credential:${input.merchantId}`),
    });
    actor.start();
    return toPromise(actor);
  }

  #answerFromLedger(record: PaymentRecord): AuthorizeAnswer {
    switch (record.state) {
      case "approved":
      case "captured":
      case "refunded":
      case "voided":
        if (record.authorizationId !== null && record.identityId !== null && record.state !== "voided") {
          const profile = Effect.runSync(this.#o.registry.readProfile(record.identityId));
          return this.#approved(record.authorizationId, profile.card, profile.loyaltyCard);
        }
        return { outcome: "failed", reason: record.reason ?? "voided" };
      case "declined":
        return { outcome: "declined", reason: record.reason ?? "declined" };
      case "no-match":
        return { outcome: "no-match" };
      default:
        return { outcome: "failed", reason: record.reason ?? "failed" };
    }
  }

  /** A first-party receipt: the operator's own lane may show the card and the operator's loyalty card. */
  #approved(authorizationId: string, card: { brand: string; last4: string } | undefined, loyaltyCard: string | undefined): AuthorizeAnswer {
    return {
      outcome: "approved",
      authorizationId,
      ...(card !== undefined ? { cardBrand: card.brand, cardLast4: card.last4 } : {}),
      ...(loyaltyCard !== undefined ? { loyaltyCard } : {}),
    };
  }
}
