// What a device session needs from its node.
import type { TemplateKeyPair } from "../../protocol/index.ts";
import type { PalmIdentifier } from "../identification/palm-identifier.ts";
import type { DeviceDirectory } from "../storage/sqlite/device-directory.ts";
import type { InspectHook } from "../sagas/saga-actor-options.ts";
import type { RegionServices } from "./region-services.ts";

export interface DeviceSessionDependencies {
  readonly identifier: PalmIdentifier;
  readonly devices: DeviceDirectory;
  readonly templateKeys: TemplateKeyPair;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** Enrollment with card and phone, payments, gates, deletion; absent in a bare identifier node. */
  readonly flows?: RegionServices;
  /** The inspector's hook for session actors, when one is attached. */
  readonly inspectSessions?: InspectHook;
}
