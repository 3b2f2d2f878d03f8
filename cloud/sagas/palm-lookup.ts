// From a sealed signature to the person behind it: open the seal with the region's template key,
// identify against the shards, read the identity's card and loyalty fields. Shared by the sagas.
// A request that carries a confirmed step-up token is answered for the token's identity (once);
// an identification in the grey zone opens a step-up for the requesting device when the caller
// says which device and request kind it is, and is no match otherwise.
import { wipePalmProbe } from "../../core/palm-template.ts";
import { openSealedSignature, type TemplateKeyPair } from "../../protocol/index.ts";
import type { PalmIdentifier } from "../identification/palm-identifier.ts";
import { Effect } from "effect";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";
import type { IdentifiedPayer } from "./payment-saga.ts";
import type { StepUpChallenges, StepUpPurpose } from "./step-up-challenges.ts";

export type LookupOutcome =
  | { readonly kind: "identified"; readonly payer: IdentifiedPayer }
  | { readonly kind: "no-match" }
  | { readonly kind: "step-up"; readonly token: string };

export interface LookupRequest {
  readonly deviceId: string;
  readonly purpose: StepUpPurpose;
  readonly stepUpToken?: string | undefined;
}

export type PalmLookup = (sealedSignature: Uint8Array, request?: LookupRequest) => Promise<LookupOutcome>;

export const palmLookup =
  (deps: { identifier: PalmIdentifier; registry: IdentityRegistryShape; templateKeys: TemplateKeyPair; stepUps?: StepUpChallenges }): PalmLookup =>
  async (sealed, request) => {
    const payer = async (identityId: string): Promise<LookupOutcome> => {
      const profile = await Effect.runPromise(deps.registry.readProfile(identityId));
      return { kind: "identified", payer: { identityId, card: profile.card, loyaltyCard: profile.loyaltyCard } };
    };
    if (request?.stepUpToken !== undefined) {
      const identityId = deps.stepUps?.redeem(request.deviceId, request.stepUpToken, request.purpose);
      return identityId === undefined ? { kind: "no-match" } : payer(identityId);
    }
    const probe = await openSealedSignature(sealed, deps.templateKeys);
    try {
      const decision = await deps.identifier.identify(probe);
      if (decision.outcome === "match") return payer(decision.identityId);
      if (decision.outcome === "step-up" && request !== undefined && deps.stepUps !== undefined) {
        return { kind: "step-up", token: deps.stepUps.open(request.deviceId, request.purpose, decision.stepUp) };
      }
      return { kind: "no-match" };
    } finally {
      wipePalmProbe(probe);
    }
  };
