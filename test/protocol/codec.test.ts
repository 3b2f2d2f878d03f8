import { describe, expect, test } from "vitest";
import {
  decodeMessage,
  decodeMessageResult,
  encodeMessage,
  MalformedMessage,
  CloseCode,
  MAX_RECORDS_PER_MESSAGE,
  WIRE_ERROR_CODES,
} from "../../protocol/index.ts";
import { ALL_SAMPLES, SAMPLE_MESSAGES } from "./sample-messages.ts";
import { encode } from "@msgpack/msgpack";

describe("codec", () => {
  test.each(ALL_SAMPLES.map((m) => [m.type, m] as const))("round-trips %s through msgpack and the schema", (_type, message) => {
    expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });

  test("leaves undefined optional fields off the wire instead of sending nil", () => {
    const message = { type: "payment.authorize.result", requestId: "rq", outcome: "no-match", authorizationId: undefined } as const;
    expect(decodeMessage(encodeMessage(message))).toEqual({ type: "payment.authorize.result", requestId: "rq", outcome: "no-match" });
  });

  test("drops fields it does not know, so newer peers may add optional ones", () => {
    const bytes = encode({ ...SAMPLE_MESSAGES.heartbeat, addedInAFutureVersion: true });
    expect(decodeMessage(bytes)).toEqual(SAMPLE_MESSAGES.heartbeat);
  });

  test("rejects bytes that are not msgpack with MalformedMessage", () => {
    expect(() => decodeMessage(Uint8Array.of(0xc1))).toThrow(MalformedMessage);
  });

  test("rejects an unknown message type with MalformedMessage carrying its close code", () => {
    const result = decodeMessageResult(encode({ type: "launch.missiles" }));
    expect(result._tag).toBe("Failure");
    if (result._tag === "Failure") expect(result.failure.closeCode).toBe(CloseCode.MalformedMessage);
  });

  test("rejects a sealed signature of the wrong size", () => {
    const bytes = encode({ ...SAMPLE_MESSAGES["identify.request"], sealedSignature: new Uint8Array(10) });
    expect(() => decodeMessage(bytes)).toThrow(MalformedMessage);
  });

  test("rejects an enrollment with no captures", () => {
    const bytes = encode({ ...SAMPLE_MESSAGES["enroll.request"], sealedSignatures: [] });
    expect(() => decodeMessage(bytes)).toThrow(MalformedMessage);
  });

  test("rejects an enrollment with more than ten captures", () => {
    const captures = Array.from({ length: 11 }, () => SAMPLE_MESSAGES["identify.request"].sealedSignature);
    const bytes = encode({ ...SAMPLE_MESSAGES["enroll.request"], sealedSignatures: captures });
    expect(() => decodeMessage(bytes)).toThrow(MalformedMessage);
  });

  test("rejects trailing bytes after the message", () => {
    const bytes = encodeMessage(SAMPLE_MESSAGES.heartbeat);
    expect(() => decodeMessage(new Uint8Array([...bytes, 0]))).toThrow(MalformedMessage);
  });

  test("rejects a device deletion without the person's confirmation", () => {
    const bytes = encode({ ...SAMPLE_MESSAGES["deletion.request"], confirmed: false });
    expect(() => decodeMessage(bytes)).toThrow(MalformedMessage);
  });

  test("rejects an amount in a currency that is not an ISO 4217 code", () => {
    const bytes = encode({ ...SAMPLE_MESSAGES["payment.authorize.request"], amount: { amountMinor: 100, currency: "eur" } });
    expect(() => decodeMessage(bytes)).toThrow(MalformedMessage);
  });

  test("rejects an error whose code is not in the closed list, such as a class name", () => {
    const bytes = encode({ ...SAMPLE_MESSAGES.error, code: "VaultDecryptionFailed" });
    expect(() => decodeMessage(bytes)).toThrow(MalformedMessage);
  });

  test.each(WIRE_ERROR_CODES.map((code) => [code]))("carries the error code %s", (code) => {
    const message = { ...SAMPLE_MESSAGES.error, code };
    expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });

  test("rejects a fractional amount", () => {
    const bytes = encode({ ...SAMPLE_MESSAGES["payment.authorize.request"], amount: { amountMinor: 10.5, currency: "EUR" } });
    expect(() => decodeMessage(bytes)).toThrow(MalformedMessage);
  });

  test("a third-party credential request carries no amount, and one smuggled in is dropped", () => {
    const bytes = encode({ ...SAMPLE_MESSAGES["payment.credential.request"], amount: { amountMinor: 100, currency: "EUR" } });
    expect(decodeMessage(bytes)).not.toHaveProperty("amount");
  });

  test("rejects a replicated record whose sealed data key is not exactly 80 bytes", () => {
    const sample = SAMPLE_MESSAGES["replication.changes"];
    const bytes = encode({ ...sample, records: [{ ...sample.records[0]!, sealedDataKey: new Uint8Array(79) }] });
    expect(() => decodeMessage(bytes)).toThrow(MalformedMessage);
  });

  test("rejects a replication batch above its record bound", () => {
    const sample = SAMPLE_MESSAGES["replication.changes"];
    const bytes = encode({ ...sample, records: Array.from({ length: MAX_RECORDS_PER_MESSAGE + 1 }, () => sample.records[1]!) });
    expect(() => decodeMessage(bytes)).toThrow(MalformedMessage);
  });
});
