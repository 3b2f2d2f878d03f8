import { describe, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { LogSmsGateway, maskPhoneNumber } from "../../cloud/portal/log-sms-gateway.ts";
import { CODE_SENDS_PER_WINDOW, CODE_WINDOW_MS } from "../../cloud/phone/phone-verifier.ts";
import { PORTAL_SESSION_TTL_MS, PortalSignIn } from "../../cloud/portal/portal-sign-in.ts";
import { PhoneVerifier, SimulatedSmsGateway } from "../../cloud/phone/phone-verifier.ts";

const PHONE = "+447700900123";

const setup = () => {
  const clock = new ManualClock(1_000);
  const sms = new SimulatedSmsGateway();
  const signIn = new PortalSignIn({ verifier: new PhoneVerifier(sms, clock), clock, identityByPhone: (p) => (p === PHONE ? "id_alice" : undefined) });
  return { clock, sms, signIn };
};

const ADDRESS = "198.51.100.7";

describe("portal sign-in", () => {
  test("the code sent by SMS signs the person in to their identity", async () => {
    const { sms, signIn } = setup();
    await signIn.requestCode(PHONE, ADDRESS);
    const outcome = signIn.signIn(PHONE, sms.lastCodeFor(PHONE)!, ADDRESS);
    expect(outcome.kind).toBe("signed-in");
    if (outcome.kind === "signed-in") expect(signIn.identityFor(outcome.token)).toBe("id_alice");
  });

  test("a wrong code does not sign in", async () => {
    const { sms, signIn } = setup();
    await signIn.requestCode(PHONE, ADDRESS);
    const wrong = sms.lastCodeFor(PHONE) === "000000" ? "111111" : "000000";
    expect(signIn.signIn(PHONE, wrong, ADDRESS)).toEqual({ kind: "wrong-code" });
  });

  test("a correct code for a number nobody enrolled with says so", async () => {
    const { sms, signIn } = setup();
    await signIn.requestCode("+15550001111", ADDRESS);
    expect(signIn.signIn("+15550001111", sms.lastCodeFor("+15550001111")!, ADDRESS)).toEqual({ kind: "not-enrolled" });
  });

  test("a phone may ask only a few codes per window", async () => {
    const { clock, signIn } = setup();
    for (let i = 0; i < CODE_SENDS_PER_WINDOW; i++) expect(await signIn.requestCode(PHONE, ADDRESS)).toBe(true);
    expect(await signIn.requestCode(PHONE, ADDRESS)).toBe(false);
    clock.advance(CODE_WINDOW_MS + 1);
    expect(await signIn.requestCode(PHONE, ADDRESS)).toBe(true);
  });

  test("a session ends when it expires", async () => {
    const { clock, sms, signIn } = setup();
    await signIn.requestCode(PHONE, ADDRESS);
    const outcome = signIn.signIn(PHONE, sms.lastCodeFor(PHONE)!, ADDRESS);
    if (outcome.kind !== "signed-in") throw new Error("expected to sign in");
    clock.advance(PORTAL_SESSION_TTL_MS + 1);
    expect(signIn.identityFor(outcome.token)).toBeUndefined();
  });

  test("signing out ends the session", async () => {
    const { sms, signIn } = setup();
    await signIn.requestCode(PHONE, ADDRESS);
    const outcome = signIn.signIn(PHONE, sms.lastCodeFor(PHONE)!, ADDRESS);
    if (outcome.kind !== "signed-in") throw new Error("expected to sign in");
    signIn.signOut(outcome.token);
    expect(signIn.identityFor(outcome.token)).toBeUndefined();
  });

  test("an unknown token stands for nobody", () => {
    expect(setup().signIn.identityFor("forged")).toBeUndefined();
  });
});

describe("log SMS gateway", () => {
  test("writes the message to the log with the number masked", async () => {
    const lines: string[] = [];
    await new LogSmsGateway((l) => lines.push(l)).send(PHONE, "Your palmline code is 123456");
    expect(lines).toEqual(["sms to *********0123: Your palmline code is 123456"]);
    expect(maskPhoneNumber("12")).toBe("****");
  });
});
