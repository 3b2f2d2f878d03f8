// The relay of a turnstile or door, and its passage sensor.
export interface GateRelay {
  /** Opens for the given time; resolves with whether someone went through. */
  open(forMs: number): Promise<boolean>;
}

/** A simulated relay: counts openings; the next passage outcome is set by the test or CLI. */
export class SimulatedGateRelay implements GateRelay {
  openings = 0;
  #passes = true;

  willPass(passes: boolean): void {
    this.#passes = passes;
  }

  async open(_forMs: number): Promise<boolean> {
    this.openings++;
    return this.#passes;
  }
}
