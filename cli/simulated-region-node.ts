// The simulation's region node as a process of its own (simulated-region-apart.ts starts it):
// `palmline cloud` with what a simulation adds, a texted code printed for the simulated people to
// read, and the simulation's probing allowance (cloud/session/probe-guard.ts). Prints one JSON
// line once listening; each SMS is a JSON line too; stops on SIGTERM/SIGINT.
//   node cli/simulated-region-node.ts --data DIR --processor URL [--region NAME]
import { parseArgs } from "node:util";
import { SimulatedSmsGateway } from "../cloud/phone/phone-verifier.ts";
import { startRegionNode } from "../cloud/region-node.ts";
import { SIMULATION_PROBE_LIMIT } from "../cloud/session/probe-guard.ts";
import { systemClock } from "../core/clock.ts";

const { values } = parseArgs({ options: { data: { type: "string" }, processor: { type: "string" }, region: { type: "string" } } });
if (values.data === undefined || values.processor === undefined) {
  console.error("usage: node cli/simulated-region-node.ts --data DIR --processor URL [--region NAME]");
  process.exit(2);
}
process.umask(0o077);
const node = await startRegionNode({
  regionId: values.region ?? "site",
  dataDir: values.data,
  host: "127.0.0.1",
  port: 0,
  shardCount: 2,
  clock: systemClock,
  log: () => {},
  processorUrl: values.processor,
  sms: new SimulatedSmsGateway((number, text) => console.log(JSON.stringify({ event: "sms", number, text }))),
  probeLimit: SIMULATION_PROBE_LIMIT,
});
console.log(
  JSON.stringify({ event: "listening", url: node.url, httpUrl: node.httpUrl, identityPublicKey: Buffer.from(node.identityPublicKey).toString("base64") }),
);
const stop = () => void node.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
