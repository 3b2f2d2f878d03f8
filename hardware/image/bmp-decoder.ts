// BMP decoding into grey: uncompressed 8-bit (palette), 24-bit and 32-bit, bottom-up or top-down.
import { luma, UnsupportedImage, type GreyImage } from "./grey-image.ts";

export const isBmp = (bytes: Uint8Array): boolean => bytes[0] === 0x42 && bytes[1] === 0x4d;

export const decodeBmp = (bytes: Uint8Array): GreyImage => {
  if (!isBmp(bytes) || bytes.length < 54) throw new UnsupportedImage("not a BMP file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bits = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (compression !== 0 && !(compression === 3 && bits === 32)) throw new UnsupportedImage(`compressed BMP (${compression})`);
  if (![8, 24, 32].includes(bits)) throw new UnsupportedImage(`${bits}-bit BMP`);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  const stride = Math.ceil((width * bits) / 32) * 4;
  if (width <= 0 || height === 0 || dataOffset + stride * height > bytes.length) throw new UnsupportedImage("truncated BMP");
  const paletteAt = 14 + headerSize;
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      let v: number;
      if (bits === 8) {
        const k = paletteAt + bytes[row + x]! * 4;
        v = luma(bytes[k + 2] ?? 0, bytes[k + 1] ?? 0, bytes[k] ?? 0);
      } else {
        const p = row + x * (bits >> 3);
        v = luma(bytes[p + 2]!, bytes[p + 1]!, bytes[p]!);
      }
      pixels[y * width + x] = v;
    }
  }
  return { width, height, pixels };
};
