// The open-set population: rendered through the real pipeline, cached, and the same bytes at any
// thread count. A few palms only (each costs a handful of renders and extractions).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENROLLMENT_AGREEMENT_FMR } from "../../core/palm-enrollment.ts";
import { decodePalmProbe, decodePalmTemplate } from "../../core/palm-template.ts";
import { matchPalmTemplates, PALM_TEMPLATE_MATCHING } from "../../core/palm-template-matching.ts";
import { palmTemplateScoreCalibration } from "../../core/score-calibration.ts";
import { openSetPopulation, type OpenSetPopulation, type OpenSetPopulationOptions } from "../../edge/biometrics/evaluation/open-set-population.ts";

const agreeScore = palmTemplateScoreCalibration.scoreForFalseMatchRate(ENROLLMENT_AGREEMENT_FMR);
const small = { gallery: 4, mated: 2, nonMated: 2, agreeScore } as const;
const bytesOf = (p: OpenSetPopulation) => ({ gallery: p.gallery, mated: p.mated, nonMated: p.nonMated });

describe("open-set population", () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "palmline-open-set-"));
    dirs.push(dir);
    return dir;
  };
  const population = (o: Partial<OpenSetPopulationOptions> & { cacheDir: string }) => openSetPopulation({ ...small, threads: 1, ...o });
  let cacheDir: string;
  let first: OpenSetPopulation;

  beforeAll(async () => {
    cacheDir = freshDir();
    first = await population({ cacheDir });
  }, 60_000);
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("enrolls every gallery palm as a fused template", () => {
    expect(first.failuresToAcquire).toEqual({ gallery: 0, mated: 0, nonMated: 0 });
    expect(first.gallery).toHaveLength(4);
    for (const bytes of first.gallery) expect(decodePalmTemplate(bytes).channels).toEqual(["surface", "veins"]);
  });

  it("gives each mated probe its own palm's template as the best match, above enrollment's agreement score", () => {
    expect(first.mated.map((m) => m.palm)).toEqual([0, 1]);
    const gallery = first.gallery.map(decodePalmTemplate);
    for (const { palm, probe } of first.mated) {
      const scores = gallery.map((t) => matchPalmTemplates(decodePalmProbe(probe), t, PALM_TEMPLATE_MATCHING));
      expect(scores[palm]).toBeGreaterThan(agreeScore);
      for (const [other, score] of scores.entries()) if (other !== palm) expect(score).toBeLessThan(scores[palm]!);
    }
  });

  it("gives non-mated probes of palms that match no gallery template", () => {
    expect(first.nonMated).toHaveLength(2);
    const gallery = first.gallery.map(decodePalmTemplate);
    for (const probe of first.nonMated) {
      for (const t of gallery) expect(matchPalmTemplates(decodePalmProbe(probe), t, PALM_TEMPLATE_MATCHING)).toBeLessThan(agreeScore);
    }
  });

  it("reads a second run wholly from the cache, with the same bytes", async () => {
    const again = await population({ cacheDir });
    expect(again.rendered).toEqual({ gallery: 0, mated: 0, "non-mated": 0 });
    expect(bytesOf(again)).toEqual(bytesOf(first));
  });

  it("renders only the palms a larger run adds to the cache", async () => {
    const extended = await population({ cacheDir, nonMated: 3 });
    expect(extended.rendered).toEqual({ gallery: 0, mated: 0, "non-mated": 1 });
    expect(extended.nonMated.slice(0, 2)).toEqual(first.nonMated);
  }, 30_000);

  it("renders a corrupt chunk again, with a warning", async () => {
    const dir = freshDir();
    await population({ cacheDir: dir, gallery: 0, mated: 0 });
    const chunk = readdirSync(dir).find((f) => f.startsWith("non-mated-"))!;
    writeFileSync(join(dir, chunk), new Uint8Array(100).fill(7));
    const warnings: string[] = [];
    const again = await population({ cacheDir: dir, gallery: 0, mated: 0, warn: (line) => warnings.push(line) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(chunk);
    expect(again.rendered["non-mated"]).toBe(2);
    expect(again.nonMated).toEqual(first.nonMated);
  }, 30_000);

  it("renders the same bytes on two threads as on one", async () => {
    const twoThreads = await population({ cacheDir: freshDir(), threads: 2 });
    expect(twoThreads.rendered).toEqual({ gallery: 4, mated: 2, "non-mated": 2 });
    expect(bytesOf(twoThreads)).toEqual(bytesOf(first));
  }, 60_000);
});
