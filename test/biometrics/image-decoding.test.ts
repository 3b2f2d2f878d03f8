import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { encodePng } from "../../hardware/image/png-encoder.ts";
import { decodeImage } from "../../hardware/image/decode-image.ts";
import { FilePalmSensor } from "../../hardware/file-palm-sensor.ts";

const gradient = (w: number, h: number) => Uint8Array.from({ length: w * h }, (_, i) => (i * 7) & 255);

test("a grey PNG decodes to the pixels it was encoded from", () => {
  const pixels = gradient(33, 17);
  expect(decodeImage(encodePng(33, 17, pixels, 1))).toEqual({ width: 33, height: 17, pixels });
});

test("an RGB PNG decodes to luma", () => {
  const rgb = Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 10, 10);
  expect(Array.from(decodeImage(encodePng(4, 1, rgb, 3)).pixels)).toEqual([76, 150, 29, 10]);
});

test("a bottom-up 24-bit BMP decodes with rows in top-down order", () => {
  // 2x2: top row black, white; bottom row grey 100, grey 200. Rows padded to 8 bytes.
  const header = new Uint8Array(54);
  const v = new DataView(header.buffer);
  header[0] = 0x42, header[1] = 0x4d;
  v.setUint32(10, 54, true), v.setUint32(14, 40, true), v.setInt32(18, 2, true), v.setInt32(22, 2, true);
  v.setUint16(26, 1, true), v.setUint16(28, 24, true);
  const rows = Uint8Array.of(100, 100, 100, 200, 200, 200, 0, 0, 0, 0, 0, 255, 255, 255, 0, 0);
  const bmp = new Uint8Array([...header, ...rows]);
  expect(Array.from(decodeImage(bmp).pixels)).toEqual([0, 255, 100, 200]);
});

test("a JPEG is refused with a reason rather than misread", () => {
  expect(() => decodeImage(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0))).toThrow(/JPEG/);
});

test("the file-backed sensor replays a folder's images in name order with their NIR companions", async () => {
  const dir = mkdtempSync(join(tmpdir(), "palmline-files-"));
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "b.png"), encodePng(40, 40, new Uint8Array(1600).fill(2), 1));
    writeFileSync(join(dir, "a.png"), encodePng(40, 40, new Uint8Array(1600).fill(1), 1));
    writeFileSync(join(dir, "a.nir.png"), encodePng(40, 40, new Uint8Array(1600).fill(9), 1));
    const sensor = new FilePalmSensor(dir);
    const first = await sensor.capture();
    const second = await sensor.capture();
    expect([first.visible[0], first.nir?.[0], second.visible[0], second.nir]).toEqual([1, 9, 2, undefined]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
