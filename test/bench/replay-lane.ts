// A checkout lane of the checkout bench that replays its scanner's captures, so the node is timed
// alone: per checkout it asks its region for a fresh capture challenge, seals a probe its scanner
// extracted beforehand to it (a capture is good for one request only), sends the first-party
// authorization and, once approved, captures the payment: the messages a CheckoutLane sends, on a
// provisioned device's own encrypted link, without the image work that a real scanner does on
// its own hardware.
import { randomUUID } from "node:crypto";
import { decodePalmProbe, wipePalmProbe } from "../../core/palm-template.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { sealSignature } from "../../protocol/index.ts";

export interface ReplayedCheckout {
  readonly outcome: string;
  /** Sealed authorization sent -> answer received at the lane. */
  readonly nodeMs: number;
  /** The capture challenge's round trip, before the capture is sealed. */
  readonly challengeMs: number;
}

export class ReplayLane {
  readonly #link: RegionLink;
  readonly #merchantId: string;

  private constructor(link: RegionLink, merchantId: string) {
    this.#link = link;
    this.#merchantId = merchantId;
  }

  static async connect(options: {
    url: string;
    identityPublicKey: Uint8Array;
    name: string;
    provisioningCode: string;
    merchantId: string;
  }): Promise<ReplayLane> {
    const credentials = await createDeviceCredentials({ regionUrl: options.url, pinnedRegionKey: options.identityPublicKey, deviceName: options.name });
    // Past the node's knee answers take seconds: the bench measures them rather than timing out.
    const link = await RegionLink.connect({ credentials, provisioningCode: options.provisioningCode, requestTimeoutMs: 60_000 });
    return new ReplayLane(link, options.merchantId);
  }

  async checkout(encodedProbe: Uint8Array, amountMinor: number): Promise<ReplayedCheckout> {
    const asked = performance.now();
    const to = await this.#link.captureSeal();
    const challengeMs = performance.now() - asked;
    const probe = decodePalmProbe(encodedProbe);
    const sealedSignature = await sealSignature(probe, to);
    wipePalmProbe(probe);
    const sent = performance.now();
    const answer = await this.#link.authorize({
      idempotencyKey: `co-${randomUUID()}`,
      merchantId: this.#merchantId,
      amount: { amountMinor, currency: "EUR" },
      sealedSignature,
    });
    const nodeMs = performance.now() - sent;
    if (answer.outcome === "approved" && answer.authorizationId !== undefined) {
      const captured = await this.#link.settle({ authorizationId: answer.authorizationId, action: "capture" });
      if (captured.outcome !== "captured") return { outcome: `not-captured (${captured.reason ?? captured.outcome})`, nodeMs, challengeMs };
    }
    return { outcome: answer.outcome, nodeMs, challengeMs };
  }

  close(): void {
    this.#link.close();
  }
}
