// Runs an enrollment saga for each kiosk submission, with the region's real steps.
//
// The duplicate check follows the identification policy: a palm clearly enrolled already is
// refused, a palm like nobody's enrolls, and a newcomer whose palm merely resembles someone's (the
// grey zone) is told apart by phone, in the region: the kiosk already sent the newcomer's number,
// which the saga verifies by SMS before anything is persisted, so the region compares its last
// four digits with the close candidates' phones itself (the same step-up rule as at a scanner,
// core/identification-policy.ts). Asking the newcomer to type the digits again would add nothing
// but a self-declared copy of a number the region holds verified; digits that match the one close
// candidate mean the same person (refused as already enrolled); otherwise they are someone else
// and enroll. A newcomer without a phone cannot be told apart and enrolls (resembling is not being).
import { createActor, fromPromise, toPromise } from "xstate";
import type { Clock } from "../../core/clock.ts";
import { wipePalmProbe, type PalmProbe } from "../../core/palm-template.ts";
import { openSealedSignatures, type EnrollRequest, type EnrollResult, type TemplateKeyPair } from "../../protocol/index.ts";
import type { PalmIdentifier } from "../identification/palm-identifier.ts";
import { ProcessorUnavailable, type ProcessorAdapter } from "../payments/processor-adapter.ts";
import type { CodeAsker, PhoneVerifier } from "../phone/phone-verifier.ts";
import { Effect } from "effect";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";
import type { SameAsCandidate } from "../identification/palm-identifier.ts";
import { ENROLLMENT_STEP_TIMEOUT_MS, enrollmentSaga } from "./enrollment-saga.ts";
import { phoneLastFour } from "./step-up-challenges.ts";
import { sagaActorOptions, type InspectHook } from "./saga-actor-options.ts";

export interface KioskEnrollmentsOptions {
  readonly identifier: PalmIdentifier;
  readonly registry: IdentityRegistryShape;
  readonly processor: ProcessorAdapter | undefined;
  readonly phones: PhoneVerifier;
  readonly templateKeys: TemplateKeyPair;
  readonly clock: Clock;
  readonly inspect?: InspectHook;
}

export class KioskEnrollments {
  readonly #o: KioskEnrollmentsOptions;

  constructor(options: KioskEnrollmentsOptions) {
    this.#o = options;
  }

  async enroll(request: EnrollRequest, asker: CodeAsker): Promise<Omit<EnrollResult, "type" | "requestId">> {
    const { identifier, registry, processor, phones, templateKeys, clock } = this.#o;
    const captures: PalmProbe[] = await openSealedSignatures(request.sealedSignatures, templateKeys);
    const digits = phoneLastFour(request.phone?.number);
    const sameAs: SameAsCandidate | undefined =
      digits === undefined
        ? undefined
        : (stepUp) =>
            identifier.policy.resolveStepUp(stepUp, (id) => phoneLastFour(Effect.runSync(registry.readProfile(id)).phone) === digits).outcome === "accepted";
    // Steps that read the captures: they are wiped only once every one has settled, even one
    // the saga stopped waiting for.
    const reading = new Set<Promise<unknown>>();
    const readingCaptures = <T>(work: Promise<T>): Promise<T> => {
      reading.add(work);
      return work;
    };
    try {
      const machine = enrollmentSaga.provide({
        actors: {
          // Not an identification: nobody is marked as seen, nothing counts in the metrics.
          checkDuplicate: fromPromise(async () => (await readingCaptures(identifier.checkDuplicate(captures, sameAs))).duplicate),
          verifyPhone: fromPromise(async () => request.phone === undefined || phones.verify(request.phone.number, request.phone.verificationCode, asker)),
          tokeniseCard: fromPromise(async ({ signal }) => {
            if (request.card === undefined) return undefined;
            if (processor === undefined) throw new ProcessorUnavailable({ reason: "none is configured for this region" });
            return processor.tokenizeCard(request.card.processorToken, signal);
          }),
          persist: fromPromise(async ({ input }) => {
            const profile = {
              ...(input.card !== undefined
                ? {
                    card: {
                      paymentToken: input.card.paymentToken,
                      brand: input.card.brand,
                      last4: input.card.last4,
                      expiryMonth: input.card.expiryMonth,
                      expiryYear: input.card.expiryYear,
                    },
                  }
                : {}),
              ...(request.phone !== undefined ? { phone: request.phone.number } : {}),
              ...(request.loyaltyCard !== undefined ? { loyaltyCard: request.loyaltyCard } : {}),
            };
            // The step's deadline withdraws an enrollment still queued behind others; one that
            // has begun to commit completes and is answered as enrolled.
            const deadline = new AbortController();
            const timer = clock.setTimeout(() => deadline.abort(), ENROLLMENT_STEP_TIMEOUT_MS);
            try {
              return await readingCaptures(identifier.enroll(captures, { ...(sameAs !== undefined ? { sameAs } : {}), profile, signal: deadline.signal }));
            } finally {
              clock.clearTimeout(timer);
            }
          }),
        },
      });
      const actor = createActor(machine, sagaActorOptions(clock, this.#o.inspect, `enrollment:${request.requestId}`));
      actor.start();
      const output = await toPromise(actor);
      return output.outcome === "enrolled"
        ? { outcome: "enrolled", identityId: output.identityId }
        : output.outcome === "already-enrolled"
          ? { outcome: "already-enrolled", reason: "this palm is already enrolled" }
          : { outcome: "rejected", reason: output.reason };
    } finally {
      await Promise.allSettled(reading);
      captures.forEach(wipePalmProbe);
    }
  }
}
