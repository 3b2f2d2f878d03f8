// BMP decoding into grey: uncompressed 8-bit (palette), 24-bit and 32-bit, bottom-up or top-down.
// The one format not read through sharp: its prebuilt libvips has no BMP loader (BMP goes through
// ImageMagick in libvips, which sharp's binaries leave out), and the IIT Delhi set is BMP.
import { luma, type GreyImage } from "./grey-image.ts";
import { InvalidImage } from "./invalid-image.ts";

const FILE_HEADER = 14;
const INFO_HEADER = 40;

export const isBmp = (bytes: Uint8Array): boolean => bytes[0] === 0x42 && bytes[1] === 0x4d;

export const decodeBmp = (bytes: Uint8Array): GreyImage => {
  if (!isBmp(bytes)) throw new InvalidImage({ reason: "unsupported-format", detail: "not a BMP file" });
  if (bytes.length < FILE_HEADER + INFO_HEADER) throw new InvalidImage({ reason: "truncated", detail: `BMP of ${bytes.length} bytes ends inside its header` });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bits = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (headerSize < INFO_HEADER) throw new InvalidImage({ reason: "unsupported-format", detail: `BMP header of ${headerSize} bytes (OS/2 bitmap)` });
  if (compression !== 0 && !(compression === 3 && bits === 32))
    throw new InvalidImage({ reason: "unsupported-format", detail: `compressed BMP (method ${compression})` });
  if (![8, 24, 32].includes(bits)) throw new InvalidImage({ reason: "unsupported-format", detail: `${bits}-bit BMP` });
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0) throw new InvalidImage({ reason: "corrupt", detail: `BMP of ${width}x${rawHeight} pixels` });
  const topDown = rawHeight < 0;
  const stride = Math.ceil((width * bits) / 32) * 4;
  const paletteAt = FILE_HEADER + headerSize;
  if (dataOffset + stride * height > bytes.length) {
    throw new InvalidImage({ reason: "truncated", detail: `BMP needs ${dataOffset + stride * height} bytes, has ${bytes.length}` });
  }
  if (bits === 8 && paletteAt + 4 > dataOffset) throw new InvalidImage({ reason: "corrupt", detail: "8-bit BMP without a palette" });
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      let v: number;
      if (bits === 8) {
        // An index past a short palette reads as black rather than as pixel data.
        const k = paletteAt + bytes[row + x]! * 4;
        v = k + 2 < dataOffset ? luma(bytes[k + 2]!, bytes[k + 1]!, bytes[k]!) : 0;
      } else {
        const p = row + x * (bits >> 3);
        v = luma(bytes[p + 2]!, bytes[p + 1]!, bytes[p]!);
      }
      pixels[y * width + x] = v;
    }
  }
  return { width, height, pixels };
};
