// A payment card reader at the enrollment kiosk. The card data goes from here straight to the
// processor's vault; the agent holds it only for that call and wipes its copy.
export interface CardData {
  /** The primary account number: handed to the processor's vault only, never to palmline. */
  readonly pan: string;
  readonly expiryMonth: number;
  readonly expiryYear: number;
}

export interface CardReader {
  /** Resolves when a card is read; rejects when the signal aborts (the flow timed out or was cancelled). */
  read(signal: AbortSignal): Promise<CardData>;
}

/** A simulated reader: tests and the CLI insert cards; a waiting read resolves with the next one. */
export class SimulatedCardReader implements CardReader {
  #inserted: CardData | undefined;
  #waiting: ((card: CardData) => void) | undefined;

  insert(card: CardData): void {
    if (this.#waiting !== undefined) {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve(card);
    } else this.#inserted = card;
  }

  read(signal: AbortSignal): Promise<CardData> {
    const ready = this.#inserted;
    if (ready !== undefined) {
      this.#inserted = undefined;
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      signal.addEventListener("abort", () => {
        this.#waiting = undefined;
        reject(new Error("card read cancelled"));
      });
    });
  }
}
