/**
 * Argument parsing shared by every `lmm` command: a thin layer over
 * `node:util` `parseArgs` that turns its errors into one-line
 * {@link UsageError}s. Everything here is pure: it returns or throws, it never
 * prints and never exits (only `cli.ts` does).
 *
 * @module
 */

import { parseArgs } from "node:util";

/** Bad command-line usage: `cli.ts` prints `lmm: <message>` on stderr and exits 2. */
export class UsageError extends Error {
  /** The command whose usage was wrong ("" for the top level), for the hint. */
  readonly command: string;

  /**
   * @param message One line, lower case, no trailing period.
   * @param command The command whose `--help` the hint names.
   */
  constructor(message: string, command = "") {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }

  /** The line printed on stderr. */
  line(): string {
    const help = this.command ? `lmm ${this.command} --help` : "lmm --help";
    return `lmm: ${this.message} (see ${help})`;
  }
}

/** A flag: boolean, or a string with a value (`--html FILE` or `--html=FILE`). */
export interface FlagSpec {
  type: "boolean" | "string";
  short?: string;
}

/** The parsed flags and positional arguments. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `args` against `flags` strictly (unknown flags and missing values
 * are usage errors). `--help`/`-h` is always accepted.
 *
 * @param command The command name, for error hints.
 * @param args The arguments after the command name.
 * @param flags The flags this command accepts.
 * @returns The flags' values and the positional arguments.
 * @throws {UsageError} On any malformed argument.
 */
export function parseFlags(
  command: string,
  args: string[],
  flags: Record<string, FlagSpec>,
): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { help: { type: "boolean", short: "h" }, ...flags },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed["values"], positionals };
  } catch (error) {
    throw new UsageError(describeParseError(error), command);
  }
}

/** Turns a `parseArgs` error into a short message. */
function describeParseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${quoted}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const flag = quoted.split(" ")[0];
      return message.includes("argument missing")
        ? `option ${flag} needs a value`
        : `option ${flag} takes no value`;
    }
    default:
      return message.split("\n")[0].replace(/\.$/, "");
  }
}

/**
 * Reads a whole positive integer (as `--units` wants it).
 *
 * @param command The command name, for error hints.
 * @param flag The flag's name, for the message.
 * @param text The value given.
 * @param max The largest accepted value.
 * @returns The number.
 * @throws {UsageError} When `text` is not an integer in [1, max].
 */
export function parsePositiveInt(
  command: string,
  flag: string,
  text: string,
  max: number,
): number {
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new UsageError(
      `--${flag} must be a whole number from 1 to ${max}, not '${text}'`,
      command,
    );
  }
  return value;
}

/**
 * Throws when more than one of the given flags is set.
 *
 * @param command The command name, for error hints.
 * @param values Parsed flag values.
 * @param names Flags of which at most one may be given.
 * @throws {UsageError} When two or more are set.
 */
export function exclusive(
  command: string,
  values: Parsed["values"],
  names: string[],
): void {
  const given = names.filter((name) => values[name] !== undefined);
  if (given.length > 1) {
    throw new UsageError(
      `${given.map((n) => `--${n}`).join(" and ")} cannot be used together`,
      command,
    );
  }
}
