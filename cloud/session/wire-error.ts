// The one place a region failure becomes a wire error code (protocol/error-codes.ts). Each
// failure a device can act on has its code and a message written for the device; anything
// else, a class this table does not name included, goes out as InternalError with a message
// that says nothing about it (the node's log keeps the detail). A class name never reaches the
// wire.
import type { InvalidSignature } from "../../core/errors.ts";
import type { InvalidPalmTemplate } from "../../core/palm-template.ts";
import { REASON_MAX_LENGTH, type SealedSignatureInvalid, type WireErrorCode } from "../../protocol/index.ts";
import type { ProcessorRefused, ProcessorUnavailable } from "../payments/processor-adapter.ts";
import type { RegionResyncing } from "../replication/resync-hold.ts";
import type { ProbingLimited } from "./probe-guard.ts";
import type { CaptureChallengeInvalid } from "./capture-challenges.ts";
import type { NotPermitted } from "./device-permissions.ts";
import type { DeviceNotProvisioned, FlowUnavailable, NotADeviceRequest } from "./session-failures.ts";

export interface WireError {
  readonly code: WireErrorCode;
  readonly message: string;
}

/** Failures a device is told about by name; every other failure is internal. */
type TellableFailure =
  | DeviceNotProvisioned
  | NotADeviceRequest
  | NotPermitted
  | CaptureChallengeInvalid
  | ProbingLimited
  | SealedSignatureInvalid
  | InvalidSignature
  | InvalidPalmTemplate
  | FlowUnavailable
  | RegionResyncing
  | ProcessorUnavailable
  | ProcessorRefused;

type WireErrorTable = { readonly [Tag in TellableFailure["_tag"]]: (failure: Extract<TellableFailure, { readonly _tag: Tag }>) => WireError };

const WIRE_ERRORS: WireErrorTable = {
  DeviceNotProvisioned: (f) => ({ code: "NotProvisioned", message: f.message }),
  NotADeviceRequest: (f) => ({ code: "UnexpectedMessage", message: f.message }),
  NotPermitted: (f) => ({ code: "NotPermitted", message: f.message }),
  CaptureChallengeInvalid: (f) => ({ code: "CaptureChallengeInvalid", message: f.message }),
  // The device's own id stays in the node's log; the device knows who it is.
  ProbingLimited: () => ({ code: "ProbingLimited", message: "too many unrecognised palms from this device: identification paused, try again later" }),
  // About the device's own bytes (wrong key, altered, not a probe, a channel missing).
  SealedSignatureInvalid: (f) => ({ code: "SealedSignatureInvalid", message: f.message }),
  InvalidSignature: (f) => ({ code: "SealedSignatureInvalid", message: f.message }),
  InvalidPalmTemplate: (f) => ({ code: "SealedSignatureInvalid", message: f.message }),
  FlowUnavailable: (f) => ({ code: "FlowUnavailable", message: f.message }),
  // Why the region holds back (which peer noticed) stays in its log.
  RegionResyncing: () => ({ code: "RegionResyncing", message: "the region is re-syncing with its peers after a restore: try again shortly" }),
  // The processor's address and its own codes stay in the region.
  ProcessorUnavailable: () => ({ code: "ProcessorUnavailable", message: "the payment processor cannot be reached: try again later" }),
  ProcessorRefused: () => ({ code: "ProcessorRefused", message: "the payment processor refused the request" }),
};

export const INTERNAL_WIRE_ERROR: WireError = { code: "InternalError", message: "the region could not handle this request" };

const tagOf = (failure: unknown): string | undefined =>
  failure instanceof Error && "_tag" in failure && typeof failure._tag === "string" ? failure._tag : undefined;

/** The code and message a device is told for a failure. */
export const toWireError = (failure: unknown): WireError => {
  const tag = tagOf(failure);
  if (tag === undefined || !Object.hasOwn(WIRE_ERRORS, tag)) return INTERNAL_WIRE_ERROR;
  const known = (WIRE_ERRORS[tag as TellableFailure["_tag"]] as (f: TellableFailure) => WireError)(failure as TellableFailure);
  return { code: known.code, message: known.message.slice(0, REASON_MAX_LENGTH) };
};
