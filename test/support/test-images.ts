// Images made at test time from synthetic patterns (never a real palm), in the file formats
// palmline reads. sharp writes JPEG, PNG and TIFF; it cannot write BMP, so BMP is laid out here.
import sharp, { type Sharp } from "sharp";

/** A pattern with every byte value and no smoothness: lossless formats must keep it exactly. */
export const byteRamp = (width: number, height: number, channels = 1, seed = 0): Uint8Array =>
  Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37 + (i >> 5) * 11 + seed) & 255);

/** A smooth grey pattern that JPEG reproduces within a few levels. */
export const smoothGrey = (width: number, height: number): Uint8Array =>
  Uint8Array.from({ length: width * height }, (_, i) => Math.round(128 + 90 * Math.sin((i % width) / 6) * Math.cos(Math.floor(i / width) / 9)));

export type Encoding = "png" | "jpeg" | "tiff";

const encode = (image: Sharp, encoding: Encoding): Promise<Buffer> =>
  encoding === "png" ? image.png().toBuffer() : encoding === "jpeg" ? image.jpeg({ quality: 95 }).toBuffer() : image.tiff({ compression: "lzw" }).toBuffer();

/** An 8-bit grey file (one channel in the file, not grey stored as RGB). */
export const encodeGrey = (width: number, height: number, pixels: Uint8Array, encoding: Encoding): Promise<Buffer> =>
  encode(sharp(pixels, { raw: { width, height, channels: 1 } }).toColourspace("b-w"), encoding);

/** An 8-bit RGB or RGBA file from interleaved samples. */
export const encodeColour = (width: number, height: number, samples: Uint8Array, channels: 3 | 4, encoding: Encoding): Promise<Buffer> =>
  encode(sharp(samples, { raw: { width, height, channels } }), encoding);

/** A 16-bit grey or RGB file from interleaved 16-bit samples. */
export const encode16 = (width: number, height: number, samples: Uint16Array, channels: 1 | 3, encoding: "png" | "tiff"): Promise<Buffer> =>
  encode(sharp(samples, { raw: { width, height, channels } }).toColourspace(channels === 1 ? "grey16" : "rgb16"), encoding);

/**
 * An uncompressed BMP, bottom-up unless `topDown`. 8-bit files get a grey palette (index = level);
 * 24-bit files take interleaved RGB samples, stored as BGR.
 */
export const encodeBmp = (width: number, height: number, samples: Uint8Array, bits: 8 | 24, topDown = false): Uint8Array => {
  const stride = Math.ceil((width * bits) / 32) * 4;
  const paletteBytes = bits === 8 ? 256 * 4 : 0;
  const dataOffset = 54 + paletteBytes;
  const out = new Uint8Array(dataOffset + stride * height);
  const view = new DataView(out.buffer);
  out[0] = 0x42;
  out[1] = 0x4d;
  view.setUint32(2, out.length, true);
  view.setUint32(10, dataOffset, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, topDown ? -height : height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, bits, true);
  for (let k = 0; k < paletteBytes / 4; k++) out.fill(k, 54 + k * 4, 54 + k * 4 + 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (bits === 8) out[row + x] = samples[i]!;
      else out.set([samples[i * 3 + 2]!, samples[i * 3 + 1]!, samples[i * 3]!], row + x * 3);
    }
  }
  return out;
};
