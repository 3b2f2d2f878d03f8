// One palm capture as the flows use it: frame -> probe (quality, ROI, liveness, ONNX, template and
// its variants) -> sealed to the region's template key with the region's challenge for this
// request (RegionLink.captureSeal). Pixels and the clear probe are zeroed
// before it returns; a blurred or badly lit frame is retried a few times. A frame judged not live gets one
// second look (a live hand at a bad angle can fail once; a print or replica fails every time).
import type { PalmSensor } from "../hardware/palm-sensor.ts";
import { wipePalmProbe } from "../core/palm-template.ts";
import { sealSignature, type CaptureSeal } from "../protocol/index.ts";
import type { SignatureExtractor } from "./biometrics/signature-extractor.ts";
import { InvalidFrame, PoorQuality, PresentationAttackSuspected } from "./biometrics/capture-errors.ts";

/** Quality rejections tolerated per capture before the flow gives up and says why. */
export const MAX_QUALITY_RETRIES = 4;
/** Second looks after a frame judged not live, per capture. */
export const MAX_LIVENESS_RETRIES = 1;

const isSuspectedAttack = (error: unknown) => error instanceof PresentationAttackSuspected;

const isRetryable = (error: unknown) => error instanceof PoorQuality || error instanceof InvalidFrame;

export const captureSealedSignature = async (sensor: PalmSensor, extractor: SignatureExtractor, to: CaptureSeal, signal?: AbortSignal): Promise<Uint8Array> => {
  let livenessRetries = 0;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted === true) throw new Error("capture cancelled");
    const frame = await sensor.capture();
    try {
      const probe = await extractor.extract(frame);
      try {
        return await sealSignature(probe, to);
      } finally {
        wipePalmProbe(probe);
      }
    } catch (error) {
      if (isSuspectedAttack(error) && livenessRetries < MAX_LIVENESS_RETRIES) {
        livenessRetries++;
        continue;
      }
      if (!isRetryable(error) || attempt >= MAX_QUALITY_RETRIES) throw error;
    } finally {
      frame.visible.fill(0);
      frame.nir?.fill(0);
    }
  }
};
