// A SecureChannel over one ws WebSocket. It owns the socket's listeners from the first moment,
// so frames that arrive while the handshake is still being computed are queued, not lost, and
// every way the session can end (peer close, network, timeout, bad frame, local close) goes
// through one path that resolves `closed` exactly once.
import { Result, Schema } from "effect";
import type { RawData, WebSocket } from "ws";
import { systemClock, type Clock, type TimerHandle } from "../../core/clock.ts";
import { decodeMessageResult, encodeMessage, MAX_MESSAGE_BYTES } from "../codec.ts";
import type { CloseCodeValue } from "../close-codes.ts";
import {
  ConnectionClosed,
  HandshakeTimeout,
  InternalFailure,
  MalformedMessage,
  OversizedFrame,
  RateLimited,
  toChannelError,
  UnexpectedMessage,
  type ChannelError,
} from "../errors.ts";
import { MESSAGE_SINCE_VERSION, WireMessage } from "../messages/index.ts";
import type { Sodium } from "../sodium.ts";
import { describeRateLimit, TokenBucket, type RateLimit } from "../token-bucket.ts";
import { DEFAULT_REKEY_POLICY, FrameOpener, FrameSealer, type OpenedFrame, type TransportKind } from "./frame-cipher.ts";
import { FrameKind, TRANSPORT_OVERHEAD_BYTES } from "./frame-layout.ts";
import type { HandshakeResult } from "./handshake-result.ts";
import type { AdmittedPeer, ChannelClosure, ChannelOptions, SecureChannel } from "./secure-channel.ts";

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_FRAME_BYTES = MAX_MESSAGE_BYTES + TRANSPORT_OVERHEAD_BYTES;
export const DEFAULT_INBOUND_RATE_LIMIT: RateLimit = Object.freeze({ capacity: 1000, refillPerSecond: 500 });
export const DEFAULT_CLOSE_GRACE_MS = 2_000;
/** Messages held for a channel whose owner has not registered a handler yet. */
const MAX_UNHANDLED_MESSAGES = 1024;
/** Frames that may arrive while this side is still computing its handshake step. */
const MAX_HANDSHAKE_BACKLOG = 256;
/** RFC 6455 limits a close reason to 123 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 123;
const WS_OPEN = 1;
const WS_CONNECTING = 0;
const WS_CLOSED = 3;

type Phase = "handshake" | "open" | "closed";
type MessageHandler = (message: WireMessage) => void;

const validateOutgoing = Schema.decodeUnknownResult(WireMessage);

export class WebSocketChannel implements SecureChannel {
  readonly closed: Promise<ChannelClosure>;
  readonly #socket: WebSocket;
  readonly #clock: Clock;
  readonly #options: ChannelOptions;
  readonly #maxFrameBytes: number;
  #phase: Phase = "handshake";
  #closure: ChannelClosure | undefined;
  #resolveClosed: (closure: ChannelClosure) => void = () => {};
  #handshakeTimer: TimerHandle | undefined;
  #graceTimer: TimerHandle | undefined;
  #backlog: Uint8Array[] = [];
  #waiter: { resolve: (frame: Uint8Array) => void; reject: (error: ChannelError) => void } | undefined;
  #sealer: FrameSealer | undefined;
  #opener: FrameOpener | undefined;
  #peerPublicKey: Uint8Array = new Uint8Array(0);
  #protocolVersion = 0;
  #admission: AdmittedPeer = { kind: "admit" };
  #buckets: readonly TokenBucket[] = [];
  readonly #handlers = new Set<MessageHandler>();
  #unhandled: WireMessage[] = [];
  #flushScheduled = false;

  /** Attaches to the socket at once (before any await), so no early frame is missed. */
  constructor(socket: WebSocket, options: ChannelOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    socket.binaryType = "nodebuffer";
    socket.on("message", this.#onSocketMessage);
    socket.on("close", this.#onSocketClose);
    // ws emits "error" before "close"; without a listener it would be an uncaught exception.
    socket.on("error", () => {});
    const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.#handshakeTimer = this.#clock.setTimeout(() => {
      this.#handshakeTimer = undefined;
      if (this.#phase === "handshake") this.fail(new HandshakeTimeout({ afterMs: timeoutMs }));
    }, timeoutMs);
    if (socket.readyState !== WS_OPEN && socket.readyState !== WS_CONNECTING) {
      this.#end(new ConnectionClosed({ closeCode: 1006, reason: "socket already closed" }), "peer", 1006, "socket already closed");
    }
  }

  get peerPublicKey(): Uint8Array {
    return this.#peerPublicKey;
  }

  get protocolVersion(): number {
    return this.#protocolVersion;
  }

  get admission(): AdmittedPeer {
    return this.#admission;
  }

  get isOpen(): boolean {
    return this.#phase === "open";
  }

  /** How many times this side has rotated its sending key (for metrics). */
  get rekeys(): number {
    return this.#sealer?.rekeys ?? 0;
  }

  send(message: WireMessage): void {
    if (this.#phase !== "open") return;
    if (MESSAGE_SINCE_VERSION[message.type] > this.#protocolVersion) {
      throw new UnexpectedMessage({ reason: `${message.type} needs protocol version ${MESSAGE_SINCE_VERSION[message.type]}` });
    }
    const valid = validateOutgoing(message);
    if (Result.isFailure(valid)) throw new MalformedMessage({ reason: `refusing to send ${message.type}: ${valid.failure.message}` });
    const plaintext = encodeMessage(message);
    if (plaintext.byteLength + TRANSPORT_OVERHEAD_BYTES > this.#maxFrameBytes) {
      throw new OversizedFrame({ byteLength: plaintext.byteLength + TRANSPORT_OVERHEAD_BYTES, limit: this.#maxFrameBytes });
    }
    this.sendSealed(FrameKind.Data, plaintext);
  }

  onMessage(handler: MessageHandler): () => void {
    this.#handlers.add(handler);
    if (this.#unhandled.length > 0) this.#scheduleFlush();
    return () => {
      this.#handlers.delete(handler);
    };
  }

  close(code: CloseCodeValue, reason: string): void {
    this.#end(undefined, "local", code, reason);
  }

  // ---- used by the initiator and responder while they run the handshake ----

  /** Resolves once the socket can send (an initiator's socket may still be connecting). */
  socketOpen(): Promise<void> {
    if (this.#phase === "closed") return Promise.reject(this.#endError());
    if (this.#socket.readyState === WS_OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#socket.once("open", () => resolve());
      void this.closed.then(() => reject(this.#endError()));
    });
  }

  /** The next frame from the peer during the handshake; rejects with the error that ended it. */
  nextHandshakeFrame(): Promise<Uint8Array> {
    if (this.#phase !== "handshake") return Promise.reject(this.#endError());
    const next = this.#backlog.shift();
    if (next !== undefined) return Promise.resolve(next);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Throws the error that ended the session if the handshake can no longer continue. */
  assertHandshaking(): void {
    if (this.#phase !== "handshake") throw this.#endError();
  }

  sendRaw(frame: Uint8Array): void {
    this.assertHandshaking();
    this.#socket.send(frame);
  }

  installKeys(sodium: Sodium, result: HandshakeResult): void {
    this.assertHandshaking();
    this.#sealer = new FrameSealer(sodium, result.sendKey, this.#clock, this.#options.rekey ?? DEFAULT_REKEY_POLICY);
    this.#opener = new FrameOpener(sodium, result.receiveKey, this.#maxFrameBytes);
    this.#peerPublicKey = result.peerPublicKey;
    this.#protocolVersion = result.protocolVersion;
    const own = new TokenBucket(this.#clock, this.#options.inboundRateLimit ?? DEFAULT_INBOUND_RATE_LIMIT);
    this.#buckets = [own, ...(this.#options.sharedRateLimits?.(result.peerPublicKey) ?? [])];
  }

  /** Opens a transport frame during the handshake (the responder's Accept). Throws ChannelError. */
  openHandshakeFrame(frame: Uint8Array): OpenedFrame {
    if (this.#opener === undefined) throw new UnexpectedMessage({ reason: "transport frame before keys" });
    return this.#opener.open(frame);
  }

  sendSealed(kind: TransportKind, plaintext: Uint8Array): void {
    const sealer = this.#sealer;
    if (sealer === undefined || this.#phase === "closed") return;
    if (sealer.needsRekey()) this.#socket.send(sealer.sealRekey());
    this.#socket.send(sealer.seal(kind, plaintext));
  }

  /** Ends the handshake phase; frames that queued up meanwhile are processed in order. */
  open(admission: AdmittedPeer): void {
    this.assertHandshaking();
    this.#admission = admission;
    this.#phase = "open";
    this.#clearHandshakeTimer();
    const backlog = this.#backlog;
    this.#backlog = [];
    for (const frame of backlog) {
      if (this.#phase !== "open") return;
      this.#receive(frame);
    }
  }

  /** Ends the session because of `error`, closing with its close code. */
  fail(error: ChannelError): void {
    this.#end(error, "local", error.closeCode, error.message);
  }

  // ---- internals ----

  readonly #onSocketMessage = (data: RawData, isBinary: boolean): void => {
    if (this.#phase === "closed") return;
    if (!isBinary) return this.fail(new MalformedMessage({ reason: "text WebSocket message" }));
    const frame = toBytes(data);
    if (frame.byteLength > this.#maxFrameBytes) {
      return this.fail(new OversizedFrame({ byteLength: frame.byteLength, limit: this.#maxFrameBytes }));
    }
    if (this.#phase === "open") return this.#receive(frame);
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve(frame);
      return;
    }
    if (this.#backlog.length >= MAX_HANDSHAKE_BACKLOG) {
      return this.fail(new RateLimited({ limit: `${MAX_HANDSHAKE_BACKLOG} frames during the handshake` }));
    }
    this.#backlog.push(frame);
  };

  readonly #onSocketClose = (code: number, reason: Buffer): void => {
    if (this.#graceTimer !== undefined) this.#clock.clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    const text = reason.toString("utf8");
    this.#end(new ConnectionClosed({ closeCode: code, reason: text }), "peer", code, text);
  };

  #receive(frame: Uint8Array): void {
    for (const bucket of this.#buckets) {
      if (!bucket.tryTake()) return this.fail(new RateLimited({ limit: describeRateLimit(bucket.limit) }));
    }
    let opened: OpenedFrame;
    try {
      opened = this.#opener!.open(frame);
    } catch (cause) {
      return this.fail(toChannelError(cause, "opening a frame"));
    }
    if (opened.kind === FrameKind.Rekey) return;
    if (opened.kind !== FrameKind.Data) return this.fail(new UnexpectedMessage({ reason: "accept frame after the handshake" }));
    const decoded = decodeMessageResult(opened.plaintext);
    if (Result.isFailure(decoded)) return this.fail(decoded.failure);
    const message = decoded.success;
    if (MESSAGE_SINCE_VERSION[message.type] > this.#protocolVersion) {
      return this.fail(new UnexpectedMessage({ reason: `${message.type} is not part of protocol version ${this.#protocolVersion}` }));
    }
    this.#deliver(message);
  }

  #deliver(message: WireMessage): void {
    if (this.#handlers.size === 0 || this.#unhandled.length > 0) {
      if (this.#unhandled.length >= MAX_UNHANDLED_MESSAGES) {
        return this.fail(new RateLimited({ limit: `${MAX_UNHANDLED_MESSAGES} messages waiting for a handler` }));
      }
      this.#unhandled.push(message);
      if (this.#handlers.size > 0) this.#scheduleFlush();
      return;
    }
    for (const handler of this.#handlers) {
      if (this.#phase !== "open") return;
      try {
        handler(message);
      } catch (cause) {
        return this.fail(new InternalFailure({ during: `handling ${message.type}`, cause }));
      }
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (this.#handlers.size === 0) return;
      const queued = this.#unhandled;
      this.#unhandled = [];
      for (const message of queued) {
        if (this.#phase !== "open") return;
        this.#deliver(message);
      }
    });
  }

  #endError(): ChannelError {
    const closure = this.#closure;
    if (closure?.error !== undefined) return closure.error;
    return new ConnectionClosed({ closeCode: closure?.code ?? 1006, reason: closure?.reason ?? "" });
  }

  #end(error: ChannelError | undefined, initiatedBy: "local" | "peer", code: number, reason: string): void {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    this.#clearHandshakeTimer();
    const closure: ChannelClosure = error === undefined ? { code, reason, initiatedBy } : { code, reason, initiatedBy, error };
    this.#closure = closure;
    this.#handlers.clear();
    this.#unhandled = [];
    this.#backlog = [];
    this.#sealer?.wipe();
    this.#opener?.wipe();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#endError());
    if (initiatedBy === "local") this.#closeSocket(code, reason);
    this.#resolveClosed(closure);
  }

  #closeSocket(code: number, reason: string): void {
    const socket = this.#socket;
    if (socket.readyState === WS_CLOSED) return;
    try {
      socket.close(code, truncateUtf8(reason, MAX_CLOSE_REASON_BYTES));
    } catch {
      socket.terminate();
      return;
    }
    // A peer that never answers the close frame must not hold the connection open.
    this.#graceTimer = this.#clock.setTimeout(() => {
      this.#graceTimer = undefined;
      if (socket.readyState !== WS_CLOSED) socket.terminate();
    }, this.#options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
  }

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer !== undefined) this.#clock.clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
  }
}

const toBytes = (data: RawData): Uint8Array => {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) return Buffer.concat(data);
  return data;
};

const truncateUtf8 = (text: string, maxBytes: number): string => {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.byteLength <= maxBytes) return text;
  // Cut on a character boundary: decoding a cut multi-byte sequence would add U+FFFD.
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
};
