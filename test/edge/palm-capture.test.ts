// One capture with the real simulated sensor and the real extractor: what is retried, what is
// not, and what leaves the step.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROBE_VARIANTS } from "../../edge/biometrics/palm-template-encoder.ts";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { captureSealedSignature, MAX_LIVENESS_RETRIES, MAX_QUALITY_RETRIES } from "../../edge/palm-capture.ts";
import type { PalmFrame, PalmSensor } from "../../hardware/palm-sensor.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { CAPTURE_CHALLENGE_BYTES, generateTemplateKeyPair, openSealedSignature, type TemplateKeyPair } from "../../protocol/index.ts";

let extractor: SignatureExtractor;
let region: TemplateKeyPair;

beforeAll(async () => {
  extractor = await SignatureExtractor.load();
  region = await generateTemplateKeyPair();
});
afterAll(() => extractor.close());

/** The real sensor, remembering the frames it handed out so a test can count and inspect them. */
class RecordingSensor implements PalmSensor {
  readonly frames: PalmFrame[] = [];
  readonly sensor = new SimulatedPalmSensor({ seed: 9 });
  async capture(): Promise<PalmFrame> {
    const frame = await this.sensor.capture();
    this.frames.push(frame);
    return frame;
  }
}

describe("palm capture", () => {
  test("a live palm becomes a probe sealed to the region, which only the region opens", async () => {
    const recording = new RecordingSensor();
    recording.sensor.present({ subjectSeed: 3, side: "right" });
    const sealed = await captureSealedSignature(recording, extractor, {
      templatePublicKey: region.publicKey,
      challenge: new Uint8Array(CAPTURE_CHALLENGE_BYTES),
    });
    const opened = await openSealedSignature(sealed, region);
    expect(opened).toHaveLength(PROBE_VARIANTS.length);
    expect(opened[0]!.channels).toEqual(["surface", "veins"]);
  });

  test("the frame's pixels are zeroed once the capture returns", async () => {
    const recording = new RecordingSensor();
    recording.sensor.present({ subjectSeed: 3, side: "right" });
    await captureSealedSignature(recording, extractor, { templatePublicKey: region.publicKey, challenge: new Uint8Array(CAPTURE_CHALLENGE_BYTES) });
    for (const frame of recording.frames) {
      expect(frame.visible.every((p) => p === 0)).toBe(true);
      expect(frame.nir?.every((p) => p === 0) ?? true).toBe(true);
    }
  });

  test("with no hand in view it retries a few times, then says why", async () => {
    const recording = new RecordingSensor();
    await expect(
      captureSealedSignature(recording, extractor, { templatePublicKey: region.publicKey, challenge: new Uint8Array(CAPTURE_CHALLENGE_BYTES) }),
    ).rejects.toMatchObject({ _tag: "PoorQuality" });
    expect(recording.frames).toHaveLength(MAX_QUALITY_RETRIES + 1);
  });

  test("a printed photo gets one second look and is then refused as an attack", async () => {
    const recording = new RecordingSensor();
    recording.sensor.present({ subjectSeed: 3, side: "right", attack: "printed-photo" });
    await expect(
      captureSealedSignature(recording, extractor, { templatePublicKey: region.publicKey, challenge: new Uint8Array(CAPTURE_CHALLENGE_BYTES) }),
    ).rejects.toMatchObject({ _tag: "PresentationAttackSuspected" });
    expect(recording.frames).toHaveLength(MAX_LIVENESS_RETRIES + 1);
  });

  test("a cancelled capture stops before taking a frame", async () => {
    const recording = new RecordingSensor();
    const cancelled = AbortSignal.abort();
    await expect(
      captureSealedSignature(recording, extractor, { templatePublicKey: region.publicKey, challenge: new Uint8Array(CAPTURE_CHALLENGE_BYTES) }, cancelled),
    ).rejects.toThrow(/cancelled/);
    expect(recording.frames).toHaveLength(0);
  });
});
