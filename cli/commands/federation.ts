// `palmline federation add|remove|list`: edits a region's federation list, the file
// `palmline cloud --federation FILE` admits region links by (cloud/replication/federation-members.ts).
// Keys are distributed out of band: a region's identity key is the "identityPublicKey" of its
// listening line. A running node re-reads the file on SIGHUP; a region removed is cut off then.
import { defineCommand, runCommandGroup, UsageError, type Command, type CommandGroup, type CommandSpec } from "../command-line.ts";

const program = "palmline federation";
const RELOAD_HINT = "a running node re-reads it on SIGHUP (kill -HUP <pid>)";

const fileOption = { file: { type: "string" } } as const;
const fileHelp = "the federation list (JSON; created by the first add, mode 0644)";

const requireValue = (value: string | undefined, flag: string): string => {
  if (value === undefined) throw new UsageError({ reason: `${flag} is required` });
  return value;
};

// Loaded only when a subcommand runs: --help needs none of it.
const members = async () => import("../../cloud/replication/federation-members.ts");

/** Runs an edit, turning the list's own refusals into one-line usage errors. */
const asUsageError = <A>(work: () => A): A => {
  try {
    return work();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError({ reason: error instanceof Error ? error.message : String(error) });
  }
};

const addSpec = {
  name: "add",
  program,
  summary: "list a peer region: its id, identity key and (to dial it) URL",
  usage: `${program} add --file FILE --region ID --key BASE64 [--url ws://HOST:PORT]`,
  options: { ...fileOption, region: { type: "string" }, key: { type: "string" }, url: { type: "string" } },
  optionHelp: {
    file: fileHelp,
    region: "the peer's region id (its --region)",
    key: "the peer's identity public key, base64 (identityPublicKey in its listening line)",
    url: "the peer's WebSocket URL, if this region should dial it; without it the peer dials in",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" }>>;

const addCommand = defineCommand(addSpec, async (values) => {
  const file = requireValue(values.file, "--file FILE");
  const region = requireValue(values.region, "--region ID");
  const key = requireValue(values.key, "--key BASE64");
  const { federationMember, loadFederationMembersOrEmpty, saveFederationMembers } = await members();
  asUsageError(() => {
    const listed = new Map(loadFederationMembersOrEmpty(file));
    if (listed.has(region)) throw new UsageError({ reason: `region ${region} is listed already; remove it first to change its key or URL` });
    listed.set(region, federationMember(region, key, values.url));
    saveFederationMembers(file, listed);
  });
  console.log(`region ${region} added to ${file}; ${RELOAD_HINT}`);
  return 0;
});

const removeSpec = {
  name: "remove",
  program,
  summary: "take a region off the list: its links close when the node re-reads it",
  usage: `${program} remove --file FILE --region ID`,
  options: { ...fileOption, region: { type: "string" } },
  optionHelp: { file: fileHelp, region: "the region id to remove" },
} as const satisfies CommandSpec<Record<string, { type: "string" }>>;

const removeCommand = defineCommand(removeSpec, async (values) => {
  const file = requireValue(values.file, "--file FILE");
  const region = requireValue(values.region, "--region ID");
  const { loadFederationMembers, saveFederationMembers } = await members();
  asUsageError(() => {
    const listed = new Map(loadFederationMembers(file));
    if (!listed.delete(region)) throw new UsageError({ reason: `region ${region} is not on ${file}` });
    saveFederationMembers(file, listed);
  });
  console.log(`region ${region} removed from ${file}; ${RELOAD_HINT}`);
  return 0;
});

const listSpec = {
  name: "list",
  program,
  summary: "show the regions on the list, one a line: id, key, URL",
  usage: `${program} list --file FILE`,
  options: fileOption,
  optionHelp: { file: fileHelp },
} as const satisfies CommandSpec<Record<string, { type: "string" }>>;

const listCommand = defineCommand(listSpec, async (values) => {
  const file = requireValue(values.file, "--file FILE");
  const { loadFederationMembers } = await members();
  const listed = asUsageError(() => loadFederationMembers(file));
  for (const m of listed.values()) console.log(`${m.regionId}\t${Buffer.from(m.identityPublicKey).toString("base64")}\t${m.url ?? "-"}`);
  return 0;
});

const federationGroup: CommandGroup = {
  name: program,
  program,
  title: `${program} — the regions this region replicates with (${RELOAD_HINT})`,
  commands: {
    add: async () => addCommand,
    remove: async () => removeCommand,
    list: async () => listCommand,
  },
};

export const federationCommand: Command = {
  spec: {
    name: "federation",
    summary: "edit a region's federation list (add, remove, list): who it replicates with",
    usage: `${program} add|remove|list --file FILE ...`,
    options: {},
    optionHelp: {},
  },
  run: async (argv) => {
    const [first] = argv;
    // An option before the subcommand is a wrong option, not an unknown command.
    if (first?.startsWith("-") && first !== "--help" && first !== "-h") throw new UsageError({ command: program, reason: `unknown option ${first}` });
    return runCommandGroup(federationGroup, argv);
  },
};
