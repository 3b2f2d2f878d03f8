// `palmline gate --devices N`: a venue with N turnstiles. Seeded simulated fans enroll at a
// kiosk; the operator grants tickets through the node's HTTP API (valid, expired) and badges;
// fans and strangers come to the gates. A live status line per gate; `--once --json` for scripts.
import { defineCommand, parsePositiveInt, type CommandSpec } from "../command-line.ts";

const gateSpec = {
  name: "gate",
  summary: "simulate a venue: fans enroll, get tickets through the operator API, and enter by palm at N gates",
  usage: "palmline gate [--devices N] [--people N] [--visitors N] [--seed S] [--once] [--json] [--inspector-port P]",
  options: {
    devices: { type: "string" },
    people: { type: "string" },
    visitors: { type: "string" },
    seed: { type: "string" },
    once: { type: "boolean" },
    json: { type: "boolean" },
    "inspector-port": { type: "string" },
  },
  optionHelp: {
    devices: "gates (default 2)",
    people: "simulated fans who enroll first (default 6; every third holds an expired ticket)",
    visitors: "visitors per gate with --once (default 4)",
    seed: "seed for the simulated crowd (default 1)",
    once: "serve the visitors, then exit (0 only if every decision was right)",
    json: "print one JSON summary instead of status lines",
    "inspector-port": "serve the inspector (devices, sessions, sagas) on 127.0.0.1 at this port (0: any free port)",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean" }>>;

const VENUE = "stadium";
const HOUR = 3_600_000;

export const gateCommand = defineCommand(gateSpec, async (values) => {
  const gatesWanted = parsePositiveInt("devices", values.devices, 2, 64);
  const peopleCount = parsePositiveInt("people", values.people, 6, 500);
  const seed = parsePositiveInt("seed", values.seed, 1);
  const visitors = parsePositiveInt("visitors", values.visitors, 4, 100_000);
  // Loaded only when the command runs: its --help and argument errors need none of it.
  const { GateLane } = await import("../../edge/flows/gate-lane.ts");
  const { whenState } = await import("../../edge/flows/flow-driver.ts");
  const { SimulatedDisplay } = await import("../../hardware/display.ts");
  const { SimulatedGateRelay } = await import("../../hardware/gate-relay.ts");
  const { SimulatedPalmSensor } = await import("../../hardware/simulated-palm-sensor.ts");
  const { simulatedPeople, stopSignal, summary, openSiteRun } = await import("../simulated-site.ts");
  const people = simulatedPeople(peopleCount, seed + 7);
  const json = values.json === true;
  const signal = stopSignal();
  const { site, board, decisions, record } = await openSiteRun({ title: "gate", once: values.once === true, json, inspectorPort: values["inspector-port"] });
  try {
    const kiosk = await site.kiosk("kiosk-1");
    board.track("kiosk-1", kiosk.agent, kiosk.display);
    board.start();
    const fans: { seed: number; name: string; admitted: boolean }[] = [];
    for (const [i, person] of people.entries()) {
      if (signal.stopping()) break;
      const result = await kiosk.enroll(person);
      record({ device: "kiosk-1", who: person.name, expected: "enrolled", result, right: result.kind === "enrolled" });
      if (result.kind !== "enrolled") continue;
      const expired = i % 3 === 2;
      const now = Date.now();
      // The operator's API, by phone number: the operator never handles palm data.
      const response = await fetch(`${site.node.httpUrl}/api/entitlements`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${site.node.operatorToken}` },
        body: JSON.stringify({
          phone: person.phone,
          kind: "ticket",
          venueId: VENUE,
          label: `Season ticket, row ${i + 1}`,
          validFrom: expired ? now - 48 * HOUR : now - HOUR,
          validUntil: expired ? now - 24 * HOUR : now + 24 * HOUR,
          entries: null,
        }),
      });
      if (response.status !== 201) throw new Error(`granting a ticket failed: HTTP ${response.status}`);
      fans.push({ seed: person.seed, name: person.name, admitted: !expired });
    }
    const gates = await Promise.all(
      Array.from({ length: gatesWanted }, async (_, i) => {
        const name = `gate-${i + 1}`;
        const { agent, extractor } = await site.device(name, "gate", { venueId: VENUE });
        const sensor = new SimulatedPalmSensor({ seed: 300 + i });
        const display = new SimulatedDisplay();
        const relay = new SimulatedGateRelay();
        const lane = new GateLane({ agent, sensor, extractor, relay, display, venueId: VENUE, gateId: name, ...site.resultShown });
        site.stops.push(() => lane.stop());
        board.track(name, agent, display, () => `${relay.openings} opened`);
        return { name, index: i, lane, sensor };
      }),
    );
    const runGateLoop = async (g: (typeof gates)[number]) => {
      for (let v = 0; values.once ? v < visitors : true; v++) {
        if (signal.stopping()) return;
        const stranger = v % 4 === 3 || fans.length === 0;
        const fan = stranger ? undefined : fans[(v * gatesWanted + g.index) % fans.length]!;
        await whenState(g.lane.actor, "idle");
        g.sensor.present({ subjectSeed: fan?.seed ?? 80_000 + v * 64 + g.index, side: "right" });
        const result = await g.lane.presentHand();
        g.sensor.present(undefined);
        const expected = fan === undefined ? "not-identified" : fan.admitted ? "open" : "denied";
        record({ device: g.name, who: fan?.name ?? `stranger ${v + 1}`, expected, result, right: result.kind === expected });
        if (!values.once) await Promise.race([signal.stopped, new Promise((r) => setTimeout(r, 1_000))]);
      }
    };
    await Promise.all(gates.map(runGateLoop));
    board.stop();
    const totals = summary(decisions);
    if (json) console.log(JSON.stringify({ command: "gate", gates: gatesWanted, fans: fans.length, ...totals }));
    else console.log(`\n${totals.right} of ${totals.decisions} decisions right; p50 ${totals.p50Ms} ms, p99 ${totals.p99Ms} ms (hand -> answer)`);
    return totals.wrong === 0 ? 0 : 1;
  } finally {
    board.stop();
    await site.close();
  }
});
