// Hybrid logical clock (Kulkarni et al., 2014): timestamps that follow wall time but never go
// backwards and order causally related events across regions. The registry stamps every field
// write with one, so last-writer-wins merges pick the same winner in every region.
export interface HlcTimestamp {
  readonly wallMs: number;
  readonly counter: number;
  readonly nodeId: string;
}

const WALL_DIGITS = 12; // hex digits: enough for dates far beyond 10,000 AD
const COUNTER_DIGITS = 6;
/** The largest counter a stamp carries (the wire's bound); past it the clock moves to the next millisecond. */
export const MAX_HLC_COUNTER = 0x7fff_ffff;

/** A stamp whose counter overflowed goes on at the next millisecond: a received counter at the bound cannot push ours past it. */
const carried = (t: HlcTimestamp): HlcTimestamp => (t.counter > MAX_HLC_COUNTER ? { wallMs: t.wallMs + 1, counter: 0, nodeId: t.nodeId } : t);

/** Encodes so that string order equals timestamp order (wall, counter, node id). */
export const encodeHlc = (t: HlcTimestamp): string =>
  `${t.wallMs.toString(16).padStart(WALL_DIGITS, "0")}.${t.counter.toString(16).padStart(COUNTER_DIGITS, "0")}.${t.nodeId}`;

export const decodeHlc = (encoded: string): HlcTimestamp => {
  const [wall, counter, ...node] = encoded.split(".");
  const wallMs = Number.parseInt(wall ?? "", 16);
  const count = Number.parseInt(counter ?? "", 16);
  if (!Number.isFinite(wallMs) || !Number.isFinite(count) || node.length === 0) {
    throw new RangeError(`not an HLC timestamp: ${encoded}`);
  }
  return { wallMs, counter: count, nodeId: node.join(".") };
};

export const compareHlc = (a: HlcTimestamp, b: HlcTimestamp): number =>
  a.wallMs - b.wallMs || a.counter - b.counter || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0);

export class HybridLogicalClock {
  readonly nodeId: string;
  readonly #wallClock: () => number;
  #last: HlcTimestamp;

  constructor(nodeId: string, wallClock: () => number, last?: HlcTimestamp) {
    if (nodeId.length === 0) throw new RangeError("an HLC needs a node id");
    this.nodeId = nodeId;
    this.#wallClock = wallClock;
    this.#last = last ?? { wallMs: 0, counter: 0, nodeId };
  }

  /** A timestamp for a local event. */
  now(): HlcTimestamp {
    const wall = this.#wallClock();
    this.#last =
      wall > this.#last.wallMs
        ? { wallMs: wall, counter: 0, nodeId: this.nodeId }
        : carried({ wallMs: this.#last.wallMs, counter: this.#last.counter + 1, nodeId: this.nodeId });
    return this.#last;
  }

  /** Advances past a timestamp received from another node, so later local events order after it. */
  observe(remote: HlcTimestamp): HlcTimestamp {
    const wall = this.#wallClock();
    const maxWall = Math.max(wall, this.#last.wallMs, remote.wallMs);
    let counter = 0;
    if (maxWall === this.#last.wallMs && maxWall === remote.wallMs) counter = Math.max(this.#last.counter, remote.counter) + 1;
    else if (maxWall === this.#last.wallMs) counter = this.#last.counter + 1;
    else if (maxWall === remote.wallMs) counter = remote.counter + 1;
    this.#last = carried({ wallMs: maxWall, counter, nodeId: this.nodeId });
    return this.#last;
  }
}
