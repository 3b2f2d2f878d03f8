// Session start: the region's first message to an admitted device, with what the device needs
// for the session (its id, the key to seal signatures to, the region's time for skew checks).
import { Schema } from "effect";
import { DeviceId, TemplatePublicKey, Timestamp } from "./wire-fields.ts";

export const SessionReady = Schema.Struct({
  type: Schema.Literal("session.ready"),
  deviceId: DeviceId,
  templatePublicKey: TemplatePublicKey,
  serverTime: Timestamp,
});
export type SessionReady = typeof SessionReady.Type;

export const sessionMessages = [SessionReady] as const;
