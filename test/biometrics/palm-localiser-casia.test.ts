import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { decodeImage } from "../../hardware/image/decode-image.ts";
import { locatePalm } from "../../edge/biometrics/palm-localiser.ts";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import type { PalmFrame } from "../../hardware/palm-sensor.ts";

// Real full-hand frames (CASIA multispectral, 940 nm: veins, no pegs, the wrist often lost in the
// device's dark wall or the frame edge, a finger sometimes leaving the frame). Read at run time
// from the shared folder and never kept: research databases may not be copied into the project.
const SET = fileURLToPath(new URL("../../../shared/palmsets/casia-hand-940", import.meta.url));
const present = existsSync(SET);
const absent = present ? "" : " (skipped: ../shared/palmsets/casia-hand-940 is absent; real palms are read at run time only)";
/** The first palms of the set, all their captures: enough to see a failure rate of a few percent. */
const PALMS = 20;

interface Capture {
  readonly palm: string;
  readonly session: string;
  readonly frame: PalmFrame;
}

const captures: Capture[] = [];
let extractor: SignatureExtractor | undefined;

beforeAll(async () => {
  if (!present) return;
  extractor = await SignatureExtractor.load(undefined, { framing: "hand", channels: "nir", liveness: false });
  for (const palm of readdirSync(SET).sort().slice(0, PALMS)) {
    for (const file of readdirSync(`${SET}/${palm}`).sort()) {
      const image = await decodeImage(readFileSync(`${SET}/${palm}/${file}`));
      // The set's one channel is NIR; the localiser reads the hand's shape from it.
      const frame = { width: image.width, height: image.height, visible: image.pixels, nir: image.pixels, capturedAt: 0 };
      captures.push({ palm, session: file.slice(0, 2), frame });
    }
  }
});

afterAll(async () => {
  for (const c of captures) c.frame.visible.fill(0);
  await extractor?.close();
});

test.skipIf(!present)(`at least 98 percent of real NIR full-hand frames give a signature${absent}`, async () => {
  let acquired = 0;
  const failures: string[] = [];
  for (const c of captures) {
    try {
      await extractor!.extract(c.frame);
      acquired++;
    } catch (e) {
      failures.push(`${c.palm}: ${(e as Error).message}`);
    }
  }
  expect(captures.length).toBeGreaterThanOrEqual(PALMS * 5);
  expect(acquired / captures.length, failures.join("\n")).toBeGreaterThanOrEqual(0.98);
});

test.skipIf(!present)(`the ROI turns with the hand, not with the fingers picked: each capture within 25 degrees of its session's median${absent}`, () => {
  // Taking the thumb for a finger, or missing one, turns the ROI by 40 degrees or more; the hand
  // itself turns by up to about 18 degrees between captures of one session in this set.
  const bySession = new Map<string, number[]>();
  for (const c of captures) {
    const key = `${c.palm}/${c.session}`;
    bySession.set(key, [...(bySession.get(key) ?? []), locatePalm(c.frame).roi.angle]);
  }
  for (const [session, angles] of bySession) {
    const median = [...angles].sort((a, b) => a - b)[angles.length >> 1]!;
    for (const a of angles) expect(Math.abs(Math.atan2(Math.sin(a - median), Math.cos(a - median))) * (180 / Math.PI), session).toBeLessThan(25);
  }
});
