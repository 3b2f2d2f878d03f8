// `palmline store --devices N`: a store with an enrollment kiosk and N checkout lanes, driven by
// seeded simulated people: they enroll (card, phone, palm), then shop; strangers come too, and
// every fifth person's card is declined. Some lanes belong to a third-party merchant and only
// get payment credentials. A live status line per lane; `--once --json` for scripts. The node and
// the processor simulator run in processes of their own, the lanes and the kiosk in this one
// (cli/simulated-region-apart.ts), unless --inspector-port asks for everything in one.
import { randomBytes } from "node:crypto";
import { defineCommand, parsePositiveInt, type CommandSpec } from "../command-line.ts";

const storeSpec = {
  name: "store",
  summary: "simulate a store: people enroll at a kiosk, then pay by palm at N checkout lanes",
  usage: "palmline store [--devices N] [--people N] [--shoppers N] [--seed S] [--once] [--json] [--inspector-port P]",
  options: {
    devices: { type: "string" },
    people: { type: "string" },
    shoppers: { type: "string" },
    seed: { type: "string" },
    once: { type: "boolean" },
    json: { type: "boolean" },
    "inspector-port": { type: "string" },
  },
  optionHelp: {
    devices: "checkout lanes (default 2; every third lane is a third-party merchant)",
    people: "simulated people who enroll first (default 5)",
    shoppers: "shoppers per lane with --once (default 4)",
    seed: "seed for the simulated crowd (default 1)",
    once: "serve the shoppers, then exit (0 only if every decision was right)",
    json: "print one JSON summary instead of status lines",
    "inspector-port": "serve the inspector (devices, sessions, sagas) on 127.0.0.1 at this port (0: any free port)",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean" }>>;

export const storeCommand = defineCommand(storeSpec, async (values) => {
  const lanesWanted = parsePositiveInt("devices", values.devices, 2, 64);
  const peopleCount = parsePositiveInt("people", values.people, 5, 500);
  const seed = parsePositiveInt("seed", values.seed, 1);
  const shoppers = parsePositiveInt("shoppers", values.shoppers, 4, 100_000);
  // Loaded only when the command runs: its --help and argument errors need none of it.
  const { CheckoutLane } = await import("../../edge/flows/checkout-lane.ts");
  const { whenState } = await import("../../edge/flows/flow-driver.ts");
  const { SimulatedDisplay } = await import("../../hardware/display.ts");
  const { SimulatedPalmSensor } = await import("../../hardware/simulated-palm-sensor.ts");
  const { DECLINING_CARD, simulatedPeople, stopSignal, summary, openStoreRun } = await import("../simulated-site.ts");
  const people = simulatedPeople(peopleCount, seed);
  const json = values.json === true;
  const signal = stopSignal();
  const { site, board, decisions, record } = await openStoreRun({ title: "store", once: values.once === true, json, inspectorPort: values["inspector-port"] });
  try {
    const kiosk = await site.kiosk("kiosk-1");
    board.track("kiosk-1", kiosk.agent, kiosk.display);
    board.start();
    const enrolled: typeof people = [];
    for (const person of people) {
      if (signal.stopping()) break;
      const result = await kiosk.enroll(person);
      record({ device: "kiosk-1", who: person.name, expected: "enrolled", result, right: result.kind === "enrolled" });
      if (result.kind === "enrolled") enrolled.push(person);
    }
    const lanes = await Promise.all(
      Array.from({ length: lanesWanted }, async (_, i) => {
        const name = `lane-${i + 1}`;
        const thirdParty = i % 3 === 2;
        const { agent, extractor } = await site.device(name, "checkout", { merchantId: thirdParty ? "m_partner_cafe" : "palmline-store" });
        const sensor = new SimulatedPalmSensor({ seed: 200 + i });
        const display = new SimulatedDisplay();
        const lane = new CheckoutLane({
          agent,
          sensor,
          extractor,
          display,
          merchantId: thirdParty ? "m_partner_cafe" : "palmline-store",
          merchantKind: thirdParty ? "third-party" : "first-party",
          ...site.resultShown,
        });
        site.stops.push(() => lane.stop());
        let served = 0;
        board.track(name, agent, display, () => `${served} served`);
        return { name, index: i, lane, sensor, thirdParty, served: () => served, bump: () => served++ };
      }),
    );
    const serve = async (l: (typeof lanes)[number], visitor: number) => {
      const stranger = visitor % 4 === 3 || enrolled.length === 0;
      const person = stranger ? undefined : enrolled[(visitor * lanesWanted + l.index) % enrolled.length]!;
      const amountMinor = 100 + ((visitor * 733) % 9_000);
      await whenState(l.lane.actor, "idle");
      l.lane.begin(amountMinor, "EUR", l.thirdParty ? randomBytes(16) : undefined);
      l.sensor.present({ subjectSeed: person?.seed ?? 90_000 + visitor * 64 + l.index, side: "right" });
      await l.lane.presentHand();
      l.sensor.present(undefined);
      // The receipt shows on approval; the decision is what the lane ends with once settled.
      const result = await l.lane.settled();
      l.bump();
      const expected = person === undefined ? "not-identified" : l.thirdParty ? "credential-issued" : person.pan === DECLINING_CARD ? "declined" : "approved";
      record({ device: l.name, who: person?.name ?? `stranger ${visitor + 1}`, expected, result, right: result.kind === expected });
    };
    const runLane = async (l: (typeof lanes)[number]) => {
      for (let v = 0; values.once ? v < shoppers : true; v++) {
        if (signal.stopping()) return;
        await serve(l, v);
        if (!values.once) await Promise.race([signal.stopped, new Promise((r) => setTimeout(r, 1_000))]);
      }
    };
    await Promise.all(lanes.map(runLane));
    board.stop();
    const totals = summary(decisions);
    if (json)
      console.log(
        JSON.stringify({ command: "store", lanes: lanesWanted, enrolled: enrolled.length, ...totals, charges: await site.charges(), layout: site.layout }),
      );
    else console.log(`\n${totals.right} of ${totals.decisions} decisions right; p50 ${totals.p50Ms} ms, p99 ${totals.p99Ms} ms (hand -> answer)`);
    return totals.wrong === 0 ? 0 : 1;
  } finally {
    board.stop();
    await site.close();
  }
});
