// PNG decoding into grey: colour types grey, grey+alpha, RGB, RGBA and palette; bit depths 1-8
// and 16; all five scanline filters; no interlacing (Adam7 images are refused).
import { inflateSync } from "node:zlib";
import { luma, UnsupportedImage, type GreyImage } from "./grey-image.ts";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export const isPng = (bytes: Uint8Array): boolean => SIGNATURE.every((b, i) => bytes[i] === b);

const paeth = (a: number, b: number, c: number): number => {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

export const decodePng = (bytes: Uint8Array): GreyImage => {
  if (!isPng(bytes)) throw new UnsupportedImage("not a PNG file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let width = 0, height = 0, depth = 0, colour = 0, interlace = 0;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      depth = data[8]!;
      colour = data[9]!;
      interlace = data[12]!;
    } else if (type === "PLTE") palette = data;
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    at += 12 + length;
  }
  const channels = CHANNELS[colour];
  if (channels === undefined || width === 0 || height === 0) throw new UnsupportedImage(`PNG colour type ${colour}`);
  if (interlace !== 0) throw new UnsupportedImage("interlaced PNG");
  if (colour === 3 && palette === undefined) throw new UnsupportedImage("palette PNG without PLTE");
  const raw = inflateSync(Buffer.concat(idat));
  const bitsPerPixel = channels * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  if (raw.length < (stride + 1) * height) throw new UnsupportedImage("truncated PNG data");
  const lines = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? lines[dst + x - bpp]! : 0;
      const b = y > 0 ? lines[dst - stride + x]! : 0;
      const c = x >= bpp && y > 0 ? lines[dst - stride + x - bpp]! : 0;
      const v = raw[src + x]!;
      lines[dst + x] =
        filter === 0 ? v : filter === 1 ? v + a : filter === 2 ? v + b : filter === 3 ? v + ((a + b) >> 1) : v + paeth(a, b, c);
    }
  }
  const sample = (y: number, x: number, channel: number): number => {
    const row = y * stride;
    if (depth === 8) return lines[row + x * channels + channel]!;
    if (depth === 16) return lines[row + (x * channels + channel) * 2]!;
    const bit = (x * channels + channel) * depth;
    const v = (lines[row + (bit >> 3)]! >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
    return colour === 3 ? v : Math.round((v * 255) / ((1 << depth) - 1));
  };
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v: number;
      if (colour === 3) {
        const k = sample(y, x, 0) * 3;
        v = luma(palette![k] ?? 0, palette![k + 1] ?? 0, palette![k + 2] ?? 0);
      } else if (channels >= 3) v = luma(sample(y, x, 0), sample(y, x, 1), sample(y, x, 2));
      else v = sample(y, x, 0);
      pixels[y * width + x] = v;
    }
  }
  lines.fill(0);
  return { width, height, pixels };
};
