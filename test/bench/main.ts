// `npm run bench -- <name> [options]`: benchmarks report numbers, they do not assert. Each prints
// progress while it runs and one JSON line at the end.
const benches: Record<string, { summary: string; run: (argv: string[]) => Promise<unknown> }> = {
  protocol: {
    summary: "handshakes/s, encrypted frames/s, bytes of overhead per frame",
    run: async () => (await import("./protocol.ts")).runProtocolBench(),
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
