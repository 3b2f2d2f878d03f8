import { afterAll, beforeAll, expect, test } from "vitest";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { SimulatedPalmSensor, type SimulatedHand } from "../../hardware/simulated-palm-sensor.ts";
import { SIGNATURE_DIMENSION, similarity, type PalmSignature } from "../../core/palm-signature.ts";
import { MATCH_THRESHOLD } from "../../core/match-threshold.ts";
import type { PalmFrame } from "../../hardware/palm-sensor.ts";

let extractor: SignatureExtractor;
const hands: SimulatedHand[] = [1, 2, 3, 4, 5, 6].map((s) => ({ subjectSeed: 7000 + s, side: s % 2 === 0 ? "left" : "right" }));
const signatures = new Map<number, PalmSignature[]>();

beforeAll(async () => {
  extractor = await SignatureExtractor.load();
  const sensor = new SimulatedPalmSensor({ seed: 99 });
  for (const [i, hand] of hands.entries()) {
    sensor.present(hand);
    const list: PalmSignature[] = [];
    // A capture may fail to acquire (occlusion, blur): a person would simply present again.
    for (let attempt = 0; attempt < 10 && list.length < 3; attempt++) {
      try {
        list.push(await extractor.extract(await sensor.capture()));
      } catch (e) {
        if ((e as { _tag?: string })._tag !== "PoorQuality") throw e;
      }
    }
    signatures.set(i, list);
  }
});

afterAll(async () => {
  await extractor.close();
});

const catchTag = async (frame: PalmFrame): Promise<unknown> => {
  try {
    await extractor.extract(frame);
    return undefined;
  } catch (e) {
    return (e as { _tag?: string })._tag;
  }
};

test("every hand yields three signatures within ten presentations", () => {
  for (const list of signatures.values()) expect(list.length).toBe(3);
});

test("a signature is a unit vector of the configured dimension", () => {
  const s = signatures.get(0)![0]!;
  expect(s.length).toBe(SIGNATURE_DIMENSION);
  expect(similarity(s, s)).toBeCloseTo(1, 5);
});

test("captures of the same palm score at or above the match threshold", () => {
  for (const list of signatures.values()) {
    for (let a = 0; a < list.length; a++) {
      for (let b = a + 1; b < list.length; b++) expect(similarity(list[a]!, list[b]!)).toBeGreaterThanOrEqual(MATCH_THRESHOLD);
    }
  }
});

test("captures of different palms score below the match threshold", () => {
  for (const [i, a] of signatures) {
    for (const [j, b] of signatures) {
      if (j <= i) continue;
      for (const x of a) for (const y of b) expect(similarity(x, y)).toBeLessThan(MATCH_THRESHOLD);
    }
  }
});

test("an empty field of view is rejected as poor quality with reason no-hand", async () => {
  const sensor = new SimulatedPalmSensor({ seed: 5 });
  sensor.present(undefined);
  const frame = await sensor.capture();
  await expect(extractor.extract(frame)).rejects.toMatchObject({ _tag: "PoorQuality", reason: "no-hand" });
});

test("a frame whose buffer does not match its dimensions is rejected as invalid", async () => {
  const frame: PalmFrame = { width: 128, height: 128, visible: new Uint8Array(1000), capturedAt: 0 };
  expect(await catchTag(frame)).toBe("InvalidFrame");
});

test("a frame of random bytes is rejected rather than turned into a signature", async () => {
  const visible = new Uint8Array(128 * 128);
  let x = 12345;
  for (let i = 0; i < visible.length; i++) visible[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  expect(await catchTag({ width: 128, height: 128, visible, capturedAt: 0 })).toBeDefined();
});
