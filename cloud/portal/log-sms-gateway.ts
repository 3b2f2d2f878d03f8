// The local SMS adapter: instead of a carrier, the message goes to the node's log, so a developer
// or a test can read the one-time code. The number is masked: the log is not a phone book.
import type { SmsGateway } from "../phone/phone-verifier.ts";

export const maskPhoneNumber = (number: string): string => (number.length <= 4 ? "****" : `${"*".repeat(number.length - 4)}${number.slice(-4)}`);

export class LogSmsGateway implements SmsGateway {
  readonly #log: (line: string) => void;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  async send(number: string, text: string): Promise<void> {
    this.#log(`sms to ${maskPhoneNumber(number)}: ${text}`);
  }
}
