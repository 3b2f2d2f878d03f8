// The device's screen: one line of text at a time, what the person should do or what happened.
export interface Display {
  show(text: string): void;
}

/** Keeps what was shown, newest last, so tests and the CLI status line can read it. */
export class SimulatedDisplay implements Display {
  readonly history: string[] = [];

  show(text: string): void {
    this.history.push(text);
    if (this.history.length > 100) this.history.shift();
  }

  get current(): string {
    return this.history.at(-1) ?? "";
  }
}
