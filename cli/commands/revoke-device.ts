// `palmline device revoke` (also `palmline revoke-device`): an operator revokes a scanner on a
// running node through its operator API; the node closes the scanner's live sessions at once and
// refuses it from then on. The operator token comes from a file (the node's <data>/operator-token,
// or the one it was given) or the environment, never the command line (argv is visible to every
// user of the machine). A node served over TLS by a private CA is trusted through NODE_EXTRA_CA_CERTS.
import { runCommandGroup, defineCommand, UsageError, type Command, type CommandSpec } from "../command-line.ts";

export const OPERATOR_TOKEN_VARIABLE = "PALMLINE_OPERATOR_TOKEN";

const revokeDeviceSpec = {
  name: "device revoke",
  summary: "revoke a scanner on a running node and close its live sessions",
  usage: `palmline device revoke --node URL --device ID [--operator-token-file FILE]   (or the token in ${OPERATOR_TOKEN_VARIABLE})`,
  options: { node: { type: "string" }, device: { type: "string" }, "operator-token-file": { type: "string" } },
  optionHelp: {
    node: "the node's HTTP address, e.g. http://127.0.0.1:7400 (https:// when it serves TLS)",
    device: "the scanner's device id (as the node logged it when it was provisioned)",
    "operator-token-file": `the node's operator token file (its listening line names it); else ${OPERATOR_TOKEN_VARIABLE}`,
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
  let token = process.env[OPERATOR_TOKEN_VARIABLE];
  if (values["operator-token-file"] !== undefined) {
    const { readTokenFile } = await import("../../http/secret-file.ts");
    try {
      token = readTokenFile(values["operator-token-file"]);
    } catch (error) {
      throw new UsageError({ reason: error instanceof Error ? error.message : String(error) });
    }
  }
  const answer = await fetch(url, { method: "POST", headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  if (answer.status === 200) {
    console.log(`device ${values.device} revoked; its live sessions are closed`);
    return 0;
  }
  const reason =
    answer.status === 401
      ? `the node refused the operator token: give its token file (--operator-token-file) or the token in ${OPERATOR_TOKEN_VARIABLE}`
      : answer.status === 404
        ? "the node knows no such device"
        : `the node answered ${answer.status}`;
  console.error(`palmline device revoke: ${reason}`);
  return 1;
});

/** `palmline device <action>`: what an operator does to a scanner from the command line. */
export const deviceCommand: Command = {
  spec: {
    name: "device",
    summary: "act on a scanner of a running node (revoke)",
    usage: "palmline device revoke --node URL --device ID",
    options: {},
    optionHelp: {},
  },
  run: (argv) =>
    runCommandGroup(
      {
        name: "palmline device",
        program: "palmline device",
        title: "palmline device — act on a scanner",
        commands: { revoke: async () => revokeDeviceCommand },
      },
      argv,
    ),
};
