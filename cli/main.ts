// The palmline command line: one entry, a subcommand each. Bad input ends with one line on
// stderr and a non-zero exit; every command has --help.
import { runCloud, cloudCommand } from "./commands/cloud.ts";
import { runDemo, demoCommand } from "./commands/demo.ts";
import { federationKeyCommand, runFederationKey } from "./commands/federation-key.ts";
import { runProvisionCode, provisionCodeCommand } from "./commands/provision-code.ts";
import { runStore, storeCommand } from "./commands/store.ts";
import { gateCommand, runGate } from "./commands/gate.ts";
import { kioskCommand, runKiosk } from "./commands/kiosk.ts";
import { UsageError } from "./command-line.ts";

interface Subcommand {
  readonly summary: string;
  readonly run: (argv: readonly string[]) => Promise<number>;
}

const subcommands: Record<string, Subcommand> = {
  demo: { summary: demoCommand.summary, run: runDemo },
  cloud: { summary: cloudCommand.summary, run: runCloud },
  "provision-code": { summary: provisionCodeCommand.summary, run: runProvisionCode },
  "federation-key": { summary: federationKeyCommand.summary, run: runFederationKey },
  store: { summary: storeCommand.summary, run: runStore },
  gate: { summary: gateCommand.summary, run: runGate },
  kiosk: { summary: kioskCommand.summary, run: runKiosk },
  eval: {
    summary: "measure palm-recognition accuracy on a dataset or on synthetic subjects",
    run: async (argv) => (await import("../edge/biometrics/evaluation/run-evaluation.ts")).runEvaluation([...argv]),
  },
};

const usage = () =>
  [
    "palmline — contactless palm identity",
    "",
    "usage: palmline <command> [options]",
    "",
    "commands:",
    ...Object.entries(subcommands).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`),
    "",
    "`palmline <command> --help` describes a command's options.",
  ].join("\n");

const main = async (argv: readonly string[]): Promise<number> => {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const command = subcommands[name];
  if (command === undefined) throw new UsageError({ reason: `unknown command "${name}" (try: palmline --help)` });
  return command.run(rest);
};

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const text = error instanceof Error ? error.message : String(error);
    console.error(`palmline: ${text.split("\n")[0]}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
