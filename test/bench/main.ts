// `npm run bench -- <name> [options]`: benchmarks report numbers, they do not assert. Each prints
// progress while it runs and one JSON line at the end. Each bench declares its options next to
// its code; cli/command-line.ts turns them into --help and one-line errors.
import { defineCommand, runCommandGroup, runEntryPoint, type CommandGroup } from "../../cli/command-line.ts";

const protocolBench = defineCommand(
  {
    name: "protocol",
    program: "npm run bench --",
    summary: "handshakes/s, encrypted frames/s, bytes of overhead per frame",
    usage: "npm run bench -- protocol",
    options: {},
    optionHelp: {},
  },
  async () => {
    await (await import("./protocol.ts")).runProtocolBench();
    return 0;
  },
);

const bench: CommandGroup = {
  name: "bench",
  program: "npm run bench --",
  title: "palmline benchmarks: each reports numbers (progress on stderr, one JSON line on stdout) and asserts nothing",
  commands: {
    protocol: async () => protocolBench,
    checkout: async () => {
      const { checkoutBenchSpec, runCheckoutBench } = await import("./checkout.ts");
      return defineCommand(checkoutBenchSpec, async (values) => (await runCheckoutBench(values), 0));
    },
    replication: async () => {
      const { replicationBenchSpec, runReplicationBench } = await import("./replication.ts");
      return defineCommand(replicationBenchSpec, async (values) => (await runReplicationBench(values), 0));
    },
    identify: async () => {
      const { identifyBenchSpec, runIdentifyBench } = await import("./identify.ts");
      return defineCommand(identifyBenchSpec, async (values) => (await runIdentifyBench(values), 0));
    },
  },
};

runEntryPoint("bench", () => runCommandGroup(bench, process.argv.slice(2)));
