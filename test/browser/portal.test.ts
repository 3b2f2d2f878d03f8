// The privacy portal in a real browser: a person enrolled at a kiosk signs in with phone and
// one-time code, sees what palmline holds, unlinks the card and deletes everything.
import { Effect } from "effect";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { simulatedPeople, startSite, type Site } from "../../cli/simulated-site.ts";
import { launchChromium, screenshotOnFailure } from "../support/browser.ts";

let browser: Browser;
let site: Site;
let page: Page | undefined;

beforeAll(async () => {
  browser = await launchChromium();
  site = await startSite({ quiet: true, resultShownMs: 50 });
}, 120_000);
afterAll(async () => {
  await browser.close();
  await site.close();
});
afterEach(async (context) => {
  await screenshotOnFailure(page, context.task.name, context.task.result?.state === "fail");
  await page?.close();
  page = undefined;
});

const enrolledPerson = async (index: number) => {
  const person = simulatedPeople(8, 77)[index]!;
  const kiosk = await site.kiosk(`kiosk-${index}`);
  const result = await kiosk.enroll(person);
  expect(result.kind).toBe("enrolled");
  return person;
};

const signIn = async (phone: string) => {
  page = await browser.newPage();
  await page.goto(`${site.node.httpUrl}/portal`);
  await page.fill("#phone", phone);
  await page.click("#send-code");
  await page.waitForSelector("#code", { state: "visible" });
  await page.fill("#code", site.sms.lastCodeFor(phone)!);
  await page.click("#sign-in-button");
  await page.waitForSelector("#account", { state: "visible" });
  return page;
};

test("a person signs in with phone and code and sees their card by brand and last four only", async () => {
  const person = await enrolledPerson(0);
  const page = await signIn(person.phone);
  expect(await page.textContent("#card")).toMatch(/ending 4242, expires 12\/2031/);
  expect(await page.textContent("#loyalty")).toBe(person.loyaltyCard ?? "none");
  expect(await page.textContent("#open-transactions")).toContain("none");
  expect(await page.content()).not.toContain(person.pan);
}, 60_000);

test("a wrong code is refused with a reason", async () => {
  const person = await enrolledPerson(1);
  page = await browser.newPage();
  await page.goto(`${site.node.httpUrl}/portal`);
  await page.fill("#phone", person.phone);
  await page.click("#send-code");
  await page.waitForSelector("#code", { state: "visible" });
  const right = site.sms.lastCodeFor(person.phone)!;
  await page.fill("#code", right === "000000" ? "111111" : "000000");
  await page.click("#sign-in-button");
  await expect.poll(() => page!.textContent("#sign-in-message")).toBe("that code is wrong or has expired");
  expect(await page.isVisible("#account")).toBe(false);
}, 60_000);

test("unlinking the card removes it from what the portal shows", async () => {
  const person = await enrolledPerson(2);
  const page = await signIn(person.phone);
  await page.click("#unlink");
  await expect.poll(() => page.textContent("#card")).toBe("no card linked");
}, 60_000);

test("deleting with no open payment deletes at once: the phone and every field are gone", async () => {
  const person = await enrolledPerson(3);
  const identityId = Effect.runSync(site.node.flows.registry.findByPhone(person.phone))!;
  const page = await signIn(person.phone);
  await page.click("#delete");
  await expect.poll(() => page.textContent("#delete-message")).toBe("Tick the box to confirm first.");
  await page.check("#confirm-delete");
  await page.click("#delete");
  await page.waitForSelector("#deleted", { state: "visible" });
  expect(Effect.runSync(site.node.flows.registry.findByPhone(person.phone))).toBeUndefined();
  expect(Effect.runSync(site.node.flows.registry.readProfile(identityId))).toEqual({});
}, 60_000);
