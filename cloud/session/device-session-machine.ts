// The lifecycle of one device connection on the region side, as an XState machine so it can be
// watched and driven in the inspector. A device whose key the region does not know yet may only
// provision itself; a provisioned device is ready for requests; any refusal or transport close
// ends the session.
import { assign, setup } from "xstate";

export interface DeviceSessionContext {
  readonly peerKeyHex: string;
  readonly deviceId: string | undefined;
  readonly requestsHandled: number;
  readonly closeReason: string | undefined;
}

export type DeviceSessionEvent = { type: "PROVISIONED"; deviceId: string } | { type: "REQUEST_HANDLED" } | { type: "CLOSED"; reason: string };

export const deviceSessionMachine = setup({
  types: {
    context: {} as DeviceSessionContext,
    events: {} as DeviceSessionEvent,
    input: {} as { peerKeyHex: string; deviceId: string | undefined },
  },
}).createMachine({
  id: "deviceSession",
  context: ({ input }) => ({ peerKeyHex: input.peerKeyHex, deviceId: input.deviceId, requestsHandled: 0, closeReason: undefined }),
  initial: "admitting",
  states: {
    admitting: {
      always: [{ guard: ({ context }) => context.deviceId !== undefined, target: "ready" }, { target: "provisioning" }],
    },
    provisioning: {
      on: {
        PROVISIONED: { target: "ready", actions: assign({ deviceId: ({ event }) => event.deviceId }) },
        CLOSED: { target: "closed", actions: assign({ closeReason: ({ event }) => event.reason }) },
      },
    },
    ready: {
      on: {
        REQUEST_HANDLED: { actions: assign({ requestsHandled: ({ context }) => context.requestsHandled + 1 }) },
        CLOSED: { target: "closed", actions: assign({ closeReason: ({ event }) => event.reason }) },
      },
    },
    closed: { type: "final" },
  },
});
