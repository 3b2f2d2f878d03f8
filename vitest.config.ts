import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Native addons (faiss, onnxruntime) and real child processes: forks isolate them best.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
