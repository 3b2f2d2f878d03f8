// Argument parsing for every palmline entry point (the palmline commands, `npm run eval`, the
// bench runner): each command declares its options in one table, and this file alone decides
// what --help prints and what a bad argument is. --help or -h prints the usage to stdout and exits
// 0; an unknown option, a missing value or a stray argument is a UsageError: one line on stderr
// naming the command and what to read, and exit 2. Nothing here prints a stack trace.
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import * as Data from "effect/Data";

/** A bad command line. `command` is filled in by the command that parsed it, for the hint. */
export class UsageError extends Data.TaggedError("UsageError")<{
  readonly reason: string;
  /** Who says it: "palmline cloud", "bench". */
  readonly command?: string;
  /** What to run --help on, when it is not `command` (e.g. "npm run bench --"). */
  readonly helpWith?: string;
}> {
  override get message() {
    return this.command === undefined ? this.reason : `${this.command}: ${this.reason} (see ${this.helpWith ?? this.command} --help)`;
  }
}

export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  readonly name: string;
  /** What precedes the name when a person types it (default "palmline"). */
  readonly program?: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: O;
  readonly optionHelp: Readonly<Record<keyof O & string, string>>;
}

const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

const parseLoosely = <O extends ParseArgsOptionsConfig>(options: O, argv: readonly string[]) =>
  parseArgs({ args: [...argv], options: { ...options, ...HELP_OPTION }, strict: false, allowPositionals: true, tokens: true });

const parseStrictly = <O extends ParseArgsOptionsConfig>(options: O, argv: readonly string[]) =>
  parseArgs({ args: [...argv], options: { ...options, ...HELP_OPTION }, strict: true, allowPositionals: false });

/** The values of a command's options after parsing, typed by its option table. */
export type CommandValues<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseStrictly<O>>["values"];

/** How a person types the command: "palmline cloud", "npm run bench -- checkout". */
export const invocationOf = (spec: CommandSpec<ParseArgsOptionsConfig>) => `${spec.program ?? "palmline"} ${spec.name}`;

export const helpText = <O extends ParseArgsOptionsConfig>(spec: CommandSpec<O>): string => {
  const rows = Object.entries(spec.optionHelp).map(([name, text]) => {
    const option = spec.options[name]!;
    const flag = `--${name}${option.type === "string" ? " VALUE" : ""}`;
    return `  ${flag.padEnd(22)} ${text}`;
  });
  return [`${invocationOf(spec)} — ${spec.summary}`, "", `usage: ${spec.usage}`, "", "options:", ...rows, `  ${"--help, -h".padEnd(22)} show this help`].join(
    "\n",
  );
};

/**
 * The first thing wrong with the command line, read from the parser's tokens (never from its
 * messages), or undefined when it is well formed.
 */
const firstProblem = (options: ParseArgsOptionsConfig, argv: readonly string[]): string | undefined => {
  for (const token of parseLoosely(options, argv).tokens) {
    if (token.kind === "positional") return `unexpected argument "${token.value}"`;
    if (token.kind !== "option") continue;
    const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (option === undefined || token.rawName !== `--${token.name}`) return `unknown option ${token.rawName}`;
    if (option.type === "boolean" && token.value !== undefined) return `${token.rawName} takes no value`;
    // A flag where the value should be is a forgotten value, not a value that starts with "--".
    if (option.type === "string" && (token.value === undefined || (!token.inlineValue && token.value.startsWith("-")))) return `${token.rawName} needs a value`;
  }
  return undefined;
};

/** Parses argv against the command's table; "help" when --help or -h was given anywhere. */
export const parseCommand = <O extends ParseArgsOptionsConfig>(spec: CommandSpec<O>, argv: readonly string[]): CommandValues<O> | "help" => {
  const loose = parseLoosely(spec.options, argv);
  if (loose.tokens.some((t) => t.kind === "option" && t.name === "help" && t.rawName !== undefined && (t.rawName === "--help" || t.rawName === "-h")))
    return "help";
  const problem = firstProblem(spec.options, argv);
  if (problem !== undefined) throw new UsageError({ command: invocationOf(spec), reason: problem });
  try {
    return parseStrictly(spec.options, argv).values;
  } catch (error) {
    // Only reached for a case firstProblem does not name; the parser's own first line says it.
    throw new UsageError({ command: invocationOf(spec), reason: error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error) });
  }
};

/** A command an entry point can list and run. */
export interface Command {
  readonly spec: CommandSpec<ParseArgsOptionsConfig>;
  /** The exit code; --help prints the usage and gives 0; a bad argument throws a UsageError naming the command. */
  run(argv: readonly string[]): Promise<number>;
}

export const defineCommand = <O extends ParseArgsOptionsConfig>(spec: CommandSpec<O>, run: (values: CommandValues<O>) => Promise<number>): Command => ({
  spec,
  async run(argv) {
    const values = parseCommand(spec, argv);
    if (values === "help") {
      console.log(helpText(spec));
      return 0;
    }
    try {
      return await run(values);
    } catch (error) {
      // A value the command itself rejects (a port out of range, ...) gets the same hint.
      if (error instanceof UsageError && error.command === undefined) throw new UsageError({ command: invocationOf(spec), reason: error.reason });
      throw error;
    }
  },
});

/** An entry point with subcommands: `palmline <command>`, `npm run bench -- <bench>`. */
export interface CommandGroup {
  /** Its name in error lines: "palmline", "bench". */
  readonly name: string;
  /** How a person types the group: "palmline", "npm run bench --". */
  readonly program: string;
  /** The first line of its help. */
  readonly title: string;
  /** Loaded on use, so one command's --help does not load every other command's dependencies. */
  readonly commands: Readonly<Record<string, () => Promise<Command>>>;
}

const groupHelp = async (group: CommandGroup): Promise<string> => {
  const rows = await Promise.all(Object.entries(group.commands).map(async ([name, load]) => `  ${name.padEnd(16)} ${(await load()).spec.summary}`));
  return [
    group.title,
    "",
    `usage: ${group.program} <command> [options]`,
    "",
    "commands:",
    ...rows,
    "",
    `\`${group.program} <command> --help\` describes a command's options.`,
  ].join("\n");
};

export const runCommandGroup = async (group: CommandGroup, argv: readonly string[]): Promise<number> => {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    console.log(await groupHelp(group));
    return 0;
  }
  if (name === undefined) throw new UsageError({ command: group.name, helpWith: group.program, reason: "no command given" });
  const load = Object.hasOwn(group.commands, name) ? group.commands[name] : undefined;
  if (load === undefined) throw new UsageError({ command: group.name, helpWith: group.program, reason: `unknown command "${name}"` });
  return (await load()).run(rest);
};

/**
 * Runs an entry point to its exit code. Any failure ends with one line on stderr: a UsageError
 * exits 2, anything else 1.
 */
export const runEntryPoint = (label: string, main: () => Promise<number>): void => {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const text = error instanceof Error ? error.message : String(error);
      // A UsageError from a command already names it.
      const line = error instanceof UsageError && error.command !== undefined ? text : `${label}: ${text}`;
      console.error(line.split("\n")[0]);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
};

export const parsePort = (text: string | undefined, fallback: number, name = "port"): number => {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (text.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError({ reason: `--${name} must be an integer from 0 to 65535, got "${text}"` });
  return port;
};

export const parsePositiveInt = (name: string, text: string | undefined, fallback: number, max = 1_000_000_000): number => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < 1 || value > max)
    throw new UsageError({ reason: `--${name} must be an integer from 1 to ${max}, got "${text}"` });
  return value;
};

/** A count that may be zero, e.g. how many background identities a bench starts with. */
export const parseWholeNumber = (name: string, text: string | undefined, fallback: number, max = 1_000_000_000): number => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < 0 || value > max)
    throw new UsageError({ reason: `--${name} must be an integer from 0 to ${max}, got "${text}"` });
  return value;
};

/** A number within [min, max] (not necessarily an integer), e.g. a share or a pace in ms. */
export const parseNumberInRange = (name: string, text: string | undefined, fallback: number, min: number, max: number): number => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < min || value > max)
    throw new UsageError({ reason: `--${name} must be a number from ${min} to ${max}, got "${text}"` });
  return value;
};

/** One of a fixed set of words, e.g. --kind roi|hand. */
export const parseChoice = <C extends string>(name: string, text: string | undefined, choices: readonly C[], fallback: C): C => {
  if (text === undefined) return fallback;
  if (!(choices as readonly string[]).includes(text))
    throw new UsageError({ reason: `--${name} must be ${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}, got "${text}"` });
  return text as C;
};
