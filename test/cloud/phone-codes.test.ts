// One-time codes are a budget per number and window: a resend neither refills the guesses (so
// guessing cannot go on by asking for new codes) nor is itself unlimited (a scanner cannot text a
// number without end).
import { expect, test } from "vitest";
import {
  CODE_GUESSES_PER_WINDOW,
  CODE_SENDS_PER_WINDOW,
  CODE_WINDOW_MS,
  DEVICE_CODE_GUESSES_PER_WINDOW,
  PhoneVerifier,
  SimulatedSmsGateway,
} from "../../cloud/phone/phone-verifier.ts";
import { ManualClock } from "../../core/clock.ts";

const PHONE = "+447700900123";
const KIOSK = { deviceId: "dev_kiosk", address: "198.51.100.7" };

const setup = () => {
  const clock = new ManualClock(1_000);
  const sms = new SimulatedSmsGateway();
  return { clock, sms, verifier: new PhoneVerifier(sms, clock) };
};

test("a resend does not refill the guesses: once they are spent, even the right new code is refused until the window ends", async () => {
  const { clock, sms, verifier } = setup();
  await verifier.sendCode(PHONE, KIOSK);
  for (let i = 0; i < CODE_GUESSES_PER_WINDOW; i++) expect(verifier.verify(PHONE, "000000", KIOSK)).toBe(false);
  expect(await verifier.sendCode(PHONE, KIOSK)).toBe(true);
  expect(verifier.verify(PHONE, sms.lastCodeFor(PHONE)!, KIOSK)).toBe(false);
  clock.advance(CODE_WINDOW_MS);
  expect(await verifier.sendCode(PHONE, KIOSK)).toBe(true);
  expect(verifier.verify(PHONE, sms.lastCodeFor(PHONE)!, KIOSK)).toBe(true);
});

test("a number is sent only so many codes per window: the next ask sends nothing", async () => {
  const { clock, sms, verifier } = setup();
  for (let i = 0; i < CODE_SENDS_PER_WINDOW; i++) expect(await verifier.sendCode(PHONE, KIOSK)).toBe(true);
  expect(await verifier.sendCode(PHONE, KIOSK)).toBe(false);
  expect(sms.outbox).toHaveLength(CODE_SENDS_PER_WINDOW);
  clock.advance(CODE_WINDOW_MS);
  expect(await verifier.sendCode(PHONE, KIOSK)).toBe(true);
});

test("the right code verifies once, and a verified code is spent", async () => {
  const { sms, verifier } = setup();
  await verifier.sendCode(PHONE, KIOSK);
  const code = sms.lastCodeFor(PHONE)!;
  expect(verifier.verify(PHONE, code, KIOSK)).toBe(true);
  expect(verifier.verify(PHONE, code, KIOSK)).toBe(false);
});

test("a device's wrong guesses count across numbers: past its budget even the right code is refused", async () => {
  const { sms, verifier } = setup();
  const numbers = Array.from(
    { length: Math.ceil(DEVICE_CODE_GUESSES_PER_WINDOW / CODE_GUESSES_PER_WINDOW) + 1 },
    (_, i) => `+4477009001${String(i).padStart(2, "0")}`,
  );
  let guesses = 0;
  for (const number of numbers) {
    await verifier.sendCode(number, KIOSK);
    for (let i = 0; i < CODE_GUESSES_PER_WINDOW && guesses < DEVICE_CODE_GUESSES_PER_WINDOW; i++, guesses++) verifier.verify(number, "000000", KIOSK);
  }
  const last = numbers.at(-1)!;
  expect(verifier.verify(last, sms.lastCodeFor(last)!, KIOSK)).toBe(false);
  expect(verifier.verify(last, sms.lastCodeFor(last)!, { deviceId: "dev_other", address: "203.0.113.9" })).toBe(true);
});
