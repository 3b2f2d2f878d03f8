import { afterAll, beforeAll, expect, test } from "vitest";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { SimulatedPalmSensor, type PresentationAttack } from "../../hardware/simulated-palm-sensor.ts";
import { LIVENESS_THRESHOLD } from "../../edge/biometrics/liveness-check.ts";

let extractor: SignatureExtractor;
beforeAll(async () => {
  extractor = await SignatureExtractor.load();
});
afterAll(async () => {
  await extractor.close();
});

const scores = async (attack: PresentationAttack | undefined): Promise<number[]> => {
  const sensor = new SimulatedPalmSensor({ seed: 8 });
  const out: number[] = [];
  for (let s = 0; s < 6; s++) {
    sensor.present({ subjectSeed: 52_000 + s, side: "right", ...(attack === undefined ? {} : { attack }) });
    try {
      const a = extractor.assessLiveness(await sensor.capture());
      if (a !== undefined) out.push(a.score);
    } catch {
      // not acquired: not counted
    }
  }
  return out;
};

test("live palms pass the liveness check", async () => {
  for (const s of await scores(undefined)) expect(s).toBeGreaterThanOrEqual(LIVENESS_THRESHOLD);
});

for (const attack of ["printed-photo", "screen-replay", "veinless-replica"] as const) {
  test(`a ${attack} fails the liveness check`, async () => {
    const list = await scores(attack);
    expect(list.length).toBeGreaterThan(0);
    for (const s of list) expect(s).toBeLessThan(LIVENESS_THRESHOLD);
  });
}

test("extracting a signature from an attack raises PresentationAttackSuspected", async () => {
  const sensor = new SimulatedPalmSensor({ seed: 9 });
  sensor.present({ subjectSeed: 52_100, side: "left", attack: "screen-replay" });
  const tags = new Set<string>();
  for (let i = 0; i < 4; i++) {
    await extractor.extract(await sensor.capture()).catch((e: { _tag?: string }) => tags.add(e._tag ?? "?"));
  }
  // Some presentations may already fail acquisition; none may yield a signature.
  expect(tags.has("PresentationAttackSuspected")).toBe(true);
  expect([...tags].every((t) => t === "PresentationAttackSuspected" || t === "PoorQuality")).toBe(true);
});

test("a frame whose one NIR image stands in for both channels fails closed, saying liveness needs both", async () => {
  const sensor = new SimulatedPalmSensor({ seed: 10 });
  sensor.present({ subjectSeed: 52_200, side: "right" });
  const frame = await sensor.capture();
  const nirOnly = { ...frame, visible: frame.nir! };
  await expect(extractor.extract(nirOnly)).rejects.toMatchObject({ _tag: "PresentationAttackSuspected", tell: expect.stringContaining("one channel only") });
});
