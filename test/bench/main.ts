// `npm run bench -- <name> [options]`: benchmarks report numbers, they do not assert. Each prints
// progress while it runs and one JSON line at the end.
const benches: Record<string, { summary: string; run: (argv: string[]) => Promise<unknown> }> = {
  protocol: {
    summary: "handshakes/s, encrypted frames/s, bytes of overhead per frame",
    run: async () => (await import("./protocol.ts")).runProtocolBench(),
  },
  checkout: {
    summary: "hand -> approved with N enrolled and D lanes busy (--enrolled N, default 100,000; --devices D, default 20)",
    run: async (argv) => (await import("./checkout.ts")).runCheckoutBench(argv),
  },
  replication: {
    summary: "two regions: changes/s, convergence after a partition with 10,000 changes per side, deletion -> unidentifiable (--changes N)",
    run: async (argv) => (await import("./replication.ts")).runReplicationBench(argv),
  },
  identify: {
    summary: "identification among N enrolled (--enrolled N, up to 1,000,000): latency, recall@1, restart, bytes/identity",
    run: async (argv) => (await import("./identify.ts")).runIdentifyBench(argv),
  },
};

const usage = () =>
  ["usage: npm run bench -- <name> [options]", "", "benchmarks:", ...Object.entries(benches).map(([n, b]) => `  ${n.padEnd(12)} ${b.summary}`)].join("\n");

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === "--help" || name === "-h") {
  console.log(usage());
  process.exit(name === undefined ? 1 : 0);
}
const bench = benches[name];
if (bench === undefined) {
  console.error(`bench: unknown benchmark "${name}" (try: npm run bench -- --help)`);
  process.exit(2);
}
await bench.run(rest);
