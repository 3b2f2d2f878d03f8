// `palmline kiosk`: an enrollment kiosk with seeded simulated people: card, phone, the code
// from their SMS, four palm captures. Some type the wrong code, some hold up a printed photo,
// and the first person comes back (already enrolled). `--once --json` for scripts.
import { defineCommand, parsePositiveInt, type CommandSpec } from "../command-line.ts";

const kioskSpec = {
  name: "kiosk",
  summary: "simulate an enrollment kiosk: card, phone code and palm, with mistakes and a spoof",
  usage: "palmline kiosk [--people N] [--seed S] [--once] [--json] [--inspector-port P]",
  options: {
    people: { type: "string" },
    seed: { type: "string" },
    once: { type: "boolean" },
    json: { type: "boolean" },
    "inspector-port": { type: "string" },
  },
  optionHelp: {
    people: "simulated people (default 6; every fourth types a wrong code, every fifth holds up a photo)",
    seed: "seed for the simulated crowd (default 1)",
    once: "enroll everyone once, then exit (0 only if every decision was right)",
    json: "print one JSON summary instead of status lines",
    "inspector-port": "serve the inspector (devices, sessions, sagas) on 127.0.0.1 at this port (0: any free port)",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean" }>>;

export const kioskCommand = defineCommand(kioskSpec, async (values) => {
  const count = parsePositiveInt("people", values.people, 6, 500);
  const seed = parsePositiveInt("seed", values.seed, 1);
  // Loaded only when the command runs: its --help and argument errors need none of it.
  const { simulatedPeople, stopSignal, summary, openSiteRun } = await import("../simulated-site.ts");
  const json = values.json === true;
  const signal = stopSignal();
  const { site, board, decisions } = await openSiteRun({ title: "kiosk", once: values.once === true, json, inspectorPort: values["inspector-port"] });
  try {
    const kiosk = await site.kiosk("kiosk-1");
    board.track("kiosk-1", kiosk.agent, kiosk.display, () => `${site.node.enrolledCount()} enrolled`);
    board.start();
    for (let round = 0; !signal.stopping(); round++) {
      const people = simulatedPeople(count, seed + round * 101);
      for (const [i, person] of people.entries()) {
        if (signal.stopping()) break;
        const wrongCode = i % 4 === 3;
        const spoof = !wrongCode && i % 5 === 4;
        const result = await kiosk.enroll(person, { wrongCode, ...(spoof ? { attack: "printed-photo" as const } : {}) });
        const expected = wrongCode || spoof ? "rejected" : "enrolled";
        const d = {
          device: "kiosk-1",
          who: `${person.name}${wrongCode ? " (typo)" : spoof ? " (photo)" : ""}`,
          expected,
          result,
          right: result.kind === expected,
        };
        decisions.push(d);
        board.decision(d);
      }
      const again = await kiosk.enroll(people[0]!);
      const d = { device: "kiosk-1", who: "person 1 again", expected: "already-enrolled", result: again, right: again.kind === "already-enrolled" };
      decisions.push(d);
      board.decision(d);
      if (values.once) break;
    }
    board.stop();
    const totals = summary(decisions);
    if (json) console.log(JSON.stringify({ command: "kiosk", enrolled: site.node.enrolledCount(), ...totals }));
    else console.log(`\n${totals.right} of ${totals.decisions} decisions right; ${site.node.enrolledCount()} enrolled`);
    return totals.wrong === 0 ? 0 : 1;
  } finally {
    board.stop();
    await site.close();
  }
});
