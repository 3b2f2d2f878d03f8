// `palmline provision-code`: an operator on the node's machine issues a one-time code for a new
// scanner, naming what the scanner is bound to (its roles, the merchant it takes payments for, the
// venue whose gates it opens), with the region key the installer pins on it. Works beside a
// running node (SQLite WAL).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defineCommand, UsageError, type CommandSpec } from "../command-line.ts";

const provisionCodeSpec = {
  name: "provision-code",
  summary: "issue a one-time code that provisions one scanner to this region, bound to its roles, merchant and venue",
  usage: "palmline provision-code --role ROLE[,ROLE] [--merchant ID] [--venue ID] [--data DIR] [--json]",
  options: { role: { type: "string" }, merchant: { type: "string" }, venue: { type: "string" }, data: { type: "string" }, json: { type: "boolean" } },
  optionHelp: {
    role: "what the scanner may do: checkout, gate, enrollment-kiosk, service-point (comma-separated)",
    merchant: "the one merchant a checkout scanner takes payments for",
    venue: "the one venue whose gates a gate scanner opens",
    data: "the region's data directory (default .data/region)",
    json: "print one JSON object instead of text",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean" }>>;

export const provisionCodeCommand = defineCommand(provisionCodeSpec, async (values) => {
  const dataDir = values.data ?? ".data/region";
  // Loaded only when the command runs: its --help and argument errors need none of the rest.
  const { deviceBinding, InvalidDeviceBinding } = await import("../../cloud/storage/device-binding.ts");
  let binding: ReturnType<typeof deviceBinding>;
  try {
    binding = deviceBinding({ roles: (values.role ?? "").split(",").filter((r) => r !== ""), merchantId: values.merchant, venueId: values.venue });
  } catch (error) {
    if (error instanceof InvalidDeviceBinding) throw new UsageError({ reason: error.message });
    throw error;
  }
  if (!existsSync(join(dataDir, "registry.sqlite")))
    throw new UsageError({ reason: `no region data in ${dataDir} (start it once with: palmline cloud --data ${dataDir})` });
  const { DeviceDirectory, PROVISIONING_CODE_TTL_MS } = await import("../../cloud/storage/sqlite/device-directory.ts");
  const { openRegistryDatabase } = await import("../../cloud/storage/sqlite/registry-database.ts");
  const { loadOrCreateRegionKeyring } = await import("../../cloud/storage/region-keyring.ts");
  const keyring = await loadOrCreateRegionKeyring(dataDir);
  const db = openRegistryDatabase(dataDir);
  try {
    const code = new DeviceDirectory(db).issueProvisioningCode(binding, Date.now());
    const regionKey = Buffer.from(keyring.identity.publicKey).toString("base64");
    const bound = [binding.roles.join(", "), binding.merchantId && `merchant ${binding.merchantId}`, binding.venueId && `venue ${binding.venueId}`]
      .filter(Boolean)
      .join("; ");
    if (values.json) console.log(JSON.stringify({ code, regionKey, expiresInMs: PROVISIONING_CODE_TTL_MS, binding }));
    else
      console.log(
        `one-time code: ${code}\nregion key:    ${regionKey}\nbound to:      ${bound}\nvalid for ${PROVISIONING_CODE_TTL_MS / 60_000} minutes, for one device`,
      );
  } finally {
    db.close();
  }
  return 0;
});
