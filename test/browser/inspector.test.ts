// The inspector in a real browser: a developer watches a device's flow (a service point's
// loyalty lookup, on a device agent) react to a simulated hand, pauses and steps its clock, and
// drives it with an event sent from the page.
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { startSimulatedRegion } from "../../cli/simulated-region.ts";
import { ServicePoint } from "../../edge/flows/service-point.ts";
import { SimulatedDisplay } from "../../hardware/display.ts";
import { SimulatedKeypad } from "../../hardware/keypad.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { InspectionHub } from "../../inspector/inspection-hub.ts";
import { startInspectorServer, type InspectorServer } from "../../inspector/inspector-server.ts";
import { SimulatedClock } from "../../inspector/simulated-clock.ts";
import { launchChromium, screenshotOnFailure } from "../support/browser.ts";

let browser: Browser;
let page: Page | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser.close();
});
afterEach(async (context) => {
  await screenshotOnFailure(page, context.task.name, context.task.result?.state === "fail");
  await page?.close();
  page = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The flow the page watches: the loyalty lookup of service point "desk-1". */
const LOOKUP = "desk-1/loyalty-lookup";

const startLookupWithInspector = async () => {
  const clock = new SimulatedClock();
  cleanups.push(() => clock.stop());
  const hub = new InspectionHub(() => clock.now());
  const region = await startSimulatedRegion({ regionId: "t", shardCount: 1, inspection: hub, deviceClock: clock });
  cleanups.push(() => region.close());
  const { agent, extractor } = await region.device("desk-1", { mode: "service-point" });
  const sensor = new SimulatedPalmSensor({ seed: 5 });
  const point = new ServicePoint({ agent, sensor, extractor, keypad: new SimulatedKeypad(), display: new SimulatedDisplay() });
  region.stops.push(() => point.stop());
  hub.addCommand(LOOKUP, {
    name: "present-hand",
    label: "Present a simulated hand",
    fields: [{ name: "subjectSeed", kind: "number", initial: "1" }],
    run: async (values) => {
      sensor.present({ subjectSeed: Number(values.subjectSeed), side: "right" });
      await point.lookupLoyalty();
      sensor.present(undefined);
    },
  });
  const inspector: InspectorServer = await startInspectorServer({ hub, clock, title: "palmline inspector — test store" });
  cleanups.push(() => inspector.close());
  page = await browser.newPage();
  await page.goto(inspector.pageUrl);
  await page.locator(`nav button[data-actor="${LOOKUP}"]`).click();
  return { page, clock };
};

test("the page lists the flow and draws its statechart with the active state", async () => {
  const { page } = await startLookupWithInspector();
  await expect.poll(() => page.getByTestId("actor-state").textContent()).toBe("idle");
  await expect.poll(() => page.locator('.statechart .node.active[data-state="lookup.idle"]').count()).toBe(1);
  expect(await page.locator(".statechart .node").count()).toBeGreaterThanOrEqual(5);
});

test("the page takes its token from the address it was opened with and drops it from the address bar", async () => {
  const { page } = await startLookupWithInspector();
  expect(new URL(page.url()).hash).toBe("");
  await page.reload();
  await expect.poll(() => page.getByTestId("actor-state").count()).toBeGreaterThan(0);
});

test("a page opened without the token shows nothing and says how to open it", async () => {
  const hub = new InspectionHub(() => 0);
  const inspector = await startInspectorServer({ hub, title: "palmline inspector — no token" });
  cleanups.push(() => inspector.close());
  page = await browser.newPage();
  await page.goto(inspector.url);
  await expect.poll(() => page!.locator("main").textContent()).toContain("Open the inspector with the address it printed at start");
});

test("a simulated hand moves the flow to the result", async () => {
  const { page } = await startLookupWithInspector();
  await page.getByTestId("command-present-hand").getByRole("button").click();
  await expect.poll(() => page.getByTestId("actor-state").textContent(), { timeout: 15_000 }).toBe("showingResult");
  const context = await page.getByTestId("actor-context").textContent();
  expect(context).toContain('"kind": "not-identified"');
  expect(await page.getByTestId("timeline").textContent()).toContain("HAND_PRESENTED");
});

test("with the clock paused the result stays on screen until a step", async () => {
  const { page } = await startLookupWithInspector();
  await page.getByRole("button", { name: "Pause" }).click();
  await page.getByTestId("command-present-hand").getByRole("button").click();
  await expect.poll(() => page.getByTestId("actor-state").textContent(), { timeout: 15_000 }).toBe("showingResult");
  await page.waitForTimeout(2_000); // longer than the display timeout, on a paused clock
  expect(await page.getByTestId("actor-state").textContent()).toBe("showingResult");
  await page.getByTestId("clock-step").click();
  await expect.poll(() => page.getByTestId("actor-state").textContent()).toBe("idle");
});

test("an event sent from the page is delivered and its transition shown", async () => {
  const { page } = await startLookupWithInspector();
  await page.getByTestId("event-type").selectOption("HAND_PRESENTED");
  await page.getByTestId("event-payload").fill('{"at": 0}');
  await page.getByTestId("send-event").getByRole("button", { name: "Send" }).click();
  await expect.poll(() => page.getByTestId("event-result").textContent()).toBe("sent HAND_PRESENTED");
  // No hand is over the sensor, so the capture retries and then the flow shows why it gave up.
  await expect.poll(() => page.getByTestId("actor-context").textContent(), { timeout: 15_000 }).toContain("no-hand");
});
