// What palmline needs from a payment processor. One implementation today (the HTTP adapter to
// the local simulator); a real acquirer gets another. palmline hands over tokens, never PANs.
import { Data } from "effect";

export class ProcessorUnavailable extends Data.TaggedError("ProcessorUnavailable")<{ readonly reason: string }> {
  override get message() {
    return `payment processor unavailable: ${this.reason}`;
  }
}

export class ProcessorRefused extends Data.TaggedError("ProcessorRefused")<{ readonly code: string }> {
  override get message() {
    return `payment processor refused: ${this.code}`;
  }
}

export interface CardOnFile {
  readonly paymentToken: string;
  readonly brand: string;
  readonly last4: string;
  readonly expiryMonth: number;
  readonly expiryYear: number;
}

export interface ProcessorAuthorization {
  readonly authorizationId: string;
  readonly status: "approved" | "declined";
  readonly declineCode?: string;
}

export interface ProcessorAdapter {
  /** Exchanges the single-use vault token a card reader got for a reusable card-on-file token. */
  tokenizeCard(vaultToken: string, signal?: AbortSignal): Promise<CardOnFile>;
  /** Idempotent by key: the same key never authorizes twice, it returns the first answer. */
  authorize(
    request: { idempotencyKey: string; paymentToken: string; merchantId: string; amountMinor: number; currency: string },
    signal?: AbortSignal,
  ): Promise<ProcessorAuthorization>;
  capture(authorizationId: string, amountMinor?: number): Promise<void>;
  void(authorizationId: string): Promise<void>;
  refund(authorizationId: string, amountMinor?: number): Promise<void>;
  /**
   * A single-use credential for a third-party merchant: it names no amount, and redeems only with
   * the merchant's id and the checkout's nonce (base64url).
   */
  issueMerchantCredential(request: { paymentToken: string; merchantId: string; merchantNonce: string; expiresAt: number }): Promise<{ token: string }>;
}
