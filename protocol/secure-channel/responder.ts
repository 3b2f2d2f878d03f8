// The answering side (a region node): runs the handshake on an accepted WebSocket, asks the node
// whether to admit the authenticated peer, and refuses with the node's close code if not.
import type { WebSocket } from "ws";
import type { Clock } from "../../core/clock.ts";
import { PeerRefused, toChannelError } from "../errors.ts";
import { loadSodium } from "../sodium.ts";
import { SUPPORTED_VERSIONS } from "../version.ts";
import { ADMISSION_BYTE, FrameKind } from "./frame-layout.ts";
import type { IdentityKeyPair } from "./identity-key.ts";
import { ResponderHandshake } from "./responder-handshake.ts";
import type { AdmittedPeer, ChannelOptions, PeerAdmission, SecureChannel } from "./secure-channel.ts";
import { WebSocketChannel } from "./websocket-channel.ts";

export interface ResponderOptions extends ChannelOptions {
  readonly identity: IdentityKeyPair;
  /** Called once the peer has proved its key; decides whether (and how far) it is let in. */
  readonly admitPeer: (peerPublicKey: Uint8Array) => PeerAdmission | Promise<PeerAdmission>;
  readonly clock?: Clock;
  readonly handshakeTimeoutMs?: number;
}

export type ResponderChannel = SecureChannel & { readonly admission: AdmittedPeer };

/** Rejects with a ChannelError: PeerRefused (the admission's code), HandshakeTimeout, HandshakeFailed, ... */
export const acceptResponderChannel = async (socket: WebSocket, options: ResponderOptions): Promise<ResponderChannel> => {
  const channel = new WebSocketChannel(socket, options);
  try {
    const sodium = await loadSodium();
    const handshake = new ResponderHandshake(sodium, options.identity, options.versions ?? SUPPORTED_VERSIONS);
    channel.sendRaw(handshake.onHello(await channel.nextHandshakeFrame()));
    const result = handshake.onFinish(await channel.nextHandshakeFrame());
    let admission: PeerAdmission;
    try {
      admission = await options.admitPeer(result.peerPublicKey);
    } catch (cause) {
      throw toChannelError(cause, "admitting the peer");
    }
    if (admission.kind === "refuse") throw new PeerRefused({ closeCode: admission.code, reason: admission.reason });
    channel.installKeys(sodium, result);
    channel.sendSealed(FrameKind.Accept, Uint8Array.of(ADMISSION_BYTE[admission.kind]));
    channel.open(admission);
    return channel;
  } catch (cause) {
    const error = toChannelError(cause, "responder handshake");
    channel.fail(error);
    throw error;
  }
};
