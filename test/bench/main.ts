// `npm run bench -- <name> [options]`: benchmarks report numbers, they do not assert. Each prints
// progress while it runs and one JSON line at the end. Their options and help are in
// bench-commands.ts; cli/command-line.ts turns them into --help and one-line errors. A bench's
// module loads only when it runs.
import { defineCommand, parsePositiveInt, runCommandGroup, runEntryPoint, type CommandGroup } from "../../cli/command-line.ts";
import { checkoutBenchSpec, cryptoBenchSpec, identifyBenchSpec, protocolBenchSpec, replicationBenchSpec } from "./bench-commands.ts";

const bench: CommandGroup = {
  name: "bench",
  program: "npm run bench --",
  title: "palmline benchmarks: each reports numbers (progress on stderr, one JSON line on stdout) and asserts nothing",
  commands: {
    protocol: async () => defineCommand(protocolBenchSpec, async () => (await (await import("./protocol.ts")).runProtocolBench(), 0)),
    crypto: async () =>
      defineCommand(cryptoBenchSpec, async (values) => {
        const rounds = parsePositiveInt("rounds", values.rounds, 7, 1_000);
        const roundMs = parsePositiveInt("round-ms", values["round-ms"], 300, 60_000);
        await (await import("./crypto.ts")).runCryptoBench({ rounds, roundMs });
        return 0;
      }),
    checkout: async () => defineCommand(checkoutBenchSpec, async (values) => (await (await import("./checkout.ts")).runCheckoutBench(values), 0)),
    replication: async () => defineCommand(replicationBenchSpec, async (values) => (await (await import("./replication.ts")).runReplicationBench(values), 0)),
    identify: async () => defineCommand(identifyBenchSpec, async (values) => (await (await import("./identify.ts")).runIdentifyBench(values), 0)),
  },
};

runEntryPoint("bench", () => runCommandGroup(bench, process.argv.slice(2)));
