// Argument parsing for every palmline command: node:util's strict parser, so an unknown flag or
// a missing value is an error, turned into one line on stderr and a non-zero exit.
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { Data } from "effect";

export class UsageError extends Data.TaggedError("UsageError")<{ readonly reason: string }> {
  override get message() {
    return this.reason;
  }
}

export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: O;
  readonly optionHelp: Readonly<Record<keyof O & string, string>>;
}

export const helpText = <O extends ParseArgsOptionsConfig>(spec: CommandSpec<O>): string => {
  const rows = Object.entries(spec.optionHelp).map(([name, text]) => {
    const option = spec.options[name]!;
    const flag = `--${name}${option.type === "string" ? " VALUE" : ""}`;
    return `  ${flag.padEnd(22)} ${text}`;
  });
  return [`palmline ${spec.name} — ${spec.summary}`, "", `usage: ${spec.usage}`, "", "options:", ...rows, `  ${"--help".padEnd(22)} show this help`].join("\n");
};

export const parseCommand = <O extends ParseArgsOptionsConfig>(spec: CommandSpec<O>, argv: readonly string[]) => {
  try {
    return parseArgs({ args: [...argv], options: { ...spec.options, help: { type: "boolean" } }, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError({ reason: `${spec.name}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}` });
  }
};

export const parsePort = (text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError({ reason: `--port must be an integer from 0 to 65535, got "${text}"` });
  return port;
};

export const parsePositiveInt = (name: string, text: string | undefined, fallback: number, max = 1_000_000_000): number => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new UsageError({ reason: `--${name} must be an integer from 1 to ${max}, got "${text}"` });
  return value;
};
