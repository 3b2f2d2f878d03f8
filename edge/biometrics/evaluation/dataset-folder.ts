// A palm dataset on disk: DIR/<subject>/<capture>, one folder per subject (a subject is one palm:
// datasets that keep left and right hands apart give them separate folders); a capture is one
// image or a visible + NIR pair (hardware/image/capture-files.ts). A capture name starting with
// `s1_`, `s2_`, ... belongs to that acquisition session.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { PalmFrame } from "../../../hardware/palm-sensor.ts";
import { listCaptureFiles, readCaptureImages } from "../../../hardware/image/capture-files.ts";
import type { ModelChannels } from "../signature-extractor.ts";

export interface DatasetImage {
  readonly subject: string;
  /** The visible image, or the only image of a single-band capture. */
  readonly path: string;
  /** The NIR image of a two-channel capture. */
  readonly nirPath?: string;
  /** `s1`, `s2`, ... when the capture's name carries its session. */
  readonly session?: string;
}

const SESSION = /^(s\d+)_/i;

/** The dataset's captures, subject by subject in name order; only the first `subjects` when given. */
export const listDataset = (root: string, subjects = Infinity): DatasetImage[] => {
  const out: DatasetImage[] = [];
  const folders = readdirSync(root)
    .sort()
    .filter((subject) => statSync(join(root, subject)).isDirectory())
    .slice(0, subjects);
  for (const subject of folders) {
    const dir = join(root, subject);
    for (const files of listCaptureFiles(dir)) {
      const session = SESSION.exec(files.name)?.[1]?.toLowerCase();
      out.push({
        subject,
        path: files.visible,
        ...(files.nir === undefined ? {} : { nirPath: files.nir }),
        ...(session === undefined ? {} : { session }),
      });
    }
  }
  return out;
};

/**
 * The frame a dataset capture gives the extractor. A pair gives both channels (the extractor's
 * channel option picks what the model sees); a single image read with `channel` "nir" is a NIR
 * band, so it also stands in as the visible channel that localisation works on.
 */
export const readDatasetFrame = async (image: DatasetImage, channel: ModelChannels): Promise<PalmFrame> => {
  const { visible, nir } = await readCaptureImages({ visible: image.path, nir: image.nirPath });
  const frame = { width: visible.width, height: visible.height, visible: visible.pixels, capturedAt: 0 };
  if (nir !== undefined) return { ...frame, nir: nir.pixels };
  return channel === "nir" ? { ...frame, nir: visible.pixels } : frame;
};
