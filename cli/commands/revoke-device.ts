// `palmline revoke-device`: an operator revokes a scanner on a running node through its operator
// API; the node closes the scanner's live sessions at once and refuses it from then on. The
// operator token comes from the environment, never the command line (argv is visible to every
// user of the machine).
import { defineCommand, UsageError, type CommandSpec } from "../command-line.ts";

export const OPERATOR_TOKEN_VARIABLE = "PALMLINE_OPERATOR_TOKEN";

const revokeDeviceSpec = {
  name: "revoke-device",
  summary: "revoke a scanner on a running node and close its live sessions",
  usage: `palmline revoke-device --node URL --device ID   (operator token in ${OPERATOR_TOKEN_VARIABLE})`,
  options: { node: { type: "string" }, device: { type: "string" } },
  optionHelp: {
    node: "the node's HTTP address, e.g. http://127.0.0.1:7443",
    device: "the scanner's device id (as the node logged it when it was provisioned)",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean" }>>;

export const revokeDeviceCommand = defineCommand(revokeDeviceSpec, async (values) => {
  if (values.node === undefined) throw new UsageError({ reason: "--node URL is required" });
  if (values.device === undefined) throw new UsageError({ reason: "--device ID is required" });
  let url: URL;
  try {
    url = new URL(`/api/devices/${encodeURIComponent(values.device)}/revoke`, values.node);
  } catch {
    throw new UsageError({ reason: `--node ${values.node} is not a URL` });
  }
  const token = process.env[OPERATOR_TOKEN_VARIABLE];
  const answer = await fetch(url, { method: "POST", headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  if (answer.status === 200) {
    console.log(`device ${values.device} revoked; its live sessions are closed`);
    return 0;
  }
  const reason =
    answer.status === 401
      ? `the node wants its operator token in ${OPERATOR_TOKEN_VARIABLE}`
      : answer.status === 404
        ? "the node knows no such device"
        : `the node answered ${answer.status}`;
  console.error(`palmline revoke-device: ${reason}`);
  return 1;
});
