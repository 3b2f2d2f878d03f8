import { afterAll, beforeAll, expect, test } from "vitest";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { similarity, toPalmSignature, type PalmSignature } from "../../core/palm-signature.ts";
import { finePalmScore, SIGNATURE_CODE_BLOCKS } from "../../core/fine-palm-comparison.ts";
import { SIGNATURE_MODEL_DESIGN } from "../../models/signature-model-graph.ts";

let extractor: SignatureExtractor;
const captures: PalmSignature[][] = [];

beforeAll(async () => {
  extractor = await SignatureExtractor.load();
  const sensor = new SimulatedPalmSensor({ seed: 31 });
  for (const subjectSeed of [61_000, 61_001, 61_002]) {
    sensor.present({ subjectSeed, side: "right" });
    const list: PalmSignature[] = [];
    for (let attempt = 0; attempt < 8 && list.length < 2; attempt++) {
      try {
        list.push(await extractor.extract(await sensor.capture()));
      } catch {
        // not acquired: present again
      }
    }
    captures.push(list);
  }
});

afterAll(async () => {
  await extractor.close();
});

/** The same palm code seen one surface cell (and half a vein cell) further right. */
const shiftedOneCell = (s: PalmSignature): PalmSignature => {
  const out = new Float32Array(s.length);
  for (const { offset, orientations, grid } of SIGNATURE_CODE_BLOCKS) {
    const step = grid === 16 ? 1 : 0;
    for (let o = 0; o < orientations; o++) {
      for (let y = 0; y < grid; y++) {
        for (let x = 0; x < grid; x++) {
          const from = Math.max(0, x - step);
          out[offset + o * grid * grid + y * grid + x] = s[offset + o * grid * grid + y * grid + from]!;
        }
      }
    }
  }
  return toPalmSignature(out, s.length);
};

test("the code layout matches the signature model's design", () => {
  const { surface, veins } = SIGNATURE_MODEL_DESIGN;
  expect(SIGNATURE_CODE_BLOCKS).toEqual([
    { offset: 0, orientations: surface.orientations, grid: surface.grid, weight: surface.weight },
    { offset: surface.orientations * surface.grid ** 2, orientations: veins.orientations, grid: veins.grid, weight: veins.weight },
  ]);
});

test("a signature's fine score with itself is 1", () => {
  const s = captures[0]![0]!;
  expect(finePalmScore(s, s)).toBeCloseTo(1, 5);
});

test("the fine score is never below the first-stage cosine", () => {
  const all = captures.flat();
  for (const a of all) for (const b of all) expect(finePalmScore(a, b)).toBeGreaterThanOrEqual(similarity(a, b) - 1e-5);
});

test("the fine score recovers a palm region shifted by one cell", () => {
  const s = captures[1]![0]!;
  const moved = shiftedOneCell(s);
  expect(similarity(s, moved)).toBeLessThan(0.8);
  expect(finePalmScore(s, moved)).toBeGreaterThan(0.95);
});

test("different palms stay apart under the fine score", () => {
  const [a, b, c] = [captures[0]![0]!, captures[1]![0]!, captures[2]![0]!];
  for (const [x, y] of [[a, b], [a, c], [b, c]] as const) expect(finePalmScore(x, y)).toBeLessThan(0.5);
});
