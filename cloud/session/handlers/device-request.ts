// What a message family's handler gets from the device session: the provisioned device it
// answers, the node's dependencies, and `reply`, through which every answer goes (the session
// counts the ones a prober learns from against its probe guard).
import type { DeviceId } from "../../../core/ids.ts";
import type { WireMessage, WireMessageOf, WireMessageType } from "../../../protocol/index.ts";
import type { CaptureChallenges } from "../capture-challenges.ts";
import type { DeviceSessionDependencies } from "../device-session-dependencies.ts";
import type { RegionServices } from "../region-services.ts";

export interface DeviceRequestContext {
  readonly deviceId: DeviceId;
  /** The address the device's WebSocket came from: phone codes are limited per address too. */
  readonly sourceAddress: string;
  /** The capture challenges this session has issued. */
  readonly challenges: CaptureChallenges;
  readonly deps: DeviceSessionDependencies;
  readonly reply: (answer: WireMessage) => void;
  /** The node's flows; fails with FlowUnavailable on a node without them. */
  readonly flows: () => RegionServices;
}

export type DeviceRequestHandler<T extends WireMessageType> = (request: WireMessageOf<T>, context: DeviceRequestContext) => Promise<void> | void;

/** One family's handlers, by the message type each takes. */
export type DeviceRequestHandlers = { readonly [T in WireMessageType]?: DeviceRequestHandler<T> };
