/**
 * The top level of `lmm`: its help, its version, and which command to run.
 *
 * @module
 */

import { VERSION } from "../ffi/version.ts";
import { REPORT_VERSION } from "../ffi/report_types.ts";
import { UsageError } from "./args.ts";
import { EXIT_HELP } from "./exit_codes.ts";

/** The commands. */
export const COMMANDS = ["demo", "run", "report"] as const;
/** One of {@link COMMANDS}. */
export type CommandName = typeof COMMANDS[number];

/** The top-level help. */
export const mainHelp = `lmm — the LMM heap memory manager: demo, leak checks, heap reports.

Usage: lmm <command> [options]

Commands:
  demo     the classic walkthrough: register emp_t and student_t, allocate,
           free, print memory and block usage after each step
  run      run a program under LMM and report its heaps, leaks (with their
           allocation stacks) and fragmentation when it ends:
           lmm run -- deno run -A app.ts
  report   render a saved report as text, JSON or an HTML heap map

Options:
  -h, --help     show this help (lmm <command> --help for a command's)
  -V, --version  print the version

Environment:
  NO_COLOR       set and not empty: no colours (colours are only used on terminals)
  LMM_LIB        the liblmm.so to load and to hand to programs run by lmm run (default:
                 the one the package carries for this platform, copied into the cache)
  LMM_CACHE_DIR  that cache (default ~/.cache/lmm/lib)
  LMM_REPORT     set by lmm run for the program: where its report is written
  LMM_SITES      set by lmm run for the program: how allocation stacks are recorded

${EXIT_HELP}`;

/** What the command line asks for. */
export type Invocation =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "command"; command: CommandName; args: string[] };

/**
 * Reads the command line (pure).
 *
 * @param args `Deno.args`.
 * @returns What to do.
 * @throws {UsageError} On a missing or unknown command or option.
 */
export function parseCommandLine(args: string[]): Invocation {
  const [first, ...rest] = args;
  if (first === undefined) {
    throw new UsageError(`missing command: one of ${COMMANDS.join(", ")}`);
  }
  if (first === "-h" || first === "--help") return { kind: "help" };
  if (first === "-V" || first === "--version") return { kind: "version" };
  if (first === "help") {
    // `lmm help run` is `lmm run --help`.
    return rest.length === 0 ? { kind: "help" } : parseCommandLine([
      rest[0],
      "--help",
    ]);
  }
  if (first.startsWith("-")) throw new UsageError(`unknown option ${first}`);
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(
      `unknown command '${first}': one of ${COMMANDS.join(", ")}`,
    );
  }
  return { kind: "command", command: first as CommandName, args: rest };
}

/**
 * The version line.
 *
 * @returns For example "lmm 0.1.0 (report v1, deno 2.9.6)".
 */
export function versionLine(): string {
  return `lmm ${VERSION} (report v${REPORT_VERSION}, deno ${Deno.version.deno})`;
}
