import { describe, expect, test } from "vitest";
import { encodePalmProbe } from "../../core/palm-template.ts";
import {
  generateTemplateKeyPair,
  openSealedSignature,
  openSealedSignatures,
  sealSignature,
  SEAL_OVERHEAD_BYTES,
  SEALED_SIGNATURE_MAX_BYTES,
  SealedSignatureInvalid,
  CAPTURE_CHALLENGE_BYTES,
  sealedCaptureChallenge,
  type TemplateKeyPair,
} from "../../protocol/index.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { syntheticPalm } from "../cloud/fixtures.ts";

const probe = () => syntheticPalm(1)(0);
const CHALLENGE = new Uint8Array(CAPTURE_CHALLENGE_BYTES).fill(9);
const to = (keys: TemplateKeyPair) => ({ templatePublicKey: keys.publicKey, challenge: CHALLENGE });

describe("template seal", () => {
  test("opens what was sealed to the same template key", async () => {
    const keys = await generateTemplateKeyPair();
    const original = probe();
    const sealed = await sealSignature(original, to(keys));
    expect(sealed.byteLength).toBe(CAPTURE_CHALLENGE_BYTES + encodePalmProbe(original).byteLength + SEAL_OVERHEAD_BYTES);
    expect(await openSealedSignature(sealed, keys)).toEqual(original);
  });

  test("the challenge sealed with a probe reads back from the seal", async () => {
    const keys = await generateTemplateKeyPair();
    expect(await sealedCaptureChallenge(await sealSignature(probe(), to(keys)), keys)).toEqual(CHALLENGE);
  });

  test("sealing twice gives different ciphertexts", async () => {
    const keys = await generateTemplateKeyPair();
    const s = probe();
    expect(await sealSignature(s, to(keys))).not.toEqual(await sealSignature(s, to(keys)));
  });

  test("a different template key cannot open it and fails with SealedSignatureInvalid", async () => {
    const keys = await generateTemplateKeyPair();
    const other = await generateTemplateKeyPair();
    const sealed = await sealSignature(probe(), to(keys));
    await expect(openSealedSignature(sealed, other)).rejects.toBeInstanceOf(SealedSignatureInvalid);
  });

  test("a tampered seal fails with SealedSignatureInvalid", async () => {
    const keys = await generateTemplateKeyPair();
    const sealed = await sealSignature(probe(), to(keys));
    sealed[100] = sealed[100]! ^ 1;
    await expect(openSealedSignature(sealed, keys)).rejects.toBeInstanceOf(SealedSignatureInvalid);
  });

  test("a seal too short or too long to hold a probe fails with SealedSignatureInvalid", async () => {
    const keys = await generateTemplateKeyPair();
    await expect(openSealedSignature(new Uint8Array(12), keys)).rejects.toBeInstanceOf(SealedSignatureInvalid);
    await expect(openSealedSignature(new Uint8Array(SEALED_SIGNATURE_MAX_BYTES + 1), keys)).rejects.toBeInstanceOf(SealedSignatureInvalid);
  });

  test("well-sealed bytes that are not a probe fail with SealedSignatureInvalid", async () => {
    const keys = await generateTemplateKeyPair();
    const sodium = await loadSodium();
    const sealed = sodium.crypto_box_seal(new Uint8Array(2000).fill(3), keys.publicKey);
    await expect(openSealedSignature(sealed, keys)).rejects.toMatchObject({
      _tag: "SealedSignatureInvalid",
      reason: expect.stringContaining("invalid palm template"),
    });
  });
});

describe("opening a request's seals", () => {
  test("opens every seal in order", async () => {
    const keys = await generateTemplateKeyPair();
    const probes = [syntheticPalm(1)(0), syntheticPalm(2)(0)];
    const opened = await openSealedSignatures(await Promise.all(probes.map((p) => sealSignature(p, to(keys)))), keys);
    expect(opened).toEqual(probes);
  });

  test("fails as a whole, with the bad seal's typed error, when one seal of several is bad", async () => {
    const keys = await generateTemplateKeyPair();
    const good = await sealSignature(syntheticPalm(1)(0), to(keys));
    await expect(openSealedSignatures([good, new Uint8Array(12), good], keys)).rejects.toBeInstanceOf(SealedSignatureInvalid);
  });
});
