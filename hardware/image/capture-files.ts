// A capture stored as files: `NAME.ext` is the visible image and `NAME.nir.ext` beside it, when
// present, the near-infrared image of the same moment (extensions .jpg .jpeg .png .bmp .tif
// .tiff, any case, and not necessarily the same for both). A `.nir` image without its visible mate
// is not a capture: a frame needs a visible channel, and single-band NIR sets store plain `NAME.ext`.
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeImage } from "./decode-image.ts";
import type { GreyImage } from "./grey-image.ts";
import { InvalidImage } from "./invalid-image.ts";

export interface CaptureFiles {
  /** The file name without extension (and without `.nir`). */
  readonly name: string;
  readonly visible: string;
  readonly nir?: string;
}

export interface CaptureImages {
  readonly visible: GreyImage;
  readonly nir?: GreyImage;
}

const IMAGE = /^(.*?)(\.nir)?\.(jpe?g|png|bmp|tiff?)$/i;

/** The captures in a folder, in name order. */
export const listCaptureFiles = (folder: string): CaptureFiles[] => {
  const visible = new Map<string, string>();
  const nir = new Map<string, string>();
  for (const file of readdirSync(folder).sort()) {
    const m = IMAGE.exec(file);
    if (m === null) continue;
    const channel = m[2] === undefined ? visible : nir;
    // Two files for one name and channel (x.png and x.jpg): the first in name order is the one.
    if (!channel.has(m[1]!)) channel.set(m[1]!, join(folder, file));
  }
  return [...visible]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, path]) => {
      const n = nir.get(name);
      return n === undefined ? { name, visible: path } : { name, visible: path, nir: n };
    });
};

// The encoded bytes are palm data too: zeroed once decoded.
const readImage = async (path: string): Promise<GreyImage> => {
  const bytes = await readFile(path);
  try {
    return await decodeImage(bytes);
  } finally {
    bytes.fill(0);
  }
};

/** Decodes a capture's images; both channels must have the same size. */
export const readCaptureImages = async (files: Pick<CaptureFiles, "visible" | "nir">): Promise<CaptureImages> => {
  if (files.nir === undefined) return { visible: await readImage(files.visible) };
  const [v, n] = await Promise.allSettled([readImage(files.visible), readImage(files.nir)]);
  if (v.status === "rejected" || n.status === "rejected") {
    for (const r of [v, n]) if (r.status === "fulfilled") r.value.pixels.fill(0);
    throw v.status === "rejected" ? v.reason : (n as PromiseRejectedResult).reason;
  }
  const [visible, nir] = [v.value, n.value];
  if (nir.width !== visible.width || nir.height !== visible.height) {
    visible.pixels.fill(0);
    nir.pixels.fill(0);
    throw new InvalidImage({
      reason: "channel-size-mismatch",
      detail: `${files.visible}: visible ${visible.width}x${visible.height}, NIR ${nir.width}x${nir.height}`,
    });
  }
  return { visible, nir };
};
