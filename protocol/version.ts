// Protocol versions.
//
// Compatibility rule: a peer speaks every version in [MIN_SUPPORTED_VERSION, PROTOCOL_VERSION].
// At connect the initiator offers its range inside the signed handshake and the responder picks
// the highest version both support; with no overlap the session closes with UnsupportedVersion.
// Within one version, changes are additive only: new message types (each tagged with the version
// that introduced it, and never sent on a session that negotiated an older one) and new optional
// fields (decoders drop keys they do not know). Anything else (removing or retyping a field,
// changing the handshake or frame layout) needs a new version, and MIN_SUPPORTED_VERSION is raised
// only once no deployed peer needs the old one.
//
// Changelog
//   1: handshake (XX-like, signed transcript), XChaCha20-Poly1305 frames with rekey, catalogue of
//      provisioning, session, heartbeat, error, identification, enrollment, payment, gate,
//      deletion, expiry and replication messages.
//   2: replication redesigned: replication.hello (region id, federation proof, resume point),
//      replication.changes (whole HLC-stamped records, data key inside the channel),
//      replication.ack (by feed sequence), replication.digest and replication.repair (anti-entropy
//      over 256 buckets). Version 1's replication messages (hello with watermarks, delta, ack and
//      digest by origin) are withdrawn: no release ever sent them, so no deployed peer needs them,
//      and device sessions are unchanged, so version 1 stays supported. Region links need 2.
//   3: devices learn outcomes only. identify.result drops `score` and always carries identityId,
//      stepUpToken and loyaltyCard (null where they do not apply); identify, payment.authorize,
//      payment.credential and gate.entry results gain the outcome "step-up-required" with a
//      stepUpToken, and their requests an optional stepUpToken; new stepup.digits.request /
//      stepup.digits.result (the last four digits of the phone, answered confirmed / retry /
//      refused with attempts left). Removing a field is not additive, and a version-1 or 2
//      scanner would fail to decode the new identify.result, so 3 is also the minimum: no
//      scanner is deployed outside this repository, which ships both ends together.
//   4: a sealed signature holds a palm probe (core/palm-template.ts: a template of competitive-
//      code bit-planes with its turned and scaled variants, 9,001 bytes fused before sealing)
//      instead of 2,560 floats; the field keeps its name and becomes bounded (57..16,433 bytes)
//      instead of exact. A version-3 scanner's floats would not open as a probe, so 4 is also
//      the minimum, for the same reason as 3.
//   5: an `error` message's code is one of a closed list (protocol/error-codes.ts) instead of any
//      string; the region no longer sends its class names. The field and the codes a region sent
//      for its common failures keep their spelling, so a version-4 device decodes every answer of
//      a version-5 region; but a version-4 region could send any class name, which a version-5
//      decoder refuses (the session would close with MalformedMessage instead of answering), so
//      narrowing the field is a retype and 5 is also the minimum, for the same reason as 3.
//   6: captures bound to a region challenge: new capture.challenge.request / .result, and a sealed
//      signature holds the challenge (16 bytes) before the probe, so the region accepts each
//      capture once, in the session that asked for its challenge. New error codes NotPermitted (a
//      request outside the roles, merchant or venue the operator bound the device to),
//      CaptureChallengeInvalid, and RegionResyncing (a region restored from a backup decides on no
//      palm until it has re-synced with a peer). A merchant's lane learns outcomes, not who paid:
//      payment.authorize.result drops identityId, payment.credential.result drops loyaltyCard (a
//      third-party merchant is not in the operator's loyalty programme), and its credential gains
//      merchantNonce, the request's nonce echoed, which the processor also requires to redeem it.
//      Region links: replication.hello drops `proof`: a link is admitted by the receiver's
//      federation list of region identity keys, not a shared key; a record's `dataKey` (32 bytes in
//      clear) becomes `sealedDataKey` (80 bytes, crypto_box_seal to the receiving region's key),
//      and every field register and tombstone carries its writer's Ed25519 signature (a tombstone
//      also its reason). A version-5 scanner's seal has no challenge, a version-5 decoder refuses
//      the new codes and fields, and a replay fix with an old path around it fixes nothing, so 6
//      is also the minimum.
import { UnsupportedVersion } from "./errors.ts";

export const PROTOCOL_VERSION = 6;
export const MIN_SUPPORTED_VERSION = 6;

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

export const SUPPORTED_VERSIONS: VersionRange = Object.freeze({ min: MIN_SUPPORTED_VERSION, max: PROTOCOL_VERSION });

/** The highest version both ranges contain, or UnsupportedVersion when they do not overlap. */
export const negotiate = (local: VersionRange, remote: VersionRange): number | UnsupportedVersion => {
  const valid = (r: VersionRange) => Number.isInteger(r.min) && Number.isInteger(r.max) && r.min >= 0 && r.min <= r.max;
  if (!valid(remote)) return new UnsupportedVersion({ reason: `peer offered an invalid range ${remote.min}..${remote.max}` });
  const chosen = Math.min(local.max, remote.max);
  if (chosen < Math.max(local.min, remote.min)) {
    return new UnsupportedVersion({
      reason: `peer speaks ${remote.min}..${remote.max}, this side ${local.min}..${local.max}`,
    });
  }
  return chosen;
};
