// `palmline federation-key`: creates the key the regions of one federation share. Give the same
// file (copied over a secure path) to every region's `palmline cloud --federation-key FILE`.
import { defineCommand, UsageError, type CommandSpec } from "../command-line.ts";

const federationKeySpec = {
  name: "federation-key",
  summary: "create a federation key file: regions that share it replicate with each other",
  usage: "palmline federation-key --out FILE",
  options: { out: { type: "string" } },
  optionHelp: {
    out: "where to write the key (mode 0600); an existing file is never overwritten",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean" }>>;

export const federationKeyCommand = defineCommand(federationKeySpec, async (values) => {
  if (values.out === undefined) throw new UsageError({ reason: "--out FILE is required" });
  const { createFederationKeyFile } = await import("../../cloud/replication/federation-key.ts");
  try {
    createFederationKeyFile(values.out);
  } catch (error) {
    throw new UsageError({ reason: error instanceof Error ? error.message : String(error) });
  }
  console.log(`federation key written to ${values.out}; give every region of the federation a copy (palmline cloud --federation-key ${values.out})`);
  return 0;
});
