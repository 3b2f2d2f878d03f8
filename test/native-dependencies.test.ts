// Each native or WebAssembly dependency loads and does real work under the project's Node 24.
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import faiss from "faiss-node";
import sodium from "libsodium-wrappers";
import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { DEFAULT_MODEL_PATH, MODEL_INPUT_NIR, MODEL_INPUT_VISIBLE, MODEL_OUTPUT_SURFACE_CODE, ROI_SIZE } from "../edge/biometrics/signature-model-contract.ts";
import { TEMPLATE_CODE_DESIGN } from "../models/signature-model-graph.ts";

describe("native dependencies under the pinned Node", () => {
  test("the project's scripts run on Node 24", () => {
    expect(process.versions.node.split(".")[0]).toBe("24");
  });

  test("faiss-node adds vectors and finds the nearest", () => {
    const index = new faiss.IndexFlatIP(4);
    index.add([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
    const { labels, distances } = index.search([0, 0.9, 0.1, 0], 2);
    expect(labels[0]).toBe(1);
    expect(distances[0]).toBeCloseTo(0.9, 5);
    expect(index.ntotal()).toBe(3);
  });

  test("faiss-node builds an HNSW index through the factory", () => {
    const index = faiss.Index.fromFactory(8, "HNSW16,Flat", faiss.MetricType.METRIC_INNER_PRODUCT);
    index.add(Array.from({ length: 8 * 20 }, (_, i) => Math.sin(i)));
    expect(
      index.search(
        Array.from({ length: 8 }, (_, i) => Math.sin(8 * 3 + i)),
        1,
      ).labels[0],
    ).toBe(3);
  });

  test("onnxruntime-node runs the signature model", async () => {
    const session = await ort.InferenceSession.create(fileURLToPath(DEFAULT_MODEL_PATH));
    const dims = [1, 1, ROI_SIZE, ROI_SIZE];
    const pixels = Float32Array.from({ length: ROI_SIZE * ROI_SIZE }, (_, i) => ((i * 37) % 255) / 255);
    const out = await session.run({
      [MODEL_INPUT_VISIBLE]: new ort.Tensor("float32", pixels, dims),
      [MODEL_INPUT_NIR]: new ort.Tensor("float32", pixels.slice(), dims),
    });
    const responses = out[MODEL_OUTPUT_SURFACE_CODE]!;
    expect(responses.dims).toEqual([1, TEMPLATE_CODE_DESIGN.orientations, TEMPLATE_CODE_DESIGN.grid, TEMPLATE_CODE_DESIGN.grid]);
    expect((responses.data as Float32Array).every(Number.isFinite)).toBe(true);
    await session.release();
  });

  test("libsodium is ready and encrypts with XChaCha20-Poly1305", async () => {
    await sodium.ready;
    const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
    const nonce = sodium.randombytes_buf(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    const box = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt("palm", null, null, nonce, key);
    expect(sodium.to_string(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, box, null, nonce, key))).toBe("palm");
  });

  test("node:sqlite stores and reads a row", () => {
    const db = new DatabaseSync(":memory:");
    db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB) STRICT");
    db.prepare("INSERT INTO t VALUES (?, ?)").run("a", new Uint8Array([1, 2, 3]));
    expect(db.prepare("SELECT v FROM t WHERE k = 'a'").get()).toEqual({ v: new Uint8Array([1, 2, 3]) });
    db.close();
  });
});
