// The kiosk hands a card straight to the processor's vault over TLS in production (HTTP to the
// local simulator here) and gets back a single-use vault token plus what may be shown: brand,
// last 4 digits, expiry. The PAN never goes to the region.
export interface VaultedCard {
  readonly vaultToken: string;
  readonly brand: string;
  readonly last4: string;
  readonly expiryMonth: number;
  readonly expiryYear: number;
}

export class CardVaultClient {
  readonly #baseUrl: string;

  constructor(processorUrl: string) {
    this.#baseUrl = processorUrl.replace(/\/$/, "");
  }

  async vault(card: { pan: string; expiryMonth: number; expiryYear: number }, signal?: AbortSignal): Promise<VaultedCard> {
    const response = await fetch(`${this.#baseUrl}/v1/vault/cards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(card),
      ...(signal !== undefined ? { signal } : {}),
    });
    const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw new Error(`card not accepted (${typeof answer.error === "string" ? answer.error : response.status})`);
    return {
      vaultToken: String(answer.vaultToken),
      brand: String(answer.brand),
      last4: String(answer.last4),
      expiryMonth: Number(answer.expiryMonth),
      expiryYear: Number(answer.expiryYear),
    };
  }
}
