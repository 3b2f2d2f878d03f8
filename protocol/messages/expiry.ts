// Expiry of unused identities (two years without being seen). A region tells its peers when an
// identity it owns is about to expire and when it has: peers then stop counting it as live
// before the tombstone arrives through replication, and operators get an audit trail.
import { Schema } from "effect";
import { IdentityId, RegionId, Timestamp } from "./wire-fields.ts";

export const ExpiryNotice = Schema.Struct({
  type: Schema.Literal("expiry.notice"),
  identityId: IdentityId,
  origin: RegionId,
  stage: Schema.Literals(["warning", "expired"]),
  lastSeenAt: Timestamp,
  expiresAt: Timestamp,
});
export type ExpiryNotice = typeof ExpiryNotice.Type;

export const expiryMessages = [ExpiryNotice] as const;
