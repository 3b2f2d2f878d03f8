// A palm sensor that replays images from a folder, in name order, looping: for demos and
// evaluation on recorded palms. Captures pair a visible image with its NIR mate as
// hardware/image/capture-files.ts describes.
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../core/clock.ts";
import type { PalmFrame, PalmSensor } from "./palm-sensor.ts";
import { listCaptureFiles, readCaptureImages, type CaptureFiles } from "./image/capture-files.ts";

export class FilePalmSensor implements PalmSensor {
  readonly #captures: readonly CaptureFiles[];
  readonly #clock: Clock;
  #next = 0;

  constructor(folder: string, clock: Clock = systemClock) {
    this.#clock = clock;
    this.#captures = listCaptureFiles(folder);
    if (this.#captures.length === 0) throw new Error(`no images in ${folder}`);
  }

  get imageCount(): number {
    return this.#captures.length;
  }

  /** Rejects with `InvalidImage` when the capture's files cannot be decoded. */
  async capture(): Promise<PalmFrame> {
    const files = this.#captures[this.#next++ % this.#captures.length]!;
    const { visible, nir } = await readCaptureImages(files);
    const frame = { width: visible.width, height: visible.height, visible: visible.pixels, capturedAt: this.#clock.now() };
    return nir === undefined ? frame : { ...frame, nir: nir.pixels };
  }
}
