/**
 * `lmm run [--json | --html FILE] [--fail-on-leak] -- <command…>`: runs a
 * program with `LMM_REPORT` pointing at a fresh temporary file (and `LMM_LIB`
 * at the library), waits for it, then renders the report it wrote.
 *
 * Today the program must use the Deno module (mod.ts), which writes the
 * report at exit. Native programs will plug in through the environment built
 * by {@link childEnv}: an `LD_PRELOAD` build of the engine writes the same
 * report, and nothing else here changes.
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { Report } from "../ffi/report_types.ts";
import { exclusive, parseFlags, UsageError } from "./args.ts";
import {
  EXIT_FAILURE,
  EXIT_LEAKS,
  EXIT_NO_REPORT,
  EXIT_NOT_EXECUTABLE,
  EXIT_NOT_FOUND,
  EXIT_OK,
} from "./exit_codes.ts";
import { commandLine, formatBytes, plural } from "./format.ts";
import { resolveLibrary } from "./library.ts";
import { type Output, OutputError, outputFrom, writeAll, writeReport } from "./output.ts";
import { parseReport, ReportError } from "./report_file.ts";

/** Help of `lmm run`. */
export const runHelp = `Run a program under LMM and report its heaps when it exits.

Usage: lmm run [--json | --html FILE] [--fail-on-leak] [--] <command> [args…]

lmm sets LMM_REPORT to a fresh temporary file and LMM_LIB to its library, runs
the command with stdin, stdout and stderr passed through, and when it exits
renders the report the program wrote: per-family statistics, fragmentation,
and the blocks still live at exit (leaks) by family and allocation site.
The program must use the LMM Deno module: lmm run -- deno run -A app.ts

Options:
      --json          print the report as JSON on stdout (a report file that
                      \`lmm report\` reads); the program's stdout goes to stderr
      --html FILE     write the HTML report to FILE
      --fail-on-leak  exit 3 when the program exited 0 but left live blocks
  -h, --help          show this help

While the program runs, and only when stderr is a terminal, lmm writes a
progress line to stderr after 2 s and then every 10 s (whole lines, so they
never overwrite the program's output). Signals: Ctrl-C reaches the program;
lmm waits for it and still reports. SIGTERM and SIGHUP are passed on to it.

Exit status: the program's own status (128+N when killed by signal N); when
it exited 0: 3 with --fail-on-leak and live blocks, 4 when it wrote no
readable report; 126/127 when the command cannot be run or is not found;
2 on usage errors.`;

/** Parsed `lmm run` arguments. */
export interface RunArgs {
  help: boolean;
  output: Output;
  failOnLeak: boolean;
  /** The program and its arguments. */
  command: string[];
}

/** The flags of `lmm run`; string flags take the next argument as value. */
const flags = {
  json: { type: "boolean" },
  html: { type: "string" },
  "fail-on-leak": { type: "boolean" },
} as const;

/**
 * Parses the arguments after `lmm run` (pure). lmm's options end at `--` or
 * at the first argument that is not an option: `lmm run deno run -A app.ts`
 * works too.
 *
 * @param args The arguments.
 * @returns What to run and how to report.
 * @throws {UsageError} On bad usage.
 */
export function parseRunArgs(args: string[]): RunArgs {
  let end = args.length;
  let commandStart = args.length;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      end = i;
      commandStart = i + 1;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      end = commandStart = i;
      break;
    }
    if (arg === "--html") i++; // its value
  }
  const { values, positionals } = parseFlags(
    "run",
    args.slice(0, end),
    flags,
  );
  const command = args.slice(commandStart);
  const base = { output: outputFrom(values), failOnLeak: !!values["fail-on-leak"] };
  if (values.help) return { help: true, command, ...base };
  if (positionals.length > 0) {
    // A guard: the split above leaves no positional argument to parseFlags.
    throw new UsageError(`unexpected argument '${positionals[0]}'`, "run");
  }
  exclusive("run", values, ["json", "html"]);
  if (values.html === "") {
    throw new UsageError("--html needs a file name", "run");
  }
  if (command.length === 0) {
    throw new UsageError(
      "missing the command to run: lmm run [options] -- <command…>",
      "run",
    );
  }
  return { help: false, command, ...base };
}

/** How the program ended. */
export type ProgramEnd =
  | { kind: "exited"; code: number }
  | { kind: "signaled"; signal: string; code: number }
  | { kind: "not-started"; code: number; reason: string };

/** What a run produced: how it ended and its report, or why there is none. */
export interface RunResult {
  end: ProgramEnd;
  report: Report | null;
  /** Why there is no report (null when there is one). */
  problem: string | null;
}

/** Options of {@link runProgram}. */
export interface RunOptions {
  /** Send the program's stdout to our stderr (keeps stdout for JSON). */
  stdoutToStderr?: boolean;
  /** Receives progress lines; none when null. */
  progress?: ((line: string) => void) | null;
  /** First progress line after this many ms (default 2000). */
  progressAfter?: number;
  /** Then one every this many ms (default 10000). */
  progressEvery?: number;
}

/**
 * The environment added for the program: the report file and the library.
 * (The `LD_PRELOAD` build for native programs will be added here.)
 *
 * @param reportPath Where the program's report goes.
 * @param library The library path, or null to leave `LMM_LIB` alone.
 * @returns Variables to add.
 */
export function childEnv(
  reportPath: string,
  library: string | null,
): Record<string, string> {
  const env: Record<string, string> = { LMM_REPORT: reportPath };
  if (library !== null) env.LMM_LIB = library;
  return env;
}

/**
 * Runs `command` with `LMM_REPORT` set and returns how it ended and its report.
 *
 * @param command The program and its arguments.
 * @param library The library for `LMM_LIB` (null: leave it to the program).
 * @param options Output routing and progress.
 * @returns The outcome; never throws for the program's failures.
 */
export async function runProgram(
  command: string[],
  library: string | null,
  options: RunOptions = {},
): Promise<RunResult> {
  const dir = await Deno.makeTempDir({ prefix: "lmm-run-" });
  const reportPath = join(dir, "report.json");
  try {
    const end = await spawnAndWait(
      command,
      childEnv(reportPath, library),
      options,
    );
    if (end.kind === "not-started") {
      return { end, report: null, problem: end.reason };
    }
    let text: string;
    try {
      text = await Deno.readTextFile(reportPath);
    } catch {
      return { end, report: null, problem: noReportReason(end) };
    }
    try {
      return { end, report: parseReport(text, "the program's report"), problem: null };
    } catch (error) {
      if (!(error instanceof ReportError)) throw error;
      return { end, report: null, problem: error.message };
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Why a program that ran left no report (pure).
 *
 * @param end How it ended.
 * @returns One sentence.
 */
export function noReportReason(end: ProgramEnd): string {
  return end.code === 0
    ? "the program wrote none (it opened no heap through the LMM module)"
    : "the program wrote none (it ended before the module's exit hook could write it: " +
      "uncaught errors and signals skip that hook)";
}

async function spawnAndWait(
  command: string[],
  env: Record<string, string>,
  options: RunOptions,
): Promise<ProgramEnd> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command[0], {
      args: command.slice(1),
      env,
      stdin: "inherit",
      stdout: options.stdoutToStderr ? "piped" : "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return {
        kind: "not-started",
        code: EXIT_NOT_FOUND,
        reason: `command not found: ${command[0]}`,
      };
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      return {
        kind: "not-started",
        code: EXIT_NOT_EXECUTABLE,
        reason: `cannot execute ${command[0]}: permission denied`,
      };
    }
    throw error;
  }

  const pumped = options.stdoutToStderr
    ? child.stdout.pipeTo(Deno.stderr.writable, { preventClose: true })
      .catch(() => {})
    : Promise.resolve();
  const stopProgress = startProgress(command, child.pid, options);
  const forward = (signal: Deno.Signal) => () => {
    try {
      child.kill(signal);
    } catch { /* it has exited */ }
  };
  const listeners: [Deno.Signal, () => void][] = [
    ["SIGINT", () => {}], // the terminal sent it to the program too: wait for it
    ["SIGTERM", forward("SIGTERM")],
    ["SIGHUP", forward("SIGHUP")],
  ];
  for (const [signal, listener] of listeners) {
    Deno.addSignalListener(signal, listener);
  }
  try {
    const status = await child.status;
    await pumped;
    if (status.signal !== null) {
      // Deno reports 128 + the signal's number as the code, as shells do.
      return { kind: "signaled", signal: status.signal, code: status.code };
    }
    return { kind: "exited", code: status.code };
  } finally {
    stopProgress();
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  }
}

function startProgress(
  command: string[],
  pid: number,
  options: RunOptions,
): () => void {
  const write = options.progress;
  if (!write) return () => {};
  const started = Date.now();
  const line = (): void =>
    write(
      `lmm: still running ${commandLine(command)} · ${
        Math.round((Date.now() - started) / 1000)
      }s · pid ${pid}`,
    );
  let interval: ReturnType<typeof setInterval> | undefined;
  const first = setTimeout(() => {
    line();
    interval = setInterval(line, options.progressEvery ?? 10_000);
  }, options.progressAfter ?? 2_000);
  return () => {
    clearTimeout(first);
    clearInterval(interval);
  };
}

/**
 * The exit status of `lmm run` (pure): the program's own non-zero status
 * first, then the missing report, then leaks under `--fail-on-leak`.
 *
 * @param result The run's outcome.
 * @param failOnLeak Whether `--fail-on-leak` was given.
 * @returns The status.
 */
export function runExitStatus(result: RunResult, failOnLeak: boolean): number {
  if (result.end.code !== 0) return result.end.code;
  if (result.report === null) return EXIT_NO_REPORT;
  if (failOnLeak && liveBlocks(result.report) > 0) return EXIT_LEAKS;
  return EXIT_OK;
}

/** Fails early, before the program runs, when the HTML file's directory is not there. */
async function assertDirectory(file: string): Promise<void> {
  const dir = dirname(file);
  const ok = await Deno.stat(dir).then((s) => s.isDirectory, () => false);
  if (!ok) throw new OutputError(`cannot write ${file}: no such directory`);
}

function liveBlocks(report: Report): number {
  return report.heaps.reduce((n, h) => n + h.leaks.blocks, 0);
}

/**
 * `lmm run`: runs the program, renders its report, returns the exit status.
 *
 * @param args Parsed arguments.
 * @returns The exit status.
 * @throws {OutputError} When the HTML file's directory does not exist (before
 * the program runs).
 */
export async function runCommand(args: RunArgs): Promise<number> {
  if (args.help) {
    console.log(runHelp);
    return EXIT_OK;
  }
  if (args.output.format === "html") await assertDirectory(args.output.path);
  const library = await resolveLibrary();
  const result = await runProgram(args.command, library.path, {
    stdoutToStderr: args.output.format === "json",
    progress: Deno.stderr.isTerminal() ? (line) => console.error(line) : null,
  });

  const { end, report } = result;
  if (end.kind === "not-started") {
    console.error(`lmm: ${end.reason}`);
    return end.code;
  }
  if (end.kind === "signaled") {
    console.error(`lmm: the program was killed by ${end.signal}`);
  } else if (end.kind === "exited" && end.code !== 0) {
    console.error(`lmm: the program exited with status ${end.code}`);
  }
  if (report === null) {
    console.error(`lmm: no report: ${result.problem}`);
  } else {
    if (args.output.format === "text") await writeAll(Deno.stdout, "\n");
    try {
      await writeReport(report, args.output);
    } catch (error) {
      if (!(error instanceof OutputError)) throw error;
      console.error(`lmm: ${error.message}`);
      return end.code !== 0 ? end.code : EXIT_FAILURE;
    }
  }

  const status = runExitStatus(result, args.failOnLeak);
  if (status === EXIT_LEAKS && report !== null) {
    const bytes = report.heaps.reduce((n, h) => n + h.leaks.bytes, 0);
    console.error(
      `lmm: leaks: ${plural(liveBlocks(report), "live block")}, ${
        formatBytes(bytes)
      } (--fail-on-leak: exit ${EXIT_LEAKS})`,
    );
  }
  return status;
}
