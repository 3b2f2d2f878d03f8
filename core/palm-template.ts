// A palm template: what the cloud stores for one palm and matches with shift and rotation search
// (core/palm-template-matching.ts). Per channel (surface lines in visible light, veins in NIR) and
// per filter scale, a grid of cells each holding the winning line orientation of a competitive
// code and a validity bit (the cell carries enough line energy to be trusted).
//
// The winner index k of N orientations is stored as N/2 bit-planes in a circular thermometer code
// (bit p is set when k is one of p+1 .. p+N/2, modulo N), so the Hamming distance between two
// cells' bits is exactly their angular distance min(|i-j|, N-|i-j|) in orientation steps. A grid
// row of at most 32 cells is one uint32 per plane (bit x = column x), so a shift along a row is a
// bit shift and a comparison is XOR plus popcount.
//
// Byte layout, version 1 (little-endian):
//   0      version (1)
//   1      channels present: bit 0 surface, bit 1 veins
//   2      grid: cells per side, 1..32
//   3      orientations N: even, 2..14 (N/2 code planes per block)
//   4      scales: filter scales per channel, 1..4
//   5..7   zero
//   8..    blocks, channel-major (surface, veins) then scale: N/2 code planes of `grid` uint32
//          rows each (plane-major), then the mask plane (`grid` uint32 rows, 1 = valid cell).
// Bits at columns >= grid are zero.
import { Data } from "effect";

export class InvalidPalmTemplate extends Data.TaggedError("InvalidPalmTemplate")<{ readonly reason: string }> {
  override get message() {
    return `invalid palm template: ${this.reason}`;
  }
}

export const PALM_TEMPLATE_VERSION = 1;
/** Budget for one identity's stored template, both channels (issue 13). */
export const PALM_TEMPLATE_MAX_BYTES = 2048;
export const PALM_TEMPLATE_HEADER_BYTES = 8;

export type TemplateChannel = "surface" | "veins";
const CHANNEL_ORDER: readonly TemplateChannel[] = ["surface", "veins"];

export interface PalmTemplateShape {
  /** Cells per side of the code grid (at most 32: a row is one uint32). */
  readonly grid: number;
  /** Line orientations the code competes over, evenly spread on 180 degrees; even. */
  readonly orientations: number;
  /** Filter scales per channel. */
  readonly scales: number;
  /** Channels present, in the order surface, veins. */
  readonly channels: readonly TemplateChannel[];
}

export interface PalmTemplate extends PalmTemplateShape {
  /** Blocks as in the byte layout: per channel, per scale, code planes then mask, `grid` rows each. */
  readonly words: Uint32Array;
}

/** One block's input: per cell (row-major) the winning orientation and whether it is valid. */
export interface CodeBlockCells {
  readonly winners: ArrayLike<number>;
  readonly valid: ArrayLike<boolean | number>;
}

export const codePlanes = (shape: Pick<PalmTemplateShape, "orientations">): number => shape.orientations / 2;

/** uint32 words per (channel, scale) block: code planes and the mask. */
export const blockWords = (shape: Pick<PalmTemplateShape, "orientations" | "grid">): number => (codePlanes(shape) + 1) * shape.grid;

export const templateBytes = (shape: PalmTemplateShape): number => PALM_TEMPLATE_HEADER_BYTES + 4 * blockWords(shape) * shape.scales * shape.channels.length;

/** Word offset of a block in `words`. */
export const blockOffset = (shape: PalmTemplateShape, channelIndex: number, scale: number): number => (channelIndex * shape.scales + scale) * blockWords(shape);

const checkShape = (shape: PalmTemplateShape): void => {
  const { grid, orientations, scales, channels } = shape;
  if (!Number.isInteger(grid) || grid < 1 || grid > 32) throw new InvalidPalmTemplate({ reason: `grid ${grid} is not 1..32` });
  if (!Number.isInteger(orientations) || orientations < 2 || orientations > 14 || orientations % 2 !== 0) {
    throw new InvalidPalmTemplate({ reason: `orientations ${orientations} is not an even number in 2..14` });
  }
  if (!Number.isInteger(scales) || scales < 1 || scales > 4) throw new InvalidPalmTemplate({ reason: `scales ${scales} is not 1..4` });
  if (channels.length === 0) throw new InvalidPalmTemplate({ reason: "no channel" });
  let last = -1;
  for (const c of channels) {
    const at = CHANNEL_ORDER.indexOf(c);
    if (at <= last) throw new InvalidPalmTemplate({ reason: "channels must be distinct, surface before veins" });
    last = at;
  }
  if (templateBytes(shape) > PALM_TEMPLATE_MAX_BYTES) {
    throw new InvalidPalmTemplate({ reason: `${templateBytes(shape)} bytes exceeds the ${PALM_TEMPLATE_MAX_BYTES}-byte budget` });
  }
};

/** Builds a template from per-cell winners and validity: blocks channel-major, then scale. */
export const palmTemplateFromCells = (shape: PalmTemplateShape, blocks: readonly CodeBlockCells[]): PalmTemplate => {
  checkShape(shape);
  const { grid, orientations } = shape;
  if (blocks.length !== shape.channels.length * shape.scales) {
    throw new InvalidPalmTemplate({ reason: `expected ${shape.channels.length * shape.scales} blocks, got ${blocks.length}` });
  }
  const planes = codePlanes(shape);
  const words = new Uint32Array(blockWords(shape) * blocks.length);
  blocks.forEach((block, b) => {
    if (block.winners.length !== grid * grid || block.valid.length !== grid * grid) {
      throw new InvalidPalmTemplate({ reason: `block ${b} does not have ${grid * grid} cells` });
    }
    const base = b * blockWords(shape);
    for (let y = 0; y < grid; y++) {
      for (let x = 0; x < grid; x++) {
        const k = block.winners[y * grid + x]!;
        if (!Number.isInteger(k) || k < 0 || k >= orientations) {
          throw new InvalidPalmTemplate({ reason: `block ${b} cell ${y * grid + x}: orientation ${k} is not 0..${orientations - 1}` });
        }
        const bit = (1 << x) >>> 0;
        for (let p = 0; p < planes; p++) {
          // Circular thermometer: set when k is one of p+1 .. p+N/2 (mod N).
          if ((k - p - 1 + orientations) % orientations < planes) words[base + p * grid + y] = (words[base + p * grid + y]! | bit) >>> 0;
        }
        if (block.valid[y * grid + x]) words[base + planes * grid + y] = (words[base + planes * grid + y]! | bit) >>> 0;
      }
    }
  });
  return { grid, orientations, scales: shape.scales, channels: [...shape.channels], words };
};

/** The winning orientation of one cell (inverse of the thermometer code). */
export const cellOrientation = (t: PalmTemplate, channelIndex: number, scale: number, x: number, y: number): number => {
  const base = blockOffset(t, channelIndex, scale);
  const planes = codePlanes(t);
  let ones = 0;
  for (let p = 0; p < planes; p++) ones += (t.words[base + p * t.grid + y]! >>> x) & 1;
  // Codes 0..N/2 have their ones at the low planes (k ones), codes N/2+1..N-1 at the high ones.
  const first = (t.words[base + y]! >>> x) & 1;
  return first === 1 || ones === 0 ? ones : t.orientations - ones;
};

export const cellValid = (t: PalmTemplate, channelIndex: number, scale: number, x: number, y: number): boolean =>
  ((t.words[blockOffset(t, channelIndex, scale) + codePlanes(t) * t.grid + y]! >>> x) & 1) === 1;

export const encodePalmTemplate = (t: PalmTemplate): Uint8Array => {
  checkShape(t);
  const size = templateBytes(t);
  if (t.words.length * 4 + PALM_TEMPLATE_HEADER_BYTES !== size) {
    throw new InvalidPalmTemplate({ reason: `${t.words.length} words do not fit the shape` });
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = PALM_TEMPLATE_VERSION;
  out[1] = t.channels.reduce((flags, c) => flags | (1 << CHANNEL_ORDER.indexOf(c)), 0);
  out[2] = t.grid;
  out[3] = t.orientations;
  out[4] = t.scales;
  for (let i = 0; i < t.words.length; i++) view.setUint32(PALM_TEMPLATE_HEADER_BYTES + 4 * i, t.words[i]!, true);
  return out;
};

export const decodePalmTemplate = (bytes: Uint8Array): PalmTemplate => {
  if (bytes.byteLength < PALM_TEMPLATE_HEADER_BYTES) throw new InvalidPalmTemplate({ reason: `${bytes.byteLength} bytes is shorter than the header` });
  if (bytes[0] !== PALM_TEMPLATE_VERSION) throw new InvalidPalmTemplate({ reason: `unknown version ${bytes[0]}` });
  const flags = bytes[1]!;
  if (flags === 0 || flags > 3) throw new InvalidPalmTemplate({ reason: `channel flags ${flags} name no known channel set` });
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw new InvalidPalmTemplate({ reason: "reserved header bytes are not zero" });
  const shape: PalmTemplateShape = {
    grid: bytes[2]!,
    orientations: bytes[3]!,
    scales: bytes[4]!,
    channels: CHANNEL_ORDER.filter((_, i) => (flags >> i) & 1),
  };
  checkShape(shape);
  if (bytes.byteLength !== templateBytes(shape)) {
    throw new InvalidPalmTemplate({ reason: `expected ${templateBytes(shape)} bytes for this shape, got ${bytes.byteLength}` });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words = new Uint32Array((bytes.byteLength - PALM_TEMPLATE_HEADER_BYTES) / 4);
  const outside = shape.grid === 32 ? 0 : ~((1 << shape.grid) - 1) >>> 0;
  for (let i = 0; i < words.length; i++) {
    const w = view.getUint32(PALM_TEMPLATE_HEADER_BYTES + 4 * i, true);
    if ((w & outside) !== 0) throw new InvalidPalmTemplate({ reason: `word ${i} has bits beyond the grid` });
    words[i] = w;
  }
  return { ...shape, words };
};

/**
 * What a scanner sends to be matched: its template (variant 0, the one stored at enrolment)
 * followed by the same capture coded at a few small rotations, which the matcher also tries.
 * Bytes: count (1..8), then each variant's template bytes; all variants share one shape.
 */
export type PalmProbe = readonly PalmTemplate[];

export const PALM_PROBE_MAX_VARIANTS = 8;

export const encodePalmProbe = (probe: PalmProbe): Uint8Array => {
  if (probe.length < 1 || probe.length > PALM_PROBE_MAX_VARIANTS)
    throw new InvalidPalmTemplate({ reason: `a probe has 1..${PALM_PROBE_MAX_VARIANTS} variants, not ${probe.length}` });
  const parts = probe.map(encodePalmTemplate);
  if (parts.some((p) => p.byteLength !== parts[0]!.byteLength)) throw new InvalidPalmTemplate({ reason: "a probe's variants differ in shape" });
  const out = new Uint8Array(1 + parts.length * parts[0]!.byteLength);
  out[0] = parts.length;
  parts.forEach((p, i) => out.set(p, 1 + i * p.byteLength));
  return out;
};

export const decodePalmProbe = (bytes: Uint8Array): PalmProbe => {
  const count = bytes[0] ?? 0;
  if (count < 1 || count > PALM_PROBE_MAX_VARIANTS)
    throw new InvalidPalmTemplate({ reason: `a probe has 1..${PALM_PROBE_MAX_VARIANTS} variants, not ${count}` });
  if ((bytes.byteLength - 1) % count !== 0) throw new InvalidPalmTemplate({ reason: `${bytes.byteLength - 1} bytes do not split into ${count} variants` });
  const size = (bytes.byteLength - 1) / count;
  const variants = Array.from({ length: count }, (_, i) => decodePalmTemplate(bytes.subarray(1 + i * size, 1 + (i + 1) * size)));
  if (
    variants.some(
      (v) =>
        v.grid !== variants[0]!.grid ||
        v.orientations !== variants[0]!.orientations ||
        v.scales !== variants[0]!.scales ||
        v.channels.join() !== variants[0]!.channels.join(),
    )
  ) {
    throw new InvalidPalmTemplate({ reason: "a probe's variants differ in shape" });
  }
  return variants;
};

/** Overwrites a probe's codes with zeros (a probe in clear is never kept past its use). */
export const wipePalmProbe = (probe: PalmProbe): void => {
  for (const variant of probe) variant.words.fill(0);
};
