import sharp from "sharp";
import { describe, expect, test } from "vitest";
import { decodeImage } from "../../hardware/image/decode-image.ts";
import { luma } from "../../hardware/image/grey-image.ts";
import { InvalidImage } from "../../hardware/image/invalid-image.ts";
import { byteRamp, encode16, encodeBmp, encodeColour, encodeGrey, smoothGrey } from "../support/test-images.ts";

const W = 37,
  H = 23;

/** Rec. 601 luma of interleaved samples with `channels` per pixel (alpha, if any, ignored). */
const lumaOf = (samples: ArrayLike<number>, channels: number, scale = 1): number[] =>
  Array.from({ length: samples.length / channels }, (_, i) =>
    luma(Math.floor(samples[i * channels]! / scale), Math.floor(samples[i * channels + 1]! / scale), Math.floor(samples[i * channels + 2]! / scale)),
  );

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

const rejection = async (bytes: Uint8Array): Promise<InvalidImage> => {
  const e = await decodeImage(bytes).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(InvalidImage);
  return e as InvalidImage;
};

describe("decoding keeps pixel values", () => {
  test("an 8-bit grey PNG decodes to exactly the pixels it was made from", async () => {
    const pixels = byteRamp(W, H);
    const png = await encodeGrey(W, H, pixels, "png");
    expect((await sharp(png).metadata()).channels).toBe(1);
    expect(await decodeImage(png)).toEqual({ width: W, height: H, pixels });
  });

  test("a 16-bit grey PNG decodes to the high byte of each sample", async () => {
    const samples = Uint16Array.from({ length: W * H }, (_, i) => (i * 1297) & 0xffff);
    const png = await encode16(W, H, samples, 1, "png");
    expect((await sharp(png).metadata()).depth).toBe("ushort");
    expect(Array.from((await decodeImage(png)).pixels)).toEqual(Array.from(samples, (v) => v >> 8));
  });

  test("an RGB PNG decodes to Rec. 601 luma", async () => {
    const rgb = byteRamp(W, H, 3);
    const decoded = await decodeImage(await encodeColour(W, H, rgb, 3, "png"));
    expect(Array.from(decoded.pixels)).toEqual(lumaOf(rgb, 3));
  });

  test("an RGBA PNG decodes to the luma of its colour, whatever its alpha", async () => {
    const rgba = byteRamp(W, H, 4, 5);
    const decoded = await decodeImage(await encodeColour(W, H, rgba, 4, "png"));
    expect(Array.from(decoded.pixels)).toEqual(lumaOf(rgba, 4));
  });

  test("a 16-bit RGB PNG decodes to the luma of each sample's high byte", async () => {
    const samples = Uint16Array.from({ length: W * H * 3 }, (_, i) => (i * 2693 + 17) & 0xffff);
    const decoded = await decodeImage(await encode16(W, H, samples, 3, "png"));
    expect(Array.from(decoded.pixels)).toEqual(lumaOf(samples, 3, 256));
  });

  test("a grey JPEG decodes within 3 levels of the pattern it was made from", async () => {
    const pixels = smoothGrey(W, H);
    const decoded = await decodeImage(await encodeGrey(W, H, pixels, "jpeg"));
    expect([decoded.width, decoded.height]).toEqual([W, H]);
    expect(maxDifference(decoded.pixels, pixels)).toBeLessThanOrEqual(3);
  });

  test("a colour JPEG decodes within 4 levels of the pattern's luma", async () => {
    const grey = smoothGrey(W, H);
    const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => Math.min(255, grey[Math.floor(i / 3)]! + (i % 3) * 20));
    const decoded = await decodeImage(await encodeColour(W, H, rgb, 3, "jpeg"));
    expect(maxDifference(decoded.pixels, lumaOf(rgb, 3))).toBeLessThanOrEqual(4);
  });

  test("an 8-bit grey TIFF decodes to exactly the pixels it was made from", async () => {
    const pixels = byteRamp(W, H);
    expect(await decodeImage(await encodeGrey(W, H, pixels, "tiff"))).toEqual({ width: W, height: H, pixels });
  });

  test("an RGB TIFF decodes to Rec. 601 luma", async () => {
    const rgb = byteRamp(W, H, 3, 9);
    expect(Array.from((await decodeImage(await encodeColour(W, H, rgb, 3, "tiff"))).pixels)).toEqual(lumaOf(rgb, 3));
  });

  test("a 16-bit grey TIFF decodes to the high byte of each sample", async () => {
    const samples = Uint16Array.from({ length: W * H }, (_, i) => (i * 4099) & 0xffff);
    expect(Array.from((await decodeImage(await encode16(W, H, samples, 1, "tiff"))).pixels)).toEqual(Array.from(samples, (v) => v >> 8));
  });

  test("an 8-bit palette BMP, stored bottom-up, decodes to its rows top-down", async () => {
    const pixels = byteRamp(W, H);
    expect(await decodeImage(encodeBmp(W, H, pixels, 8))).toEqual({ width: W, height: H, pixels });
  });

  test("a 24-bit BMP decodes to Rec. 601 luma, bottom-up or top-down", async () => {
    const rgb = byteRamp(W, H, 3, 3);
    expect(Array.from((await decodeImage(encodeBmp(W, H, rgb, 24))).pixels)).toEqual(lumaOf(rgb, 3));
    expect(Array.from((await decodeImage(encodeBmp(W, H, rgb, 24, true))).pixels)).toEqual(lumaOf(rgb, 3));
  });
});

describe("bad bytes are refused with a reason", () => {
  const cut = (bytes: Uint8Array) => bytes.subarray(0, Math.floor(bytes.length / 2));
  /** Flips bytes in the middle, leaving the header and the end marker whole. */
  const damage = (bytes: Uint8Array) => {
    const out = Uint8Array.from(bytes);
    for (let i = Math.floor(out.length * 0.4); i < Math.floor(out.length * 0.6); i++) out[i]! ^= 0xa5;
    return out;
  };

  test("a JPEG cut in half is truncated", async () => {
    expect((await rejection(cut(await encodeGrey(W, H, smoothGrey(W, H), "jpeg")))).reason).toBe("truncated");
  });

  test("a PNG cut in half is truncated", async () => {
    expect((await rejection(cut(await encodeGrey(W, H, byteRamp(W, H), "png")))).reason).toBe("truncated");
  });

  test("a TIFF cut in half is corrupt: TIFF has no end marker to tell a cut by", async () => {
    expect((await rejection(cut(await encodeGrey(W, H, byteRamp(W, H), "tiff")))).reason).toBe("corrupt");
  });

  test("a BMP cut in half is truncated", async () => {
    expect((await rejection(cut(encodeBmp(W, H, byteRamp(W, H), 8)))).reason).toBe("truncated");
  });

  test("a JPEG with damaged data is corrupt", async () => {
    expect((await rejection(damage(await encodeGrey(W, H, smoothGrey(W, H), "jpeg")))).reason).toBe("corrupt");
  });

  test("a PNG with damaged data is corrupt", async () => {
    expect((await rejection(damage(await encodeGrey(W, H, byteRamp(W, H), "png")))).reason).toBe("corrupt");
  });

  test("bytes of no image format are an unsupported format", async () => {
    expect((await rejection(new TextEncoder().encode("palm print, not a picture"))).reason).toBe("unsupported-format");
  });

  test("an empty file is an unsupported format", async () => {
    expect((await rejection(new Uint8Array(0))).reason).toBe("unsupported-format");
  });

  test("a GIF is refused although libvips could read it: palmline reads JPEG, PNG, BMP and TIFF", async () => {
    const gif = await sharp(byteRamp(W, H), { raw: { width: W, height: H, channels: 1 } })
      .gif()
      .toBuffer();
    expect((await rejection(gif)).reason).toBe("unsupported-format");
  });

  test("a run-length compressed BMP is an unsupported format", async () => {
    const bmp = encodeBmp(W, H, byteRamp(W, H), 8);
    new DataView(bmp.buffer).setUint32(30, 1, true);
    expect((await rejection(bmp)).reason).toBe("unsupported-format");
  });
});
