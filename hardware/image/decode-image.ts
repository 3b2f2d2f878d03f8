// The one entry point from image bytes to a grey palm image. JPEG, PNG (any bit depth, palette,
// alpha) and TIFF are decoded by sharp (libvips); BMP by the small reader beside this file, since
// sharp's libvips has no BMP loader. Colour becomes grey by Rec. 601 luma on the stored values;
// 16-bit samples keep their high byte; alpha is ignored; EXIF orientation is ignored too, since a
// sensor frame's pixels are in the sensor's own order and the localiser handles any rotation.
import sharp, { type OutputInfo } from "sharp";
import { decodeBmp, isBmp } from "./bmp-decoder.ts";
import { luma, type GreyImage } from "./grey-image.ts";
import { InvalidImage } from "./invalid-image.ts";

// Decoded palms must not linger in libvips' operation cache after the caller has zeroed its copy.
sharp.cache(false);

type SharpFormat = "jpeg" | "png" | "tiff";

const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b);

// By content, not by file name; only the formats palmline promises, though libvips reads more.
const sharpFormat = (bytes: Uint8Array): SharpFormat | undefined =>
  startsWith(bytes, [0xff, 0xd8, 0xff])
    ? "jpeg"
    : startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
      ? "png"
      : startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])
        ? "tiff"
        : undefined;

// Whether the file visibly stops before its end marker (libvips only says it could not read it).
// TIFF has none: a cut TIFF is "truncated" only when its directory lies past the end, else "corrupt".
const endsEarly = (format: SharpFormat, bytes: Uint8Array): boolean => {
  const n = bytes.length;
  if (format === "jpeg") return !(bytes[n - 2] === 0xff && bytes[n - 1] === 0xd9);
  if (format === "png") return !(n >= 12 && String.fromCharCode(...bytes.subarray(n - 8, n - 4)) === "IEND");
  if (n < 8) return true;
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  return view.getUint32(4, bytes[0] === 0x49) >= n;
};

const decodeWithSharp = async (format: SharpFormat, bytes: Uint8Array): Promise<GreyImage> => {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    // failOn "warning": a JPEG cut short is an error, not an image padded with grey.
    decoded = await sharp(bytes, { failOn: "warning" }).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    const detail = `${format.toUpperCase()}: ${(e as Error).message.split("\n")[0]}`;
    throw new InvalidImage({ reason: endsEarly(format, bytes) ? "truncated" : "corrupt", detail });
  }
  const { data, info } = decoded;
  const { width, height, channels } = info;
  const pixels = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < pixels.length; i++, p += channels) pixels[i] = channels < 3 ? data[p]! : luma(data[p]!, data[p + 1]!, data[p + 2]!);
  data.fill(0);
  return { width, height, pixels };
};

export const decodeImage = async (bytes: Uint8Array): Promise<GreyImage> => {
  if (isBmp(bytes)) return decodeBmp(bytes);
  const format = sharpFormat(bytes);
  if (format === undefined) throw new InvalidImage({ reason: "unsupported-format", detail: bytes.length === 0 ? "empty file" : "not JPEG, PNG, BMP or TIFF" });
  return decodeWithSharp(format, bytes);
};
