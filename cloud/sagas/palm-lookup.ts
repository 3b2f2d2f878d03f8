// From a sealed signature to the person behind it: open the seal with the region's template key,
// identify against the shards, read the identity's card and loyalty fields. Shared by the sagas.
import { openSealedSignature, type TemplateKeyPair } from "../../protocol/index.ts";
import type { PalmIdentifier } from "../identification/palm-identifier.ts";
import type { IdentityProfiles } from "../registry/identity-profile.ts";
import type { IdentifiedPayer } from "./payment-saga.ts";

export type PalmLookup = (sealedSignature: Uint8Array) => Promise<IdentifiedPayer | undefined>;

export const palmLookup =
  (deps: { identifier: PalmIdentifier; profiles: IdentityProfiles; templateKeys: TemplateKeyPair }): PalmLookup =>
  async (sealed) => {
    const probe = await openSealedSignature(sealed, deps.templateKeys);
    try {
      const decision = await deps.identifier.identify(probe);
      if (decision.outcome !== "match") return undefined;
      const profile = deps.profiles.read(decision.identityId);
      return { identityId: decision.identityId, card: profile.card, loyaltyCard: profile.loyaltyCard };
    } finally {
      probe.fill(0);
    }
  };
