// What the privacy portal may read and do for a signed-in person. The node implements it over the
// registry, the payment ledger, the entitlement book and Deletions; the portal never sees
// a card number (only brand and last four) nor anything biometric.
export interface PortalCard {
  readonly brand: string;
  readonly last4: string;
  readonly expiryMonth: number;
  readonly expiryYear: number;
}

export interface PortalEntitlement {
  readonly description: string;
  readonly validUntil: number | undefined;
}

export interface PortalOpenTransaction {
  readonly reference: string;
  readonly merchant: string;
  readonly authorizedAt: number;
}

export interface PersonView {
  readonly enrolledAt: number;
  readonly lastSeenAt: number;
  readonly card: PortalCard | undefined;
  readonly loyaltyCard: string | undefined;
  readonly entitlements: readonly PortalEntitlement[];
  readonly openTransactions: readonly PortalOpenTransaction[];
  /** Deletion requested, waiting for open transactions to settle. */
  readonly deletionPending: boolean;
}

export type PortalDeletionOutcome = { readonly outcome: "deleted" } | { readonly outcome: "pending"; readonly openTransactions: number };

export interface PortalDirectory {
  identityByPhone(phone: string): string | undefined;
  view(identityId: string): PersonView | undefined;
  unlinkCard(identityId: string): Promise<void>;
  requestDeletion(identityId: string): Promise<PortalDeletionOutcome>;
}
