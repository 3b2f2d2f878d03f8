// The session boundary's one mapping from region failures to wire error codes: each failure a
// device can act on by its code, everything else InternalError with a message that names nothing.
import { describe, expect, test } from "vitest";
import { ProcessorRefused, ProcessorUnavailable } from "../../cloud/payments/processor-adapter.ts";
import { ProbingLimited } from "../../cloud/session/probe-guard.ts";
import { DeviceNotProvisioned, FlowUnavailable, NotADeviceRequest } from "../../cloud/session/session-failures.ts";
import { INTERNAL_WIRE_ERROR, toWireError } from "../../cloud/session/wire-error.ts";
import { VaultDecryptionFailed } from "../../cloud/storage/identity-vault.ts";
import { AlreadyEnrolled, InvalidSignature, UnknownIdentity } from "../../core/errors.ts";
import { InvalidPalmTemplate } from "../../core/palm-template.ts";
import { isWireErrorCode, REASON_MAX_LENGTH, SealedSignatureInvalid } from "../../protocol/index.ts";

describe("wire errors", () => {
  test.each([
    [new DeviceNotProvisioned({ received: "identify.request" }), "NotProvisioned"],
    [new NotADeviceRequest({ received: "heartbeat.ack" }), "UnexpectedMessage"],
    [new ProbingLimited({ deviceId: "dev_1" }), "ProbingLimited"],
    [new SealedSignatureInvalid({ reason: "altered" }), "SealedSignatureInvalid"],
    [new InvalidSignature({ reason: "one channel only" }), "SealedSignatureInvalid"],
    [new InvalidPalmTemplate({ reason: "unknown version 9" }), "SealedSignatureInvalid"],
    [new FlowUnavailable({ reason: "no flows" }), "FlowUnavailable"],
    [new ProcessorUnavailable({ reason: "connect ECONNREFUSED 10.0.0.7:4000" }), "ProcessorUnavailable"],
    [new ProcessorRefused({ code: "card_declined" }), "ProcessorRefused"],
  ] as const)("%s goes out as %s", (failure, code) => {
    expect(toWireError(failure).code).toBe(code);
  });

  test("every code the mapping gives is in the protocol's closed list", () => {
    expect(isWireErrorCode(toWireError(new FlowUnavailable({ reason: "x" })).code)).toBe(true);
    expect(isWireErrorCode(INTERNAL_WIRE_ERROR.code)).toBe(true);
  });

  test.each([
    ["a class the table does not name", new VaultDecryptionFailed({ what: "card" })],
    ["an unknown identity", new UnknownIdentity({ identityId: "id_secret" })],
    ["a duplicate with its match and score", new AlreadyEnrolled({ identityId: "id_secret", score: 0.97 })],
    ["a plain Error", new Error("SQLITE_BUSY at /var/lib/palmline/registry.db")],
    ["a thrown string", "boom"],
  ])("%s is InternalError with the generic message", (_what, failure) => {
    expect(toWireError(failure)).toEqual(INTERNAL_WIRE_ERROR);
  });

  test("the processor's address and codes stay in the region", () => {
    expect(toWireError(new ProcessorUnavailable({ reason: "connect ECONNREFUSED 10.0.0.7:4000" })).message).not.toContain("10.0.0.7");
    expect(toWireError(new ProcessorRefused({ code: "card_declined" })).message).not.toContain("card_declined");
  });

  test("the probing device's id is not repeated back to it", () => {
    expect(toWireError(new ProbingLimited({ deviceId: "dev_1" })).message).not.toContain("dev_1");
  });

  test("a message longer than the wire's bound is cut to fit", () => {
    expect(toWireError(new FlowUnavailable({ reason: "x".repeat(2_000) })).message).toHaveLength(REASON_MAX_LENGTH);
  });
});
