// One open-set rendering thread: its own extractor (and a fresh sensor per palm, see
// open-set-rendering.ts); renders the palms it is sent and returns their entries in order.
import { parentPort } from "node:worker_threads";
import { SignatureExtractor } from "../signature-extractor.ts";
import { renderPalm, type OpenSetStage, type PalmEntry } from "./open-set-rendering.ts";

export interface RenderTask {
  readonly stage: OpenSetStage;
  readonly palms: readonly number[];
  readonly agreeScore: number;
}

export interface RenderResult {
  readonly palms: readonly number[];
  readonly entries: readonly PalmEntry[];
}

const extractor = await SignatureExtractor.load();

parentPort!.on("message", async (task: RenderTask) => {
  const entries: PalmEntry[] = [];
  for (const palm of task.palms) entries.push(await renderPalm(extractor, task.stage, palm, task.agreeScore));
  const result: RenderResult = { palms: task.palms, entries };
  parentPort!.postMessage(result);
});
