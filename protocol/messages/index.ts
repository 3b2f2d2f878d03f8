// The catalogue: every message the wire can carry, as one Schema union discriminated by `type`,
// and for each type the version that introduced it and who sends it on which kind of link.
import { Schema } from "effect";
import { captureChallengeMessages } from "./capture-challenge.ts";
import { deletionMessages } from "./deletion.ts";
import { enrollmentMessages } from "./enrollment.ts";
import { errorMessages } from "./error.ts";
import { expiryMessages } from "./expiry.ts";
import { gateMessages } from "./gate.ts";
import { heartbeatMessages } from "./heartbeat.ts";
import { identificationMessages } from "./identification.ts";
import { paymentMessages } from "./payment.ts";
import { phoneVerificationMessages } from "./phone-verification.ts";
import { provisioningMessages } from "./provisioning.ts";
import { replicationMessages } from "./replication.ts";
import { sessionMessages } from "./session.ts";
import { stepUpMessages } from "./step-up.ts";

export * from "./capture-challenge.ts";
export * from "./deletion.ts";
export * from "./enrollment.ts";
export * from "./error.ts";
export * from "./expiry.ts";
export * from "./gate.ts";
export * from "./heartbeat.ts";
export * from "./identification.ts";
export * from "./payment.ts";
export * from "./phone-verification.ts";
export * from "./provisioning.ts";
export * from "./replication.ts";
export * from "./session.ts";
export * from "./step-up.ts";
export * from "./wire-fields.ts";

export const WireMessage = Schema.Union([
  ...provisioningMessages,
  ...sessionMessages,
  ...heartbeatMessages,
  ...errorMessages,
  ...identificationMessages,
  ...stepUpMessages,
  ...captureChallengeMessages,
  ...enrollmentMessages,
  ...phoneVerificationMessages,
  ...paymentMessages,
  ...gateMessages,
  ...deletionMessages,
  ...expiryMessages,
  ...replicationMessages,
]);
export type WireMessage = typeof WireMessage.Type;
export type WireMessageType = WireMessage["type"];
export type WireMessageOf<T extends WireMessageType> = Extract<WireMessage, { readonly type: T }>;

export interface MessageEntry {
  /** The protocol version that introduced the type; it is never sent on an older session. */
  readonly since: number;
  /** Who sends it: a scanner, a region, or either end. */
  readonly sentBy: "device" | "region" | "either";
  /** Which links carry it: scanner-region, region-region, or both. */
  readonly link: "device" | "region" | "any";
}

const entry = (sentBy: MessageEntry["sentBy"], link: MessageEntry["link"], since = 1): MessageEntry => ({ since, sentBy, link });

export const MESSAGE_CATALOGUE: { readonly [T in WireMessageType]: MessageEntry } = {
  "provision.request": entry("device", "device"),
  "provision.result": entry("region", "device"),
  "session.ready": entry("region", "device"),
  heartbeat: entry("either", "any"),
  "heartbeat.ack": entry("either", "any"),
  error: entry("either", "any"),
  "identify.request": entry("device", "device"),
  "identify.result": entry("region", "device"),
  "stepup.digits.request": entry("device", "device", 3),
  "stepup.digits.result": entry("region", "device", 3),
  "capture.challenge.request": entry("device", "device", 6),
  "capture.challenge.result": entry("region", "device", 6),
  "enroll.request": entry("device", "device"),
  "enroll.result": entry("region", "device"),
  "phone.verify.request": entry("device", "device"),
  "phone.verify.result": entry("region", "device"),
  "payment.authorize.request": entry("device", "device"),
  "payment.authorize.result": entry("region", "device"),
  "payment.settle.request": entry("device", "device"),
  "payment.settle.result": entry("region", "device"),
  "payment.credential.request": entry("device", "device"),
  "payment.credential.result": entry("region", "device"),
  "gate.entry.request": entry("device", "device"),
  "gate.entry.result": entry("region", "device"),
  "gate.passage": entry("device", "device"),
  "deletion.request": entry("device", "device"),
  "deletion.result": entry("region", "device"),
  "expiry.notice": entry("region", "region"),
  // Version 2 replaced version 1's replication proposal, which no release ever sent.
  "replication.hello": entry("region", "region", 2),
  "replication.changes": entry("region", "region", 2),
  "replication.ack": entry("region", "region", 2),
  "replication.digest": entry("region", "region", 2),
  "replication.repair": entry("region", "region", 2),
};

export const MESSAGE_SINCE_VERSION: { readonly [T in WireMessageType]: number } = Object.fromEntries(
  Object.entries(MESSAGE_CATALOGUE).map(([type, e]) => [type, e.since]),
) as { readonly [T in WireMessageType]: number };

export const WIRE_MESSAGE_TYPES = Object.keys(MESSAGE_CATALOGUE) as readonly WireMessageType[];
