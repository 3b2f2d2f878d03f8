// The palmline command line: one entry, a subcommand each. Bad input ends with one line on
// stderr and a non-zero exit; every command has --help (cli/command-line.ts owns both).
import { runCommandGroup, runEntryPoint, type CommandGroup } from "./command-line.ts";

const palmline: CommandGroup = {
  name: "palmline",
  program: "palmline",
  title: "palmline — contactless palm identity",
  commands: {
    demo: async () => (await import("./commands/demo.ts")).demoCommand,
    cloud: async () => (await import("./commands/cloud.ts")).cloudCommand,
    "provision-code": async () => (await import("./commands/provision-code.ts")).provisionCodeCommand,
    device: async () => (await import("./commands/revoke-device.ts")).deviceCommand,
    "revoke-device": async () => (await import("./commands/revoke-device.ts")).revokeDeviceCommand,
    federation: async () => (await import("./commands/federation.ts")).federationCommand,
    store: async () => (await import("./commands/store.ts")).storeCommand,
    gate: async () => (await import("./commands/gate.ts")).gateCommand,
    kiosk: async () => (await import("./commands/kiosk.ts")).kioskCommand,
    eval: async () => (await import("./commands/eval.ts")).evalCommand,
  },
};

runEntryPoint("palmline", () => runCommandGroup(palmline, process.argv.slice(2)));
