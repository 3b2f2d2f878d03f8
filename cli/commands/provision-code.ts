// `palmline provision-code`: an operator on the node's machine issues a one-time code for a new
// scanner, with the region key the installer pins on it. Works beside a running node (SQLite WAL).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defineCommand, UsageError, type CommandSpec } from "../command-line.ts";

const provisionCodeSpec = {
  name: "provision-code",
  summary: "issue a one-time code that provisions one scanner to this region",
  usage: "palmline provision-code [--data DIR] [--json]",
  options: { data: { type: "string" }, json: { type: "boolean" } },
  optionHelp: {
    data: "the region's data directory (default .data/region)",
    json: "print one JSON object instead of text",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean" }>>;

export const provisionCodeCommand = defineCommand(provisionCodeSpec, async (values) => {
  const dataDir = values.data ?? ".data/region";
  if (!existsSync(join(dataDir, "registry.sqlite")))
    throw new UsageError({ reason: `no region data in ${dataDir} (start it once with: palmline cloud --data ${dataDir})` });
  // Loaded only when the command runs: its --help and argument errors need none of it.
  const { DeviceDirectory, PROVISIONING_CODE_TTL_MS } = await import("../../cloud/storage/sqlite/device-directory.ts");
  const { openRegistryDatabase } = await import("../../cloud/storage/sqlite/registry-database.ts");
  const { loadOrCreateRegionKeyring } = await import("../../cloud/storage/region-keyring.ts");
  const keyring = await loadOrCreateRegionKeyring(dataDir);
  const db = openRegistryDatabase(dataDir);
  try {
    const code = new DeviceDirectory(db).issueProvisioningCode(Date.now());
    const regionKey = Buffer.from(keyring.identity.publicKey).toString("base64");
    if (values.json) console.log(JSON.stringify({ code, regionKey, expiresInMs: PROVISIONING_CODE_TTL_MS }));
    else console.log(`one-time code: ${code}\nregion key:    ${regionKey}\nvalid for ${PROVISIONING_CODE_TTL_MS / 60_000} minutes, for one device`);
  } finally {
    db.close();
  }
  return 0;
});
