// A palm sensor that replays images from a folder, in name order, looping: for demos and
// evaluation on recorded palms. A file named like `x.nir.png` beside `x.png` supplies the NIR
// channel of the same capture.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../core/clock.ts";
import type { PalmFrame, PalmSensor } from "./palm-sensor.ts";
import { decodeImage } from "./image/decode-image.ts";

const IMAGE = /\.(bmp|png|jpe?g)$/i;
const NIR = /\.nir\.(bmp|png|jpe?g)$/i;

export class FilePalmSensor implements PalmSensor {
  readonly #folder: string;
  readonly #files: readonly string[];
  readonly #clock: Clock;
  #next = 0;

  constructor(folder: string, clock: Clock = systemClock) {
    this.#folder = folder;
    this.#clock = clock;
    this.#files = readdirSync(folder)
      .filter((f) => IMAGE.test(f) && !NIR.test(f))
      .sort();
    if (this.#files.length === 0) throw new Error(`no images in ${folder}`);
  }

  get imageCount(): number {
    return this.#files.length;
  }

  async capture(): Promise<PalmFrame> {
    const name = this.#files[this.#next++ % this.#files.length]!;
    const visible = decodeImage(readFileSync(join(this.#folder, name)));
    const nirName = name.replace(IMAGE, (ext) => `.nir${ext}`);
    let nir: Uint8Array | undefined;
    try {
      const n = decodeImage(readFileSync(join(this.#folder, nirName)));
      if (n.width === visible.width && n.height === visible.height) nir = n.pixels;
    } catch {
      nir = undefined;
    }
    const frame = { width: visible.width, height: visible.height, visible: visible.pixels, capturedAt: this.#clock.now() };
    return nir === undefined ? frame : { ...frame, nir };
  }
}
