// Who the open-set population's palms are and how one palm is rendered through the real
// pipeline (simulated sensor -> SignatureExtractor.extract). Every palm gets a fresh sensor,
// so its captures depend only on (stage, palm index), never on which worker rendered it or what it
// rendered before: the population is the same bytes at any thread count.
import { SimulatedPalmSensor, type SimulatedHand } from "../../../hardware/simulated-palm-sensor.ts";
import { chooseEnrollmentCapture, MIN_ENROLLMENT_CAPTURES } from "../../../core/palm-enrollment.ts";
import { PALM_TEMPLATE_MATCHING } from "../../../core/palm-template-matching.ts";
import { encodePalmProbe, encodePalmTemplate, type PalmProbe } from "../../../core/palm-template.ts";
import type { SignatureExtractor } from "../signature-extractor.ts";

/** Open-set subjects start here: clear of the synthetic evaluation's range (3,000,000 up, two
 *  palms per subject) and of the seeds the tests, benches and demo use (all below 3,000,000). */
export const OPEN_SET_SEED_BASE = 10_000_000;
/** Never-enrolled palms are drawn from their own range, above any gallery's (2 palms per seed:
 *  5,000,000 seeds hold a 10,000,000-palm gallery). */
export const NON_MATED_SEED_OFFSET = 5_000_000;
/** Enrollment renders MIN_ENROLLMENT_CAPTURES captures, and a few more only when they fail. */
export const ENROLLMENT_MAX_CAPTURES = 5;

/** gallery: enrolled palms; mated: a later capture of a gallery palm; non-mated: palms never enrolled. */
export type OpenSetStage = "gallery" | "mated" | "non-mated";

/** One palm's result: its bytes (gallery: the stored template; otherwise the probe), or why it failed. */
export type PalmEntry = { readonly bytes: Uint8Array } | { readonly failure: string };

// Different sensor seeds per stage: the mated capture is a new visit, not a repeat of an
// enrollment capture.
const SENSOR_SEED: Record<OpenSetStage, number> = { gallery: 0x05e1_0001, mated: 0x05e1_0002, "non-mated": 0x05e1_0003 };

export const openSetHand = (stage: OpenSetStage, palm: number): SimulatedHand => ({
  subjectSeed: OPEN_SET_SEED_BASE + (stage === "non-mated" ? NON_MATED_SEED_OFFSET : 0) + (palm >> 1),
  side: palm % 2 === 0 ? "right" : "left",
});

const failureName = (e: unknown): string => {
  const tag = e as { _tag?: string; reason?: string; name?: string; message?: string };
  if (tag._tag === undefined) return `${tag.name ?? "Error"}: ${tag.message ?? ""}`;
  return tag.reason === undefined ? tag._tag : `${tag._tag}(${tag.reason})`;
};

const captureProbe = async (sensor: SimulatedPalmSensor, extractor: SignatureExtractor): Promise<PalmProbe | { failure: string }> => {
  const frame = await sensor.capture();
  try {
    return await extractor.extract(frame);
  } catch (e) {
    return { failure: failureName(e) };
  } finally {
    frame.visible.fill(0);
    frame.nir?.fill(0);
  }
};

/** Renders palm `palm` of `stage`; `agreeScore` is enrollment's agreement threshold (gallery only). */
export const renderPalm = async (extractor: SignatureExtractor, stage: OpenSetStage, palm: number, agreeScore: number): Promise<PalmEntry> => {
  const sensor = new SimulatedPalmSensor({ seed: SENSOR_SEED[stage] });
  sensor.present(openSetHand(stage, palm));
  if (stage !== "gallery") {
    const probe = await captureProbe(sensor, extractor);
    return "failure" in probe ? probe : { bytes: encodePalmProbe(probe) };
  }
  const probes: PalmProbe[] = [];
  let failure = "no capture";
  for (let k = 0; k < ENROLLMENT_MAX_CAPTURES; k++) {
    const probe = await captureProbe(sensor, extractor);
    if ("failure" in probe) failure = probe.failure;
    else probes.push(probe);
    if (k + 1 < MIN_ENROLLMENT_CAPTURES || probes.length < MIN_ENROLLMENT_CAPTURES) continue;
    try {
      return { bytes: encodePalmTemplate(chooseEnrollmentCapture(probes, agreeScore, PALM_TEMPLATE_MATCHING).template) };
    } catch (e) {
      failure = failureName(e);
    }
  }
  return { failure };
};
