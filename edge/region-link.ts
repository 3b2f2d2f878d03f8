// A scanner's secure link to its region: a WebSocket, the secure-channel handshake against the
// pinned region key, provisioning with a one-time code the first time, then request/response by
// request id. Every request has a deadline; a closed link fails what is still waiting. A request
// the region answers with an error fails with its wire code (protocol/error-codes.ts), the only
// thing the scanner decides on.
import { WebSocket } from "ws";
import { Data } from "effect";
import { systemClock, type Clock } from "../core/clock.ts";
import { newRequestId } from "../core/ids.ts";
import { PendingReplies } from "../core/pending-replies.ts";
import { ConnectionClosed, openInitiatorChannel, type CaptureSeal, type SecureChannel, type WireErrorCode, type WireMessage } from "../protocol/index.ts";
import type { DeviceCredentials } from "./device-credentials.ts";

export class RegionUnavailable extends Data.TaggedError("RegionUnavailable")<{ readonly reason: string }> {
  override get message() {
    return `region unavailable: ${this.reason}`;
  }
}

/** The region answered with an error: `code` says why, from the protocol's closed list. */
export class RegionRefused extends Data.TaggedError("RegionRefused")<{ readonly code: WireErrorCode; readonly reason: string }> {
  override get message() {
    return `region refused the request (${this.code}): ${this.reason}`;
  }
}

/** The region turned the one-time code down (provision.result refused). */
export class ProvisioningRefused extends Data.TaggedError("ProvisioningRefused")<{ readonly reason: string }> {
  override get message() {
    return `provisioning refused: ${this.reason}`;
  }
}

/** The region answered a request with a message of another kind than the request's result. */
export class UnexpectedReply extends Data.TaggedError("UnexpectedReply")<{ readonly expected: string; readonly received: string }> {
  override get message() {
    return `expected ${this.expected}, got ${this.received}`;
  }
}

type Reply<T extends WireMessage["type"]> = Extract<WireMessage, { type: T }>;

export interface RegionLinkOptions {
  readonly credentials: DeviceCredentials;
  /** Needed only the first time, while the region does not know this device yet. */
  readonly provisioningCode?: string;
  readonly clock?: Clock;
  readonly requestTimeoutMs?: number;
  /** Sees every message this device sends, just before it is encrypted (tests, the inspector). */
  readonly tap?: (message: WireMessage) => void;
  /**
   * The CA (PEM) that signed a wss:// region's TLS certificate, when the system does not trust it
   * (NODE_EXTRA_CA_CERTS does the same for the whole process). TLS only hides the session's
   * metadata: the region is still authenticated by its pinned key inside.
   */
  readonly tlsCa?: string | Buffer;
}

export class RegionLink {
  readonly deviceId: string;
  readonly templatePublicKey: Uint8Array;
  /** Resolves with the close code and reason once the session has ended, from either side. */
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;
  readonly #channel: SecureChannel;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #replies = new PendingReplies<string, WireMessage>();
  /** Heartbeats by the time they were sent, which the ack echoes. */
  readonly #heartbeats = new PendingReplies<number, void>();
  readonly #tap: ((message: WireMessage) => void) | undefined;
  #closed: { code: number; reason: string } | undefined;

  private constructor(channel: SecureChannel, ready: Reply<"session.ready">, clock: Clock, timeoutMs: number, tap?: (message: WireMessage) => void) {
    this.#channel = channel;
    this.#tap = tap;
    this.deviceId = ready.deviceId;
    this.templatePublicKey = ready.templatePublicKey;
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.closed = channel.closed;
    channel.onMessage((m) => this.#dispatch(m));
    void channel.closed.then((closed) => {
      this.#closed = closed;
      // A heartbeat still waiting fails at its deadline: the agent learns of the close from `closed`.
      this.#replies.rejectAll(new RegionUnavailable({ reason: `link closed (${closed.code} ${closed.reason})` }));
    });
  }

  /**
   * Dials the region and sets the session up. Rejects with RegionUnavailable when the region
   * cannot be reached or does not answer, RegionRefused with code NotProvisioned when the device
   * is new and has no one-time code, ProvisioningRefused when the region turns the code down, and a
   * ChannelError (whose `closeCode` says why, e.g. CloseCode.DeviceRevoked) when the session
   * ends during the handshake or the setup.
   */
  static async connect(options: RegionLinkOptions): Promise<RegionLink> {
    const clock = options.clock ?? systemClock;
    const timeoutMs = options.requestTimeoutMs ?? 5_000;
    const url = options.credentials.regionUrl;
    const socket = new WebSocket(url, options.tlsCa !== undefined ? { ca: options.tlsCa } : {});
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", (e) => {
        // A TLS port drops a plain ws:// upgrade without an HTTP answer: say what to try.
        const hint = url.startsWith("ws://") && /hang up|ECONNRESET/.test(e.message) ? ` (if the region serves TLS, dial wss:// instead of ${url})` : "";
        reject(new RegionUnavailable({ reason: `${e.message}${hint}` }));
      });
    });
    const channel = await openInitiatorChannel(socket, {
      identity: options.credentials.identity,
      pinnedResponderKey: options.credentials.pinnedRegionKey,
      clock,
    });
    // The region speaks first: session.ready for a known device, nothing for a new one.
    const ready = await new Promise<Reply<"session.ready">>((resolve, reject) => {
      const timer = clock.setTimeout(() => reject(new RegionUnavailable({ reason: "no session.ready from the region" })), timeoutMs);
      let provisioningSent = false;
      const sendProvisioning = () => {
        if (provisioningSent) return;
        provisioningSent = true;
        if (options.provisioningCode === undefined) {
          clock.clearTimeout(timer);
          reject(new RegionRefused({ code: "NotProvisioned", reason: "this device is not provisioned and has no one-time code" }));
          channel.close(1000, "not provisioned");
          return;
        }
        channel.send({
          type: "provision.request",
          requestId: newRequestId(),
          oneTimeCode: options.provisioningCode,
          deviceName: options.credentials.deviceName,
        });
      };
      channel.onMessage((m) => {
        if (m.type === "session.ready") {
          clock.clearTimeout(timer);
          resolve(m);
        } else if (m.type === "provision.result" && m.outcome === "refused") {
          clock.clearTimeout(timer);
          reject(new ProvisioningRefused({ reason: m.reason ?? "refused" }));
          channel.close(1000, "provisioning refused");
        } else if (m.type === "error" && m.code === "NotProvisioned") sendProvisioning();
      });
      void channel.closed.then((c) => {
        clock.clearTimeout(timer);
        reject(c.error ?? new ConnectionClosed({ closeCode: c.code, reason: c.reason }));
      });
      // A provisioned device hears session.ready at once; a new one asks with its code.
      if (options.provisioningCode !== undefined) sendProvisioning();
      else channel.send({ type: "heartbeat", sentAt: clock.now() });
    });
    return new RegionLink(channel, ready, clock, timeoutMs, options.tap);
  }

  get isOpen(): boolean {
    return this.#closed === undefined;
  }

  /**
   * What the next palm capture is sealed to: the region's template key and a fresh single-use
   * challenge of this session. A capture is good for one request on this link only.
   */
  async captureSeal(): Promise<CaptureSeal> {
    const { challenge } = await this.#request({ type: "capture.challenge.request", requestId: newRequestId() }, "capture.challenge.result");
    return { templatePublicKey: this.templatePublicKey, challenge };
  }

  /** `stepUpToken`: a step-up the region confirmed, answered for that identity once. */
  identify(sealedSignature: Uint8Array, stepUpToken?: string): Promise<Reply<"identify.result">> {
    return this.#request(
      { type: "identify.request", requestId: newRequestId(), sealedSignature, ...(stepUpToken !== undefined ? { stepUpToken } : {}) },
      "identify.result",
    );
  }

  /** The last four digits of the person's phone, answering the step-up the region asked for. */
  submitStepUpDigits(stepUpToken: string, digits: string): Promise<Reply<"stepup.digits.result">> {
    return this.#request({ type: "stepup.digits.request", requestId: newRequestId(), stepUpToken, digits }, "stepup.digits.result");
  }

  enroll(
    sealedSignatures: readonly Uint8Array[],
    extras: Pick<Extract<WireMessage, { type: "enroll.request" }>, "phone" | "card" | "loyaltyCard"> = {},
  ): Promise<Reply<"enroll.result">> {
    return this.#request({ type: "enroll.request", requestId: newRequestId(), sealedSignatures: [...sealedSignatures], ...extras }, "enroll.result");
  }

  verifyPhone(number: string): Promise<Reply<"phone.verify.result">> {
    return this.#request({ type: "phone.verify.request", requestId: newRequestId(), number }, "phone.verify.result");
  }

  /** First-party checkout; the same idempotency key on a retry never charges twice. */
  authorize(request: Omit<Extract<WireMessage, { type: "payment.authorize.request" }>, "type" | "requestId">): Promise<Reply<"payment.authorize.result">> {
    return this.#request({ type: "payment.authorize.request", requestId: newRequestId(), ...request }, "payment.authorize.result");
  }

  settle(request: Omit<Extract<WireMessage, { type: "payment.settle.request" }>, "type" | "requestId">): Promise<Reply<"payment.settle.result">> {
    return this.#request({ type: "payment.settle.request", requestId: newRequestId(), ...request }, "payment.settle.result");
  }

  /** Third-party checkout: no amount, no basket; a credential bound to the merchant comes back. */
  requestCredential(
    request: Omit<Extract<WireMessage, { type: "payment.credential.request" }>, "type" | "requestId">,
  ): Promise<Reply<"payment.credential.result">> {
    return this.#request({ type: "payment.credential.request", requestId: newRequestId(), ...request }, "payment.credential.result");
  }

  enterGate(request: Omit<Extract<WireMessage, { type: "gate.entry.request" }>, "type" | "requestId">): Promise<Reply<"gate.entry.result">> {
    return this.#request({ type: "gate.entry.request", requestId: newRequestId(), ...request }, "gate.entry.result");
  }

  reportPassage(report: Omit<Extract<WireMessage, { type: "gate.passage" }>, "type">): void {
    if (this.#closed === undefined) this.#send({ type: "gate.passage", ...report });
  }

  requestDeletion(sealedSignature: Uint8Array): Promise<Reply<"deletion.result">> {
    return this.#request({ type: "deletion.request", requestId: newRequestId(), sealedSignature, confirmed: true }, "deletion.result");
  }

  /** Round trip of a heartbeat, in ms on the link's clock; rejects when no ack comes in time. */
  heartbeat(): Promise<number> {
    if (this.#closed !== undefined) return Promise.reject(new RegionUnavailable({ reason: "link is closed" }));
    const sentAt = this.#clock.now();
    const acked = this.#heartbeats.expect(
      sentAt,
      this.#deadline(() => new RegionUnavailable({ reason: "no heartbeat ack" })),
    );
    this.#sendAwaited({ type: "heartbeat", sentAt }, (error) => this.#heartbeats.reject(sentAt, error));
    return acked.then(() => this.#clock.now() - sentAt);
  }

  close(): void {
    this.#channel.close(1000, "device shutting down");
  }

  #request<T extends WireMessage["type"]>(message: WireMessage & { requestId: string }, expect: T): Promise<Reply<T>> {
    if (this.#closed !== undefined) return Promise.reject(new RegionUnavailable({ reason: "link is closed" }));
    const answered = this.#replies.expect(
      message.requestId,
      this.#deadline(() => new RegionUnavailable({ reason: `no answer to ${message.type} within ${this.#timeoutMs} ms` })),
    );
    this.#sendAwaited(message, (error) => this.#replies.reject(message.requestId, error));
    return answered.then((reply) => {
      if (reply.type === expect) return reply as Reply<T>;
      if (reply.type === "error") throw new RegionRefused({ code: reply.code, reason: reply.message });
      throw new UnexpectedReply({ expected: expect, received: reply.type });
    });
  }

  #deadline(failure: () => RegionUnavailable) {
    return { clock: this.#clock, afterMs: this.#timeoutMs, failure };
  }

  /** Sends a message a caller awaits the reply to; one that cannot be sent (e.g. breaks the schema) fails that caller instead. */
  #sendAwaited(message: WireMessage, fail: (error: unknown) => void): void {
    try {
      this.#send(message);
    } catch (error) {
      fail(error);
    }
  }

  #send(message: WireMessage): void {
    this.#tap?.(message);
    this.#channel.send(message);
  }

  #dispatch(message: WireMessage): void {
    if (message.type === "heartbeat.ack") {
      this.#heartbeats.resolve(message.sentAt, undefined);
      return;
    }
    const requestId = "requestId" in message ? message.requestId : undefined;
    if (typeof requestId === "string") this.#replies.resolve(requestId, message);
  }
}
