// The portal's view of one region: what the registry, the profile registers, the ledger and the
// entitlement book hold about a person, and the two things they may do there (unlink the card,
// delete everything). Reads decrypt with the person's own data key and return no card number,
// no token and nothing biometric.
import { Effect } from "effect";
import type { RegionServices } from "../session/region-services.ts";
import type { PersonView, PortalDeletionOutcome, PortalDirectory } from "./portal-directory.ts";

export class RegionPortalDirectory implements PortalDirectory {
  readonly #flows: RegionServices;

  constructor(flows: RegionServices) {
    this.#flows = flows;
  }

  identityByPhone(phone: string): string | undefined {
    return Effect.runSync(this.#flows.registry.findByPhone(phone));
  }

  view(identityId: string): PersonView | undefined {
    const row = Effect.runSync(this.#flows.registry.lifecycle(identityId));
    if (row === undefined) return undefined;
    const profile = Effect.runSync(this.#flows.registry.readProfile(identityId));
    // Recorded here, or asked in another region and announced to this one.
    const pending = this.#flows.deletions.isPending(identityId);
    return {
      enrolledAt: row.enrolledAtMs,
      lastSeenAt: row.lastSeenMs,
      card:
        profile.card === undefined
          ? undefined
          : { brand: profile.card.brand, last4: profile.card.last4, expiryMonth: profile.card.expiryMonth, expiryYear: profile.card.expiryYear },
      loyaltyCard: profile.loyaltyCard,
      entitlements: this.#flows.entitlements.forIdentity(identityId).map((e) => ({
        description: `${e.kind === "ticket" ? "Ticket" : "Badge"}: ${e.label} at ${e.venueId}${e.entriesAllowed !== null ? `, ${e.entriesAllowed - e.entriesUsed} of ${e.entriesAllowed} entries left` : ""}`,
        validUntil: e.validUntil,
      })),
      openTransactions: this.#flows.ledger
        .openFor(identityId)
        .map((p) => ({ reference: p.idempotencyKey.split(":").at(-1) ?? "", merchant: p.merchantId, authorizedAt: p.createdMs })),
      deletionPending: pending,
    };
  }

  async unlinkCard(identityId: string): Promise<void> {
    Effect.runSync(this.#flows.registry.clearProfileField(identityId, "card"));
  }

  async requestDeletion(identityId: string): Promise<PortalDeletionOutcome> {
    const outcome = await this.#flows.deletions.deleteOrDefer(identityId);
    return outcome.outcome === "pending" ? { outcome: "pending", openTransactions: outcome.openTransactions ?? 0 } : { outcome: "deleted" };
  }
}
