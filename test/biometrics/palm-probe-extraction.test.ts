import { afterAll, beforeAll, expect, test } from "vitest";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { decodePalmProbe, encodePalmProbe, PALM_TEMPLATE_MAX_BYTES, templateBytes, type PalmProbe } from "../../core/palm-template.ts";
import { matchPalmTemplates, PALM_TEMPLATE_MATCHING } from "../../core/palm-template-matching.ts";
import { PROBE_VARIANTS } from "../../edge/biometrics/palm-template-encoder.ts";

let extractor: SignatureExtractor;
const probes: PalmProbe[][] = [];

beforeAll(async () => {
  extractor = await SignatureExtractor.load();
  const sensor = new SimulatedPalmSensor({ seed: 41 });
  for (const seed of [7101, 7102]) {
    sensor.present({ subjectSeed: seed, side: "right" });
    const list: PalmProbe[] = [];
    // A capture may fail to acquire (occlusion, blur): a person would simply present again.
    for (let attempt = 0; attempt < 10 && list.length < 2; attempt++) {
      try {
        list.push(await extractor.extract(await sensor.capture()));
      } catch (e) {
        if ((e as { _tag?: string })._tag !== "PoorQuality") throw e;
      }
    }
    probes.push(list);
  }
});

afterAll(async () => {
  await extractor.close();
});

test("a two-channel capture gives a probe of every variant, its template within the 2 KB budget", () => {
  const probe = probes[0]![0]!;
  expect(probe.length).toBe(PROBE_VARIANTS.length);
  expect(probe[0]!.channels).toEqual(["surface", "veins"]);
  expect(templateBytes(probe[0]!)).toBeLessThanOrEqual(PALM_TEMPLATE_MAX_BYTES);
  expect(decodePalmProbe(encodePalmProbe(probe))).toEqual(probe);
});

test("another capture of the same palm scores above every capture of another palm", () => {
  const [a1, a2] = probes[0]!,
    [b1, b2] = probes[1]!;
  const genuine = matchPalmTemplates(a1!, a2![0]!, PALM_TEMPLATE_MATCHING);
  const impostors = [b1!, b2!].map((b) => matchPalmTemplates(a1!, b[0]!, PALM_TEMPLATE_MATCHING));
  expect(genuine).toBeGreaterThan(0.7);
  for (const s of impostors) expect(s).toBeLessThan(genuine - 0.1);
});
