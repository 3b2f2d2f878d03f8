// Sealing a data key to a peer region: crypto_box_seal's format, opened only by that region,
// with a fresh ephemeral key each time.
import { expect, test } from "vitest";
import { dataKeyOpenerFor, dataKeySealerFor, SealedDataKeyUnopenable } from "../../cloud/replication/sealed-data-key.ts";
import { generateIdentityKeyPair } from "../../protocol/index.ts";
import { loadSodium } from "../../protocol/sodium.ts";

const dataKey = new Uint8Array(32).map((_, i) => i + 1);

test("a sealed data key opens with crypto_box_seal_open under the receiver's identity", async () => {
  const sodium = await loadSodium();
  const receiver = await generateIdentityKeyPair();
  const sealed = dataKeySealerFor(sodium, receiver.publicKey)(dataKey);
  expect(sealed.byteLength).toBe(sodium.crypto_box_SEALBYTES + dataKey.byteLength);
  expect(Buffer.from(dataKeyOpenerFor(sodium, receiver)("id_1", sealed)).equals(Buffer.from(dataKey))).toBe(true);
});

test("another region cannot open a data key sealed to the receiver", async () => {
  const sodium = await loadSodium();
  const [receiver, other] = await Promise.all([generateIdentityKeyPair(), generateIdentityKeyPair()]);
  const sealed = dataKeySealerFor(sodium, receiver.publicKey)(dataKey);
  expect(() => dataKeyOpenerFor(sodium, other)("id_1", sealed)).toThrow(SealedDataKeyUnopenable);
});

test("each seal of the same key uses a fresh ephemeral key", async () => {
  const sodium = await loadSodium();
  const seal = dataKeySealerFor(sodium, (await generateIdentityKeyPair()).publicKey);
  const [first, second] = [seal(dataKey), seal(dataKey)];
  expect(Buffer.from(first.subarray(0, sodium.crypto_box_PUBLICKEYBYTES)).equals(Buffer.from(second.subarray(0, sodium.crypto_box_PUBLICKEYBYTES)))).toBe(
    false,
  );
});
