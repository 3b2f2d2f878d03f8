// The closed list of codes an `error` message may carry: a request failed without ending the
// session, and this says why in terms a device can decide on. The region maps its own failures
// to these once, at the session boundary (cloud/session/wire-error.ts); a class name never goes
// on the wire, and the codec refuses any other code. A new code is not an additive change (an
// older decoder refuses it), so it comes with a new protocol version.
export const WIRE_ERROR_CODES = [
  /** A request before the device was provisioned: it must send provision.request first. */
  "NotProvisioned",
  /** A message a region does not take from a device (one only a region sends). */
  "UnexpectedMessage",
  /** The request is outside what the operator bound this device to (its roles, merchant or venue); nothing happened. */
  "NotPermitted",
  /** Too many unrecognised palms or failed step-ups from this device: identification is paused. */
  "ProbingLimited",
  /** A sealed capture that does not open to a probe this region can decide on. */
  "SealedSignatureInvalid",
  /** A capture not sealed to a challenge this session issued and has not used yet (a replay, or a stale capture): capture again. */
  "CaptureChallengeInvalid",
  /** This region node does not run the flow asked for (enrollment, payments, gates, deletion, ...). */
  "FlowUnavailable",
  /** The region was restored from a backup and is re-syncing with its peers: the same request may succeed shortly. */
  "RegionResyncing",
  /** The payment processor could not be reached: the same request may succeed later. */
  "ProcessorUnavailable",
  /** The payment processor refused the request (card, token or amount): repeating it will not help. */
  "ProcessorRefused",
  /** Anything else: the region could not handle the request; the message says nothing more. */
  "InternalError",
] as const;

export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

const CODES: ReadonlySet<string> = new Set(WIRE_ERROR_CODES);

export const isWireErrorCode = (u: unknown): u is WireErrorCode => typeof u === "string" && CODES.has(u);
