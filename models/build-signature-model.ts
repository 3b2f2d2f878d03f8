// Writes models/palm-signature.onnx from the repo alone. The bytes depend only on this code, so a
// rebuild is byte-identical to the committed file (a test checks it).
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { serializeModel } from "./onnx/onnx-model.ts";
import { signatureModelGraph } from "./signature-model-graph.ts";
import { DEFAULT_MODEL_PATH } from "../edge/biometrics/signature-model-contract.ts";

export const MODEL_PRODUCER = { name: "palmline", version: "1" } as const;

export const buildSignatureModel = (): Uint8Array => serializeModel(signatureModelGraph(), MODEL_PRODUCER);

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bytes = buildSignatureModel();
  writeFileSync(DEFAULT_MODEL_PATH, bytes);
  console.log(`wrote ${fileURLToPath(DEFAULT_MODEL_PATH)} (${bytes.byteLength} bytes)`);
}
