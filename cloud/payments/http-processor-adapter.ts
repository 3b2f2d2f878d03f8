// ProcessorAdapter over the processor's JSON HTTP API (the local simulator speaks it).
import { ProcessorRefused, ProcessorUnavailable, type CardOnFile, type ProcessorAdapter, type ProcessorAuthorization } from "./processor-adapter.ts";

export class HttpProcessorAdapter implements ProcessorAdapter {
  readonly #baseUrl: string;

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl.replace(/\/$/, "");
  }

  async tokenizeCard(vaultToken: string, signal?: AbortSignal): Promise<CardOnFile> {
    const card = await this.#post("/v1/payment-tokens", { vaultToken }, signal);
    if (typeof card.paymentToken !== "string" || typeof card.last4 !== "string") throw new ProcessorRefused({ code: "malformed_token_answer" });
    return {
      paymentToken: card.paymentToken,
      brand: String(card.brand),
      last4: card.last4,
      expiryMonth: Number(card.expiryMonth),
      expiryYear: Number(card.expiryYear),
    };
  }

  async authorize(
    request: { idempotencyKey: string; paymentToken: string; merchantId: string; amountMinor: number; currency: string },
    signal?: AbortSignal,
  ): Promise<ProcessorAuthorization> {
    const a = await this.#post("/v1/authorizations", request, signal);
    const status = a.status === "approved" ? "approved" : "declined";
    return {
      authorizationId: String(a.authorizationId),
      status,
      ...(typeof a.declineCode === "string" ? { declineCode: a.declineCode } : {}),
    };
  }

  async capture(authorizationId: string, amountMinor?: number): Promise<void> {
    await this.#post(`/v1/authorizations/${encodeURIComponent(authorizationId)}/capture`, amountMinor === undefined ? {} : { amountMinor });
  }

  async void(authorizationId: string): Promise<void> {
    await this.#post(`/v1/authorizations/${encodeURIComponent(authorizationId)}/void`, {});
  }

  async refund(authorizationId: string, amountMinor?: number): Promise<void> {
    await this.#post(`/v1/authorizations/${encodeURIComponent(authorizationId)}/refund`, amountMinor === undefined ? {} : { amountMinor });
  }

  async issueMerchantCredential(request: { paymentToken: string; merchantId: string; merchantNonce: string; expiresAt: number }): Promise<{ token: string }> {
    const c = await this.#post("/v1/merchant-credentials", request);
    return { token: String(c.token) };
  }

  async #post(path: string, body: unknown, signal?: AbortSignal): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(`${this.#baseUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        ...(signal !== undefined ? { signal } : {}),
      });
    } catch (error) {
      throw new ProcessorUnavailable({ reason: error instanceof Error ? error.message : String(error) });
    }
    const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status >= 500) throw new ProcessorUnavailable({ reason: `HTTP ${response.status}` });
    if (response.status >= 400) throw new ProcessorRefused({ code: typeof answer.error === "string" ? answer.error : `HTTP ${response.status}` });
    return answer;
  }
}
