import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { FilePalmSensor } from "../../hardware/file-palm-sensor.ts";
import { InvalidImage } from "../../hardware/image/invalid-image.ts";
import { encodeBmp, encodeGrey } from "../support/test-images.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "palmline-file-sensor-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const flat = (level: number, size = 40) => new Uint8Array(size * size).fill(level);
const put = async (name: string, level: number, size = 40) => {
  writeFileSync(join(dir, name), await encodeGrey(size, size, flat(level, size), "png"));
};

test("captures are replayed in name order, looping, each with its NIR mate when there is one", async () => {
  await put("b.png", 2);
  await put("a.png", 1);
  await put("a.nir.png", 9);
  const sensor = new FilePalmSensor(dir);
  const frames = [await sensor.capture(), await sensor.capture(), await sensor.capture()];
  expect(frames.map((f) => [f.visible[0], f.nir?.[0]])).toEqual([
    [1, 9],
    [2, undefined],
    [1, 9],
  ]);
});

test("a visible image and its NIR mate pair whatever their formats and the case of their extensions", async () => {
  writeFileSync(join(dir, "hand.JPG"), await encodeGrey(40, 40, flat(120), "jpeg"));
  writeFileSync(join(dir, "hand.nir.bmp"), encodeBmp(40, 40, flat(30), 8));
  const sensor = new FilePalmSensor(dir);
  const frame = await sensor.capture();
  expect([sensor.imageCount, frame.nir?.[0]]).toEqual([1, 30]);
});

test("a NIR image without its visible mate is not a capture", async () => {
  await put("a.png", 1);
  await put("lone.nir.png", 9);
  expect(new FilePalmSensor(dir).imageCount).toBe(1);
});

test("a capture whose channels differ in size is refused as an invalid image", async () => {
  await put("a.png", 1, 40);
  await put("a.nir.png", 9, 32);
  await expect(new FilePalmSensor(dir).capture()).rejects.toMatchObject({ _tag: "InvalidImage", reason: "channel-size-mismatch" });
});

test("an undecodable file makes that capture fail with InvalidImage, not the sensor", async () => {
  writeFileSync(join(dir, "a.jpg"), Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 16));
  await put("b.png", 2);
  const sensor = new FilePalmSensor(dir);
  await expect(sensor.capture()).rejects.toBeInstanceOf(InvalidImage);
  expect((await sensor.capture()).visible[0]).toBe(2);
});

test("a capture whose NIR image cannot be decoded fails with InvalidImage", async () => {
  await put("a.png", 1);
  writeFileSync(join(dir, "a.nir.png"), new TextEncoder().encode("not an image"));
  await expect(new FilePalmSensor(dir).capture()).rejects.toMatchObject({ _tag: "InvalidImage", reason: "unsupported-format" });
});
