// WebSocket close codes the protocol closes a session with. 4000-4999 is the range RFC 6455
// leaves to applications; grouping by hundreds lets a dashboard tell handshake trouble (40xx),
// bad frames (41xx), policy (42xx) and orderly ends (43xx) apart at a glance.
export const CloseCode = Object.freeze({
  Normal: 1000,

  HandshakeTimeout: 4000,
  HandshakeFailed: 4001,
  UnsupportedVersion: 4002,
  PinnedKeyMismatch: 4003,

  ReplayedFrame: 4100,
  ReorderedFrame: 4101,
  ForgedFrame: 4102,
  TruncatedFrame: 4103,
  OversizedFrame: 4104,
  MalformedMessage: 4105,
  UnexpectedMessage: 4106,

  UnknownDevice: 4200,
  DeviceRevoked: 4201,
  RateLimited: 4202,
  NotProvisioned: 4203,
  /** A region link from a region id this region's federation list does not name (or no longer does). */
  NotFederationMember: 4204,
  /** A region id this region's federation list names with another identity key. */
  PeerKeyMismatch: 4205,

  ServerShutdown: 4300,
  InternalError: 4301,
  Superseded: 4302,
  /** A second link with the same peer region; the one dialled by the smaller region id stays. */
  DuplicatePeerLink: 4303,
} as const);

export type CloseCodeName = keyof typeof CloseCode;
export type CloseCodeValue = (typeof CloseCode)[CloseCodeName];

const namesByValue = new Map<number, CloseCodeName>((Object.keys(CloseCode) as CloseCodeName[]).map((name) => [CloseCode[name], name]));

/** The name of a close code, for logs; undefined for codes palmline does not define. */
export const closeCodeName = (code: number): CloseCodeName | undefined => namesByValue.get(code);

export const isCloseCode = (code: number): code is CloseCodeValue => namesByValue.has(code);
