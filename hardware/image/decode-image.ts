// Picks the decoder by content, not by file name. JPEG is recognised but not decoded: palmline has
// no JPEG decoder yet (a pure-JS one, jpeg-js, exists on the npm registry).
import { decodeBmp, isBmp } from "./bmp-decoder.ts";
import { decodePng, isPng } from "./png-decoder.ts";
import { UnsupportedImage, type GreyImage } from "./grey-image.ts";

export const isJpeg = (bytes: Uint8Array): boolean => bytes[0] === 0xff && bytes[1] === 0xd8;

export const decodeImage = (bytes: Uint8Array): GreyImage => {
  if (isPng(bytes)) return decodePng(bytes);
  if (isBmp(bytes)) return decodeBmp(bytes);
  if (isJpeg(bytes)) throw new UnsupportedImage("JPEG decoding is not available");
  throw new UnsupportedImage("unknown image format");
};
