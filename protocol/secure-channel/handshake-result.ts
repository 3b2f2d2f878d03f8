// What a completed handshake yields: who the peer is, the version both agreed on, and one key
// per direction for the transport frames.
export interface HandshakeResult {
  readonly peerPublicKey: Uint8Array;
  readonly protocolVersion: number;
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
}
