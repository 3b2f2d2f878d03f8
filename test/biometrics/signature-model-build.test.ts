import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { buildSignatureModel } from "../../models/build-signature-model.ts";
import { DEFAULT_MODEL_PATH } from "../../edge/biometrics/signature-model-contract.ts";

test("rebuilding the signature model reproduces the committed file byte for byte", () => {
  const committed = new Uint8Array(readFileSync(DEFAULT_MODEL_PATH));
  const rebuilt = buildSignatureModel();
  expect(rebuilt.byteLength).toBe(committed.byteLength);
  expect(Buffer.compare(Buffer.from(rebuilt), Buffer.from(committed))).toBe(0);
});

test("the committed signature model stays small", () => {
  expect(readFileSync(DEFAULT_MODEL_PATH).byteLength).toBeLessThan(5 * 1024 * 1024);
});
