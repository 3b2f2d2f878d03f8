// The dialling side (a scanner, or a region linking to a peer region): runs the handshake over a
// WebSocket it opened, insists the responder is the key it pinned, and waits for the responder
// to accept it before handing back a usable channel.
import type { WebSocket } from "ws";
import type { Clock } from "../../core/clock.ts";
import { HandshakeFailed, toChannelError, UnexpectedMessage } from "../errors.ts";
import { loadSodium } from "../sodium.ts";
import { SUPPORTED_VERSIONS } from "../version.ts";
import { ADMISSION_BYTE, FrameKind } from "./frame-layout.ts";
import type { IdentityKeyPair } from "./identity-key.ts";
import { InitiatorHandshake } from "./initiator-handshake.ts";
import type { AdmittedPeer, ChannelOptions, SecureChannel } from "./secure-channel.ts";
import { WebSocketChannel } from "./websocket-channel.ts";

export interface InitiatorOptions extends ChannelOptions {
  readonly identity: IdentityKeyPair;
  readonly pinnedResponderKey: Uint8Array;
  readonly clock?: Clock;
  readonly handshakeTimeoutMs?: number;
}

export type InitiatorChannel = SecureChannel & { readonly admission: AdmittedPeer };

/** Rejects with a ChannelError: PinnedKeyMismatch, HandshakeTimeout, ConnectionClosed (refused: see closeCode), ... */
export const openInitiatorChannel = async (socket: WebSocket, options: InitiatorOptions): Promise<InitiatorChannel> => {
  const channel = new WebSocketChannel(socket, options);
  try {
    const sodium = await loadSodium();
    const handshake = new InitiatorHandshake(sodium, options.identity, options.pinnedResponderKey, options.versions ?? SUPPORTED_VERSIONS);
    await channel.socketOpen();
    channel.sendRaw(handshake.hello());
    const { finish, result } = handshake.onHelloReply(await channel.nextHandshakeFrame());
    channel.sendRaw(finish);
    channel.installKeys(sodium, result);
    const accept = channel.openHandshakeFrame(await channel.nextHandshakeFrame());
    if (accept.kind !== FrameKind.Accept) throw new UnexpectedMessage({ reason: "expected the responder's accept" });
    channel.open(admissionFromByte(accept.plaintext));
    return channel;
  } catch (cause) {
    const error = toChannelError(cause, "initiator handshake");
    channel.fail(error);
    throw error;
  }
};

const admissionFromByte = (plaintext: Uint8Array): AdmittedPeer => {
  if (plaintext.byteLength === 1 && plaintext[0] === ADMISSION_BYTE.admit) return { kind: "admit" };
  if (plaintext.byteLength === 1 && plaintext[0] === ADMISSION_BYTE["provisioning-only"]) return { kind: "provisioning-only" };
  throw new HandshakeFailed({ reason: "unknown admission in accept frame" });
};
