// One-time codes are a budget per number and window: a resend neither refills the guesses (so
// guessing cannot go on by asking for new codes) nor is itself unlimited (a scanner cannot text a
// number without end).
import { expect, test } from "vitest";
import { CODE_GUESSES_PER_WINDOW, CODE_SENDS_PER_WINDOW, CODE_WINDOW_MS, PhoneVerifier, SimulatedSmsGateway } from "../../cloud/phone/phone-verifier.ts";
import { ManualClock } from "../../core/clock.ts";

const PHONE = "+447700900123";

const setup = () => {
  const clock = new ManualClock(1_000);
  const sms = new SimulatedSmsGateway();
  return { clock, sms, verifier: new PhoneVerifier(sms, clock) };
};

test("a resend does not refill the guesses: once they are spent, even the right new code is refused until the window ends", async () => {
  const { clock, sms, verifier } = setup();
  await verifier.sendCode(PHONE);
  for (let i = 0; i < CODE_GUESSES_PER_WINDOW; i++) expect(verifier.verify(PHONE, "000000")).toBe(false);
  expect(await verifier.sendCode(PHONE)).toBe(true);
  expect(verifier.verify(PHONE, sms.lastCodeFor(PHONE)!)).toBe(false);
  clock.advance(CODE_WINDOW_MS);
  expect(await verifier.sendCode(PHONE)).toBe(true);
  expect(verifier.verify(PHONE, sms.lastCodeFor(PHONE)!)).toBe(true);
});

test("a number is sent only so many codes per window: the next ask sends nothing", async () => {
  const { clock, sms, verifier } = setup();
  for (let i = 0; i < CODE_SENDS_PER_WINDOW; i++) expect(await verifier.sendCode(PHONE)).toBe(true);
  expect(await verifier.sendCode(PHONE)).toBe(false);
  expect(sms.outbox).toHaveLength(CODE_SENDS_PER_WINDOW);
  clock.advance(CODE_WINDOW_MS);
  expect(await verifier.sendCode(PHONE)).toBe(true);
});

test("the right code verifies once, and a verified code is spent", async () => {
  const { sms, verifier } = setup();
  await verifier.sendCode(PHONE);
  const code = sms.lastCodeFor(PHONE)!;
  expect(verifier.verify(PHONE, code)).toBe(true);
  expect(verifier.verify(PHONE, code)).toBe(false);
});
