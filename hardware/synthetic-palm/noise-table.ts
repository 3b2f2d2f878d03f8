// A fixed table of standard-normal samples. Sensor noise reads it from a random offset with a
// random odd stride (noiseWalk), which is far cheaper per pixel than drawing fresh Gaussians and still gives
// every capture a different noise field.
import { SeededRandom } from "./seeded-random.ts";

const SIZE = 1 << 16;
export const NOISE_TABLE_MASK = SIZE - 1;
export const NOISE_TABLE = (() => {
  const r = new SeededRandom(0x6e015e);
  return Float32Array.from({ length: SIZE }, () => r.normal());
})();

/** Where a capture starts reading the table, and its stride; for loops that read it inline. */
export const noiseWalk = (r: SeededRandom): { start: number; stride: number } => ({
  start: Math.floor(r.next() * SIZE),
  stride: 2 * Math.floor(r.next() * 4096) + 1,
});
