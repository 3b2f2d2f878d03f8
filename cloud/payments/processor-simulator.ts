// A local payment processor, run as its own HTTP service: a card vault (PANs live only here),
// card-on-file tokens, idempotent authorizations, capture, void, refund, merchant-bound single-use
// credentials for third-party checkouts, settlement batches, and injected latency, failures and
// declines. palmline talks to it only through ProcessorAdapter, as it would to a real acquirer.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { HttpRouter, HttpRoutes, json, RequestBodyNotJson, RequestBodyNotObject, RequestBodyTooLarge, type JsonObject } from "../../http/http-router.ts";

/** Test PANs ending in these digits are declined with the reason, like acquirers' test cards. */
export const DECLINING_SUFFIXES: Readonly<Record<string, string>> = {
  "0002": "card_declined",
  "9995": "insufficient_funds",
  "0069": "expired_card",
};

export interface ProcessorFaults {
  /** Added before every answer. */
  latencyMs: number;
  /** The next N authorizations fail with 503 after being recorded (the "did it go through?" case). */
  failAfterRecording: number;
  /** The next N requests of any kind fail with 503 before doing anything. */
  failBefore: number;
}

interface VaultedCard {
  readonly pan: string;
  readonly brand: string;
  readonly last4: string;
  readonly expiryMonth: number;
  readonly expiryYear: number;
}

export interface Authorization {
  readonly authorizationId: string;
  readonly idempotencyKey: string;
  readonly merchantId: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly status: "approved" | "declined";
  readonly declineCode?: string;
  capturedMinor: number;
  refundedMinor: number;
  state: "authorized" | "captured" | "voided" | "declined";
  settledIn?: string;
}

interface MerchantCredential {
  readonly paymentToken: string;
  readonly merchantId: string;
  /** The checkout it was issued for (base64url): redeeming needs it too. */
  readonly merchantNonce: string;
  readonly expiresAt: number;
  used: boolean;
}

const brandOf = (pan: string) => (pan.startsWith("4") ? "visa" : /^5[1-5]/.test(pan) ? "mastercard" : pan.startsWith("3") ? "amex" : "card");
const luhnValid = (pan: string) => {
  let sum = 0;
  for (let i = 0; i < pan.length; i++) {
    let d = Number(pan[pan.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
};
/** Far above any request the adapter sends. */
const MAX_BODY_BYTES = 64 * 1024;
const id = (prefix: string) => `${prefix}_${randomBytes(9).toString("base64url")}`;

export interface ProcessorSimulator {
  readonly url: string;
  readonly faults: ProcessorFaults;
  readonly authorizations: ReadonlyMap<string, Authorization>;
  close(): Promise<void>;
}

export const startProcessorSimulator = async (options: { host?: string; port?: number; now?: () => number } = {}): Promise<ProcessorSimulator> => {
  const now = options.now ?? Date.now;
  const faults: ProcessorFaults = { latencyMs: 0, failAfterRecording: 0, failBefore: 0 };
  const vault = new Map<string, VaultedCard>(); // single-use vault tokens from a card reader
  const cardsOnFile = new Map<string, VaultedCard>(); // reusable payment tokens
  const authorizations = new Map<string, Authorization>();
  const byIdempotencyKey = new Map<string, string>();
  const credentials = new Map<string, MerchantCredential>();
  const batches: { batchId: string; count: number; totalMinor: number }[] = [];
  /** Authorization requests that arrived, answered or not yet: fault tests time their kills on it. */
  const received = { authorizations: 0 };

  const operations: Record<string, (body: JsonObject, params: Readonly<Record<string, string>>) => [number, unknown]> = {
    "POST /v1/vault/cards": (b) => {
      const pan = String(b.pan ?? "").replace(/\s/g, "");
      const expiryMonth = Number(b.expiryMonth);
      const expiryYear = Number(b.expiryYear);
      if (!/^[0-9]{12,19}$/.test(pan) || !luhnValid(pan)) return [422, { error: "invalid_number" }];
      if (!(expiryMonth >= 1 && expiryMonth <= 12) || !(expiryYear >= 2000)) return [422, { error: "invalid_expiry" }];
      const vaultToken = id("vt");
      const card = { pan, brand: brandOf(pan), last4: pan.slice(-4), expiryMonth, expiryYear };
      vault.set(vaultToken, card);
      return [201, { vaultToken, brand: card.brand, last4: card.last4, expiryMonth, expiryYear }];
    },
    "POST /v1/payment-tokens": (b) => {
      const card = vault.get(String(b.vaultToken));
      if (card === undefined) return [404, { error: "unknown_vault_token" }];
      vault.delete(String(b.vaultToken));
      const paymentToken = id("pt");
      cardsOnFile.set(paymentToken, card);
      return [201, { paymentToken, brand: card.brand, last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear }];
    },
    "POST /v1/authorizations": (b) => {
      const key = String(b.idempotencyKey ?? "");
      if (key.length < 8) return [422, { error: "idempotency_key_required" }];
      const existing = byIdempotencyKey.get(key);
      if (existing !== undefined) return [200, view(authorizations.get(existing)!)];
      const card = cardsOnFile.get(String(b.paymentToken));
      if (card === undefined) return [404, { error: "unknown_payment_token" }];
      return [201, view(authorize(key, card, String(b.merchantId), Number(b.amountMinor), String(b.currency)))];
    },
    "GET /v1/authorizations/:id": (_b, { id: authId }) => {
      const a = authorizations.get(authId!);
      return a === undefined ? [404, { error: "unknown_authorization" }] : [200, view(a)];
    },
    "POST /v1/authorizations/:id/capture": (b, { id: authId }) => {
      const a = authorizations.get(authId!);
      if (a === undefined) return [404, { error: "unknown_authorization" }];
      if (a.state === "captured") return [200, view(a)];
      if (a.state !== "authorized") return [409, { error: `cannot capture a ${a.state} authorization` }];
      const amount = b.amountMinor === undefined ? a.amountMinor : Number(b.amountMinor);
      if (!(amount >= 0 && amount <= a.amountMinor)) return [422, { error: "amount_exceeds_authorization" }];
      a.capturedMinor = amount;
      a.state = "captured";
      return [200, view(a)];
    },
    "POST /v1/authorizations/:id/void": (_b, { id: authId }) => {
      const a = authorizations.get(authId!);
      if (a === undefined) return [404, { error: "unknown_authorization" }];
      if (a.state === "voided") return [200, view(a)];
      if (a.state !== "authorized") return [409, { error: `cannot void a ${a.state} authorization` }];
      a.state = "voided";
      return [200, view(a)];
    },
    "POST /v1/authorizations/:id/refund": (b, { id: authId }) => {
      const a = authorizations.get(authId!);
      if (a === undefined) return [404, { error: "unknown_authorization" }];
      if (a.state !== "captured") return [409, { error: "only captured payments can be refunded" }];
      const amount = b.amountMinor === undefined ? a.capturedMinor - a.refundedMinor : Number(b.amountMinor);
      if (!(amount > 0 && a.refundedMinor + amount <= a.capturedMinor)) return [422, { error: "refund_exceeds_capture" }];
      a.refundedMinor += amount;
      return [200, view(a)];
    },
    "POST /v1/merchant-credentials": (b) => {
      const card = cardsOnFile.get(String(b.paymentToken));
      if (card === undefined) return [404, { error: "unknown_payment_token" }];
      if (typeof b.merchantNonce !== "string" || b.merchantNonce.length === 0) return [422, { error: "merchant_nonce_required" }];
      const token = id("mc");
      credentials.set(token, {
        paymentToken: String(b.paymentToken),
        merchantId: String(b.merchantId),
        merchantNonce: b.merchantNonce,
        expiresAt: Number(b.expiresAt),
        used: false,
      });
      return [201, { token, merchantId: b.merchantId, expiresAt: b.expiresAt }];
    },
    // The third-party merchant redeems the credential with its own amount: palmline never sees it.
    "POST /v1/merchant-credentials/redeem": (b) => {
      const token = String(b.token);
      const c = credentials.get(token);
      if (c === undefined) return [404, { error: "unknown_credential" }];
      if (c.merchantId !== String(b.merchantId)) return [403, { error: "credential_bound_to_another_merchant" }];
      if (c.merchantNonce !== String(b.merchantNonce)) return [403, { error: "credential_bound_to_another_checkout" }];
      if (c.used) return [409, { error: "credential_already_used" }];
      if (now() > c.expiresAt) return [410, { error: "credential_expired" }];
      c.used = true;
      const card = cardsOnFile.get(c.paymentToken)!;
      return [201, view(authorize(`redeem:${token}`, card, c.merchantId, Number(b.amountMinor), String(b.currency)))];
    },
    "GET /v1/authorizations": () => [200, { authorizations: [...authorizations.values()].map(view) }],
    "GET /v1/stats": () => [200, { received: received.authorizations, authorizations: authorizations.size }],
    "POST /v1/settlements": () => {
      const batchId = id("batch");
      const captured = [...authorizations.values()].filter((a) => a.state === "captured" && a.settledIn === undefined);
      for (const a of captured) a.settledIn = batchId;
      const batch = { batchId, count: captured.length, totalMinor: captured.reduce((n, a) => n + a.capturedMinor - a.refundedMinor, 0) };
      batches.push(batch);
      return [201, batch];
    },
    "POST /v1/faults": (b) => {
      if (typeof b.latencyMs === "number") faults.latencyMs = b.latencyMs;
      if (typeof b.failAfterRecording === "number") faults.failAfterRecording = b.failAfterRecording;
      if (typeof b.failBefore === "number") faults.failBefore = b.failBefore;
      return [200, faults];
    },
  };

  const authorize = (key: string, card: VaultedCard, merchantId: string, amountMinor: number, currency: string): Authorization => {
    const declineCode = DECLINING_SUFFIXES[card.last4];
    const a: Authorization = {
      authorizationId: id("auth"),
      idempotencyKey: key,
      merchantId,
      amountMinor,
      currency,
      status: declineCode === undefined ? "approved" : "declined",
      ...(declineCode !== undefined ? { declineCode } : {}),
      capturedMinor: 0,
      refundedMinor: 0,
      state: declineCode === undefined ? "authorized" : "declined",
    };
    authorizations.set(a.authorizationId, a);
    byIdempotencyKey.set(key, a.authorizationId);
    return a;
  };
  const view = (a: Authorization) => ({ ...a });

  const routes = new HttpRoutes({
    maxBodyBytes: MAX_BODY_BYTES,
    failure: (error) => {
      if (error instanceof RequestBodyTooLarge) return json(413, { error: "body_too_large" });
      if (error instanceof RequestBodyNotJson || error instanceof RequestBodyNotObject) return json(400, { error: "invalid_json" });
      return json(500, { error: "internal_error" });
    },
  });
  for (const [pattern, operation] of Object.entries(operations)) {
    const [method, path] = pattern.split(" ") as ["GET" | "POST", string];
    // Reads and fault settings answer at once and never fail; injected faults hit the rest.
    const isControl = path.startsWith("/v1/faults") || method === "GET";
    const isAuthorization = pattern === "POST /v1/authorizations";
    routes.on(method, path, async (request) => {
      const body = await request.body();
      if (isAuthorization) received.authorizations++;
      await delay(isControl ? 0 : faults.latencyMs);
      if (!isControl && faults.failBefore > 0) {
        faults.failBefore--;
        return json(503, { error: "processor_unavailable" });
      }
      const [status, answer] = operation(body, request.params);
      if (isAuthorization && faults.failAfterRecording > 0) {
        faults.failAfterRecording--;
        return json(503, { error: "processor_unavailable" });
      }
      return json(status, answer);
    });
  }
  const http = createServer(new HttpRouter({ notFound: json(404, { error: "not_found" }) }).mount(routes).handle);
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve()));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    authorizations,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
};
