import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { listDataset, readDatasetFrame } from "../../edge/biometrics/evaluation/dataset-folder.ts";
import { encodeGrey } from "../support/test-images.ts";
import { repoRoot } from "../support/region-process.ts";

describe("a dataset folder", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "palmline-dataset-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const put = async (subject: string, name: string, level: number) => {
    mkdirSync(join(root, subject), { recursive: true });
    writeFileSync(join(root, subject, name), await encodeGrey(16, 16, new Uint8Array(256).fill(level), "png"));
  };

  test("NAME and NAME.nir form one sample with two channels", async () => {
    await put("001", "x.png", 50);
    await put("001", "x.nir.png", 200);
    const samples = listDataset(root);
    expect(samples.map((s) => [s.subject, s.path, s.nirPath])).toEqual([["001", join(root, "001", "x.png"), join(root, "001", "x.nir.png")]]);
    const frame = await readDatasetFrame(samples[0]!, "fused");
    expect([frame.visible[0], frame.nir?.[0]]).toEqual([50, 200]);
  });

  test("a sample named s1_ or s2_ carries its session; others carry none", async () => {
    await put("001", "s1_01.png", 1);
    await put("001", "s2_07.png", 2);
    await put("002", "03.png", 3);
    expect(listDataset(root).map((s) => s.session)).toEqual(["s1", "s2", undefined]);
  });

  test("a subject limit keeps the first subjects in name order", async () => {
    for (const subject of ["003", "001", "002"]) await put(subject, "a.png", 1);
    expect(listDataset(root, 2).map((s) => s.subject)).toEqual(["001", "002"]);
  });

  test("a single image read for the NIR channel feeds the NIR branch and localisation alike", async () => {
    await put("001", "frame.png", 77);
    const frame = await readDatasetFrame(listDataset(root)[0]!, "nir");
    expect([frame.visible[0], frame.nir?.[0]]).toEqual([77, 77]);
  });

  test("a single image read for the visible channel has no NIR", async () => {
    await put("001", "frame.png", 77);
    expect((await readDatasetFrame(listDataset(root)[0]!, "visible")).nir).toBeUndefined();
  });
});

// Real palms are read from ../shared/palmsets at run time (never copied into the repository).
const palmsets = join(repoRoot, "..", "shared", "palmsets");
const setFolder = (set: string) => join(palmsets, set);
const firstSubject = (set: string) => readdirSync(setFolder(set)).sort()[0]!;

describe.skipIf(!existsSync(palmsets))(`the development palm sets (skipped: ${palmsets} is absent)`, () => {
  const firstSample = (set: string) => listDataset(setFolder(set)).find((s) => s.subject === firstSubject(set))!;

  test("a polyu-ms capture is a 128x128 visible + NIR pair from session s1", async () => {
    const sample = firstSample("polyu-ms");
    const frame = await readDatasetFrame(sample, "fused");
    expect([sample.session, frame.width, frame.height, frame.nir?.length]).toEqual(["s1", 128, 128, 128 * 128]);
  });

  test("a casia-hand-940 frame decodes at 768x576", async () => {
    const frame = await readDatasetFrame(firstSample("casia-hand-940"), "nir");
    expect([frame.width, frame.height]).toEqual([768, 576]);
  });

  test("an iitd-touchless BMP decodes at 150x150", async () => {
    const frame = await readDatasetFrame(firstSample("iitd-touchless"), "visible");
    expect([frame.width, frame.height]).toEqual([150, 150]);
  });
});
