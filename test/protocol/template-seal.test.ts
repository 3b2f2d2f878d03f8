import { describe, expect, test } from "vitest";
import { toPalmSignature, SIGNATURE_DIMENSION } from "../../core/palm-signature.ts";
import {
  generateTemplateKeyPair,
  openSealedSignature,
  sealSignature,
  SEALED_SIGNATURE_BYTES,
  SealedSignatureInvalid,
} from "../../protocol/index.ts";

const signature = () => toPalmSignature(Array.from({ length: SIGNATURE_DIMENSION }, (_, i) => Math.sin(i + 1)));

describe("template seal", () => {
  test("opens what was sealed to the same template key", async () => {
    const keys = await generateTemplateKeyPair();
    const original = signature();
    const sealed = await sealSignature(original, keys.publicKey);
    expect(sealed.byteLength).toBe(SEALED_SIGNATURE_BYTES);
    expect(Array.from(await openSealedSignature(sealed, keys))).toEqual(Array.from(original));
  });

  test("sealing twice gives different ciphertexts", async () => {
    const keys = await generateTemplateKeyPair();
    const s = signature();
    expect(await sealSignature(s, keys.publicKey)).not.toEqual(await sealSignature(s, keys.publicKey));
  });

  test("a different template key cannot open it and fails with SealedSignatureInvalid", async () => {
    const keys = await generateTemplateKeyPair();
    const other = await generateTemplateKeyPair();
    const sealed = await sealSignature(signature(), keys.publicKey);
    await expect(openSealedSignature(sealed, other)).rejects.toBeInstanceOf(SealedSignatureInvalid);
  });

  test("a tampered seal fails with SealedSignatureInvalid", async () => {
    const keys = await generateTemplateKeyPair();
    const sealed = await sealSignature(signature(), keys.publicKey);
    sealed[100] = sealed[100]! ^ 1;
    await expect(openSealedSignature(sealed, keys)).rejects.toBeInstanceOf(SealedSignatureInvalid);
  });

  test("a seal of the wrong length fails with SealedSignatureInvalid", async () => {
    const keys = await generateTemplateKeyPair();
    await expect(openSealedSignature(new Uint8Array(12), keys)).rejects.toBeInstanceOf(SealedSignatureInvalid);
  });
});
