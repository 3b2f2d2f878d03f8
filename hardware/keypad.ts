// A keypad (or touch screen keyboard): the person types a phone number, a one-time code, the last
// four digits of their phone for a step-up, or confirms a choice.
export interface Keypad {
  /**
   * Resolves with what the person typed for this prompt ("phone", "code", "phone-last4",
   * "confirm"); rejects when the signal aborts.
   */
  read(prompt: string, signal: AbortSignal): Promise<string>;
}

/** A simulated keypad: answers are queued in order; a read waits for the next one. */
export class SimulatedKeypad implements Keypad {
  readonly #queued: string[] = [];
  readonly prompts: string[] = [];
  #waiting: ((text: string) => void) | undefined;

  type(text: string): void {
    if (this.#waiting !== undefined) {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve(text);
    } else this.#queued.push(text);
  }

  read(prompt: string, signal: AbortSignal): Promise<string> {
    this.prompts.push(prompt);
    const next = this.#queued.shift();
    if (next !== undefined) return Promise.resolve(next);
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      signal.addEventListener("abort", () => {
        this.#waiting = undefined;
        reject(new Error("keypad input cancelled"));
      });
    });
  }
}
