// Liveness in both directions; the ack echoes sentAt so the sender measures the round trip.
import { Schema } from "effect";
import { Timestamp } from "./wire-fields.ts";

export const Heartbeat = Schema.Struct({
  type: Schema.Literal("heartbeat"),
  sentAt: Timestamp,
});
export type Heartbeat = typeof Heartbeat.Type;

export const HeartbeatAck = Schema.Struct({
  type: Schema.Literal("heartbeat.ack"),
  sentAt: Timestamp,
});
export type HeartbeatAck = typeof HeartbeatAck.Type;

export const heartbeatMessages = [Heartbeat, HeartbeatAck] as const;
