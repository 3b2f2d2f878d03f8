// The open sessions of a node, by peer identity key, so that revoking a device (or retiring a
// peer region) ends every session it holds at once, and shutdown ends them all with one code.
import { CloseCode, type CloseCodeValue } from "../close-codes.ts";
import type { SecureChannel } from "./secure-channel.ts";

const keyOf = (peerPublicKey: Uint8Array): string => Buffer.from(peerPublicKey).toString("hex");

export class PeerSessions<C extends SecureChannel = SecureChannel> {
  readonly #byPeer = new Map<string, Set<C>>();

  /** Tracks `channel` until it closes. */
  add(channel: C): void {
    const key = keyOf(channel.peerPublicKey);
    let sessions = this.#byPeer.get(key);
    if (sessions === undefined) {
      sessions = new Set();
      this.#byPeer.set(key, sessions);
    }
    sessions.add(channel);
    void channel.closed.then(() => {
      const current = this.#byPeer.get(key);
      current?.delete(channel);
      if (current?.size === 0) this.#byPeer.delete(key);
    });
  }

  sessionsOf(peerPublicKey: Uint8Array): readonly C[] {
    return [...(this.#byPeer.get(keyOf(peerPublicKey)) ?? [])];
  }

  /** Closes every session of one peer; returns how many were open. */
  closePeer(peerPublicKey: Uint8Array, code: CloseCodeValue, reason: string): number {
    const sessions = this.sessionsOf(peerPublicKey);
    for (const channel of sessions) channel.close(code, reason);
    return sessions.length;
  }

  /** Revocation is immediate: nothing from or to the peer is processed once this returns. */
  revoke(peerPublicKey: Uint8Array, reason = "device revoked"): number {
    return this.closePeer(peerPublicKey, CloseCode.DeviceRevoked, reason);
  }

  closeAll(code: CloseCodeValue, reason: string): number {
    let count = 0;
    for (const sessions of [...this.#byPeer.values()]) {
      for (const channel of [...sessions]) {
        channel.close(code, reason);
        count++;
      }
    }
    return count;
  }

  /** Open sessions across all peers. */
  get size(): number {
    let count = 0;
    for (const sessions of this.#byPeer.values()) count += sessions.size;
    return count;
  }
}
