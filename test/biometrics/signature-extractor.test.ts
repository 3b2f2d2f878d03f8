import { afterAll, beforeAll, expect, test } from "vitest";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { SimulatedPalmSensor, type SimulatedHand } from "../../hardware/simulated-palm-sensor.ts";
import { ENROLLMENT_AGREEMENT_FMR } from "../../core/palm-enrollment.ts";
import { matchPalmTemplates, PALM_TEMPLATE_MATCHING } from "../../core/palm-template-matching.ts";
import type { PalmProbe } from "../../core/palm-template.ts";
import { deployedScoreCalibration } from "../../core/score-calibration.ts";
import type { PalmFrame } from "../../hardware/palm-sensor.ts";

let extractor: SignatureExtractor;
const hands: SimulatedHand[] = [1, 2, 3, 4, 5, 6].map((s) => ({ subjectSeed: 7000 + s, side: s % 2 === 0 ? "left" : "right" }));
const probes = new Map<number, PalmProbe[]>();
/** Two captures agree (as enrollment asks) at or above this score. */
const AGREEMENT = deployedScoreCalibration.scoreForFalseMatchRate(ENROLLMENT_AGREEMENT_FMR);
const score = (probe: PalmProbe, stored: PalmProbe) => matchPalmTemplates(probe, stored[0]!, PALM_TEMPLATE_MATCHING);

beforeAll(async () => {
  extractor = await SignatureExtractor.load();
  const sensor = new SimulatedPalmSensor({ seed: 99 });
  for (const [i, hand] of hands.entries()) {
    sensor.present(hand);
    const list: PalmProbe[] = [];
    // A capture may fail to acquire (occlusion, blur): a person would simply present again.
    for (let attempt = 0; attempt < 10 && list.length < 3; attempt++) {
      try {
        list.push(await extractor.extract(await sensor.capture()));
      } catch (e) {
        if ((e as { _tag?: string })._tag !== "PoorQuality") throw e;
      }
    }
    probes.set(i, list);
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

test("every hand yields three probes within ten presentations", () => {
  for (const list of probes.values()) expect(list.length).toBe(3);
});

test("captures of the same palm agree as enrollment asks", () => {
  for (const list of probes.values()) {
    for (let a = 0; a < list.length; a++) {
      for (let b = 0; b < list.length; b++) if (a !== b) expect(score(list[a]!, list[b]!)).toBeGreaterThanOrEqual(AGREEMENT);
    }
  }
});

test("captures of different palms score below the agreement score", () => {
  for (const [i, a] of probes) {
    for (const [j, b] of probes) {
      if (j === i) continue;
      for (const x of a) for (const y of b) expect(score(x, y)).toBeLessThan(AGREEMENT);
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

test("a frame of random bytes is rejected rather than turned into a probe", async () => {
  const visible = new Uint8Array(128 * 128);
  let x = 12345;
  for (let i = 0; i < visible.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    visible[i] = x >>> 24;
  }
  expect(await catchTag({ width: 128, height: 128, visible, capturedAt: 0 })).toBeDefined();
});
