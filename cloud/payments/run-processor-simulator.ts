// Runs the processor simulator as its own process (fault tests, the CLI): prints one JSON line
// with its URL once listening, and stops on SIGTERM/SIGINT.
import { startProcessorSimulator } from "./processor-simulator.ts";

const portArg = process.argv.indexOf("--port");
const port = portArg >= 0 ? Number(process.argv[portArg + 1]) : 0;
const simulator = await startProcessorSimulator({ port });
console.log(JSON.stringify({ event: "listening", url: simulator.url }));
const stop = () => void simulator.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
