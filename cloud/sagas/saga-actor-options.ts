// What every saga actor is created with: the node's clock, so timeouts follow the same (possibly
// simulated) time as the rest of the node, a name the inspector shows, and the inspector's hook
// when one is attached.
import type { InspectionEvent } from "xstate";
import type { Clock } from "../../core/clock.ts";

export type InspectHook = (event: InspectionEvent) => void;

export const sagaActorOptions = (clock: Clock, inspect: InspectHook | undefined, systemId: string) => ({
  clock,
  systemId: `saga:${systemId}`,
  ...(inspect !== undefined ? { inspect } : {}),
});
