// An evaluated recognition method, from the ROI the pipeline acquired to a serialised template;
// its pair score lives in pair-scorers.ts under the same name. Every method sees the same ROIs,
// acquired once by the SignatureExtractor (localisation, quality gate), so a comparison between
// methods measures the methods and nothing else.
import { encodePalmProbe, encodePalmTemplate } from "../../../core/palm-template.ts";
import type { SignatureExtractor } from "../signature-extractor.ts";
import type { PalmRoiChannels } from "../roi-sampler.ts";
import { CompCodeEncoder } from "./compcode-reference.ts";
import type { MethodName } from "./pair-scorers.ts";

export interface TemplateEncoder {
  encode(roi: PalmRoiChannels): Promise<Uint8Array>;
  close(): Promise<void>;
}

export const loadEncoder = async (method: MethodName, extractor: SignatureExtractor): Promise<TemplateEncoder> => {
  if (method === "compcode") {
    const compcode = await CompCodeEncoder.load();
    return { encode: async (roi) => encodePalmTemplate(await compcode.encode(roi)), close: () => compcode.close() };
  }
  // palmline: the probe (template and its rotated variants) through the shipped model.
  return { encode: async (roi) => encodePalmProbe(await extractor.probeOfRoi(roi)), close: async () => {} };
};
