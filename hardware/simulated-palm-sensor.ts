// A simulated contactless palm sensor with visible and near-infrared channels: whatever hand (or
// artefact) is presented is rendered afresh on each capture as a full-hand 640x480 frame, with
// per-capture variation drawn from (sensor seed, hand, capture counter). Deterministic: the same
// seeds and the same sequence of calls give the same frames.
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../core/clock.ts";
import type { PalmFrame, PalmSensor } from "./palm-sensor.ts";
import { palmPatternFor, type HandSide, type PalmPattern } from "./synthetic-palm/palm-pattern.ts";
import { renderIdentityTexture, type PalmTexture } from "./synthetic-palm/palm-texture.ts";
import { handShapeFor, type HandShape } from "./synthetic-palm/hand-shape.ts";
import { HandFrameWorkspace, renderHandFrame } from "./synthetic-palm/hand-frame-renderer.ts";
import { mixSeeds } from "./synthetic-palm/seeded-random.ts";

export type PresentationAttack = "printed-photo" | "screen-replay" | "veinless-replica";

export interface SimulatedHand {
  readonly subjectSeed: number;
  readonly side: HandSide;
  /** When set, what is presented is an artefact imitating this hand, not the hand itself. */
  readonly attack?: PresentationAttack;
}

export interface SimulatedPalmSensorOptions {
  /** Seeds the per-capture variation; two sensors with different seeds see different captures. */
  readonly seed?: number;
  readonly clock?: Clock;
  readonly width?: number;
  readonly height?: number;
}

const IDENTITY_CACHE_LIMIT = 16;

interface RenderedIdentity {
  readonly pattern: PalmPattern;
  readonly shape: HandShape;
  readonly texture: PalmTexture;
}

export class SimulatedPalmSensor implements PalmSensor {
  readonly #seed: number;
  readonly #clock: Clock;
  readonly #width: number;
  readonly #height: number;
  #workspace: HandFrameWorkspace | undefined;
  readonly #identities = new Map<string, RenderedIdentity>();
  #hand: SimulatedHand | undefined;
  #captures = 0;

  constructor(options: SimulatedPalmSensorOptions = {}) {
    this.#seed = options.seed ?? 1;
    this.#clock = options.clock ?? systemClock;
    this.#width = options.width ?? 640;
    this.#height = options.height ?? 480;
  }

  /** Puts a hand (or an artefact) in front of the sensor; undefined takes it away. */
  present(hand: SimulatedHand | undefined): void {
    this.#hand = hand;
  }

  async capture(): Promise<PalmFrame> {
    const captureIndex = this.#captures++;
    const hand = this.#hand;
    const capturedAt = this.#clock.now();
    if (hand === undefined) return this.#emptyFrame(captureIndex, capturedAt);
    const identity = this.#identity(hand.subjectSeed, hand.side);
    const seed = mixSeeds(this.#seed, hand.subjectSeed, hand.side === "left" ? 1 : 2, captureIndex);
    this.#workspace ??= new HandFrameWorkspace(this.#width, this.#height, identity.texture.visible.length);
    const presentation = hand.attack ?? "live";
    return renderHandFrame(identity.pattern, identity.shape, identity.texture, seed, presentation, this.#workspace, capturedAt).frame;
  }

  #emptyFrame(captureIndex: number, capturedAt: number): PalmFrame {
    // Nothing in front of an actively lit sensor: a dark, slightly noisy field.
    const n = this.#width * this.#height;
    const level = 8 + (mixSeeds(this.#seed, captureIndex) % 8);
    return {
      width: this.#width,
      height: this.#height,
      visible: new Uint8Array(n).fill(level),
      nir: new Uint8Array(n).fill(level),
      capturedAt,
    };
  }

  #identity(subjectSeed: number, side: HandSide): RenderedIdentity {
    const key = `${subjectSeed}:${side}`;
    const cached = this.#identities.get(key);
    if (cached !== undefined) return cached;
    const pattern = palmPatternFor(subjectSeed, side);
    const rendered = { pattern, shape: handShapeFor(subjectSeed, side), texture: renderIdentityTexture(pattern) };
    if (this.#identities.size >= IDENTITY_CACHE_LIMIT) {
      const oldest = this.#identities.keys().next().value;
      if (oldest !== undefined) this.#identities.delete(oldest);
    }
    this.#identities.set(key, rendered);
    return rendered;
  }
}
