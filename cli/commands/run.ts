/**
 * `lmm run [options] -- <command…>`: runs a program with `LMM_REPORT`
 * pointing at a fresh report file (and `LMM_LIB` at the library,
 * `LMM_SITES` at the stack recording asked for), waits for it, then renders
 * the report its isolates wrote — one merged report for a program with
 * Workers, for `deno test` over many files, for several processes.
 *
 * Today the program must use the Deno module (mod.ts), which writes the
 * report. Native programs will plug in through the environment built by
 * {@link childEnv}: an `LD_PRELOAD` build of the engine writes the same
 * report, and nothing else here changes.
 *
 * @module
 */

import { join } from "node:path";
import { dirname } from "node:path";
import type { SiteMode } from "../../ffi/report_types.ts";
import { DEFAULT_SAMPLE_INTERVAL, DEFAULT_STACK_DEPTH, MAX_STACK_DEPTH } from "../../ffi/sites.ts";
import { exclusive, parseFlags, parsePositiveInt, UsageError } from "../args.ts";
import {
  EXIT_FAILURE,
  EXIT_LEAKS,
  EXIT_NO_REPORT,
  EXIT_NOT_EXECUTABLE,
  EXIT_NOT_FOUND,
  EXIT_OK,
} from "../exit_codes.ts";
import { commandLine, formatBytes, plural } from "../format.ts";
import { resolveLibrary } from "../library.ts";
import type { ReportModel } from "../model.ts";
import { type Output, OutputError, outputFrom, renderReportFile, writeAll } from "../output.ts";
import { ENV_VARIABLES, flagsToAdd, missingPermissions } from "../permissions.ts";
import { DEFAULT_TOP } from "../render/text.ts";
import { ReportError } from "../report_file.ts";
import { MAX_TOP } from "./report.ts";

/** Largest `--leak-exit-code`: above it are the shell's 126, 127 and 128 + signal. */
export const MAX_LEAK_EXIT_CODE = 125;

/** Help of `lmm run`. */
export const runHelp = `Run a program under LMM and report its heaps when it ends.

Usage: lmm run [options] [--] <command> [args…]

lmm sets LMM_REPORT to a fresh report file, LMM_SITES to the stack recording
and LMM_LIB to its library, runs the command with stdin, stdout and stderr
passed through, and when it ends renders the report: per-family statistics,
fragmentation, and the blocks still live (leaks) — in heaps open at the end,
and in heaps closed or garbage-collected with live blocks — counted by family,
grouped by allocation stack, direct leaks first. Workers, every test file of
\`deno test\`, and every process that inherits LMM_REPORT add to one report.
The program must use the LMM Deno module: lmm run -- deno run -A app.ts

Options:
      --sites MODE         allocation stacks: sample (default; every leak is
                           still counted by family, stacks are kept for a
                           byte-weighted sample), all (every allocation), none
      --stack-depth N      frames per stack (default ${DEFAULT_STACK_DEPTH}, up to ${MAX_STACK_DEPTH})
      --sample-interval B  sample mode: mean bytes allocated between two recorded
                           stacks (default ${DEFAULT_SAMPLE_INTERVAL}); a site leaking L bytes is
                           missed with probability e^(-L/B)
      --json               print the report's records (JSON Lines, what lmm report
                           reads) on stdout; the program's stdout goes to stderr
      --html FILE          write the HTML report to FILE
      --top N              text: at most N heaps, families and stacks of each
                           kind (default ${DEFAULT_TOP})
      --fail-on-leak       exit with the leak exit code when the program exited 0
                           but left live blocks
      --leak-exit-code N   that code (default ${EXIT_LEAKS}, 1 to ${MAX_LEAK_EXIT_CODE}; needs --fail-on-leak)
  -h, --help               show this help

Permissions: a deno program needs --allow-env=${ENV_VARIABLES.join(",")} (to be
told where to write) and --allow-write for the report file (in the temporary
directory), besides --allow-ffi; -A has them all. lmm names the flag to add
when a report is missing for lack of one.

While the program runs, and only when stderr is a terminal, lmm writes a
progress line to stderr after 2 s and then every 10 s. Signals: Ctrl-C
reaches the program, which writes its report and ends as SIGINT would end
it; lmm waits and still reports. SIGTERM and SIGHUP are passed on to it.

Exit status: the program's own status (128+N when killed by signal N); when
it exited 0: the leak exit code with --fail-on-leak and live blocks, 4 when it
wrote no readable report; 126/127 when the command cannot be run or is not
found; 1 when the HTML file cannot be written; 2 on usage errors.`;

/** Parsed `lmm run` arguments. */
export interface RunArgs {
  help: boolean;
  output: Output;
  failOnLeak: boolean;
  leakExitCode: number;
  sites: SiteMode;
  stackDepth: number;
  sampleInterval: number;
  top: number;
  /** The program and its arguments. */
  command: string[];
}

/** The flags of `lmm run`; string flags take the next argument as value. */
const flags = {
  json: { type: "boolean" },
  html: { type: "string" },
  top: { type: "string" },
  sites: { type: "string" },
  "stack-depth": { type: "string" },
  "sample-interval": { type: "string" },
  "fail-on-leak": { type: "boolean" },
  "leak-exit-code": { type: "string" },
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
    const name = arg.slice(2);
    if (flags[name as keyof typeof flags]?.type === "string") i++; // its value
  }
  const { values, positionals } = parseFlags("run", args.slice(0, end), flags);
  const command = args.slice(commandStart);
  const number = (flag: string, fallback: number, max: number): number =>
    typeof values[flag] === "string"
      ? parsePositiveInt("run", flag, values[flag] as string, max)
      : fallback;
  const sites = values.sites ?? "sample";
  if (!["all", "sample", "none"].includes(sites as string)) {
    throw new UsageError(`--sites must be all, sample or none, not '${sites}'`, "run");
  }
  const parsed: RunArgs = {
    help: !!values.help,
    output: outputFrom(values),
    failOnLeak: !!values["fail-on-leak"],
    leakExitCode: number("leak-exit-code", EXIT_LEAKS, MAX_LEAK_EXIT_CODE),
    sites: sites as SiteMode,
    stackDepth: number("stack-depth", DEFAULT_STACK_DEPTH, MAX_STACK_DEPTH),
    sampleInterval: number("sample-interval", DEFAULT_SAMPLE_INTERVAL, 2 ** 40),
    top: number("top", DEFAULT_TOP, MAX_TOP),
    command,
  };
  if (parsed.help) return parsed;
  if (positionals.length > 0) {
    // A guard: the split above leaves no positional argument to parseFlags.
    throw new UsageError(`unexpected argument '${positionals[0]}'`, "run");
  }
  exclusive("run", values, ["json", "html"]);
  if (values["leak-exit-code"] !== undefined && !parsed.failOnLeak) {
    throw new UsageError("--leak-exit-code needs --fail-on-leak", "run");
  }
  if (values.html === "") {
    throw new UsageError("--html needs a file name", "run");
  }
  if (command.length === 0) {
    throw new UsageError(
      "missing the command to run: lmm run [options] -- <command…>",
      "run",
    );
  }
  return parsed;
}

/** How the program ended. */
export type ProgramEnd =
  | { kind: "exited"; code: number }
  | { kind: "signaled"; signal: string; code: number }
  | { kind: "not-started"; code: number; reason: string };

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
 * The environment added for the program: the report file, the stack
 * recording, the library. (The `LD_PRELOAD` build for native programs will
 * be added here.)
 *
 * @param reportPath Where the program's report goes.
 * @param library The library path, or null to leave `LMM_LIB` alone.
 * @param sites `LMM_SITES`, or null to leave it alone.
 * @returns Variables to add.
 */
export function childEnv(
  reportPath: string,
  library: string | null,
  sites: string | null = null,
): Record<string, string> {
  const env: Record<string, string> = { LMM_REPORT: reportPath };
  if (library !== null) env.LMM_LIB = library;
  if (sites !== null) env.LMM_SITES = sites;
  return env;
}

/**
 * `LMM_SITES` for the settings asked for.
 *
 * @param args Parsed arguments.
 * @returns For example `sample,depth=8,interval=65536`.
 */
export function sitesValue(args: Pick<RunArgs, "sites" | "stackDepth" | "sampleInterval">): string {
  return `${args.sites},depth=${args.stackDepth},interval=${args.sampleInterval}`;
}

/**
 * Runs `command` with the report environment set and returns how it ended.
 *
 * @param command The program and its arguments.
 * @param env Variables to add (see {@link childEnv}).
 * @param options Output routing and progress.
 * @returns How it ended; never throws for the program's failures.
 */
export async function runProgram(
  command: string[],
  env: Record<string, string>,
  options: RunOptions = {},
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

/** Why the exit status is what it is. */
export type RunVerdict =
  | { status: number; why: "program" | "no-report" | "ok" }
  | { status: number; why: "leaks"; blocks: number; bytes: number; heaps: number };

/**
 * The exit status of `lmm run` (pure): the program's own non-zero status
 * first, then a missing report, then leaks under `--fail-on-leak`.
 *
 * @param end How the program ended.
 * @param model Its report, or null when there is none.
 * @param args `failOnLeak` and `leakExitCode`.
 * @returns The status and why.
 */
export function runVerdict(
  end: ProgramEnd,
  model: ReportModel | null,
  args: Pick<RunArgs, "failOnLeak" | "leakExitCode">,
): RunVerdict {
  if (end.code !== 0) return { status: end.code, why: "program" };
  if (model === null) return { status: EXIT_NO_REPORT, why: "no-report" };
  const leaky = model.heaps.filter((h) => (h.leaks?.blocks ?? 0) > 0);
  if (args.failOnLeak && leaky.length > 0) {
    return {
      status: args.leakExitCode,
      why: "leaks",
      blocks: leaky.reduce((n, h) => n + h.leaks!.blocks, 0),
      bytes: leaky.reduce((n, h) => n + h.leaks!.bytes, 0),
      heaps: leaky.length,
    };
  }
  return { status: EXIT_OK, why: "ok" };
}

/**
 * Why a program that ran left no report (pure).
 *
 * @param end How it ended.
 * @param command Its command line (its permission flags are read).
 * @param reportPath The report file it was given.
 * @returns One sentence.
 */
export function noReportReason(end: ProgramEnd, command: string[], reportPath: string): string {
  const missing = missingPermissions(command, reportPath);
  if (missing !== null && (missing.env || missing.write)) {
    const lacks = [missing.env ? "env" : "", missing.write ? "write" : ""].filter((x) => x)
      .join(" and ");
    return `the program ran without ${lacks} permission, so the LMM module could not ${
      missing.env ? "read LMM_REPORT" : "write the report"
    }: add ${flagsToAdd(missing, reportPath)} (or -A) to the deno command`;
  }
  if (end.kind === "signaled" && end.signal === "SIGKILL") {
    return "the program wrote none (SIGKILL ends a program before anything can be written)";
  }
  return end.code === 0
    ? "the program wrote none (it opened no heap through the LMM module)"
    : "the program wrote none (it ended before the module could write it: it opened no heap, " +
      "or a crash or SIGKILL ended it)";
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
  const dir = await Deno.makeTempDir({ prefix: "lmm-run-" });
  const reportPath = join(dir, "report.jsonl");
  try {
    const end = await runProgram(
      args.command,
      childEnv(reportPath, library.path, sitesValue(args)),
      {
        stdoutToStderr: args.output.format === "json",
        progress: Deno.stderr.isTerminal() ? (line) => console.error(line) : null,
      },
    );
    if (end.kind === "not-started") {
      console.error(`lmm: ${end.reason}`);
      return end.code;
    }
    if (end.kind === "signaled") {
      console.error(`lmm: the program was killed by ${end.signal}`);
    } else if (end.code !== 0) {
      console.error(`lmm: the program exited with status ${end.code}`);
    }
    let model: ReportModel | null = null;
    const exists = await Deno.stat(reportPath).then(() => true, () => false);
    if (!exists) {
      console.error(`lmm: no report: ${noReportReason(end, args.command, reportPath)}`);
    } else {
      try {
        if (args.output.format === "text") await writeAll(Deno.stdout, "\n");
        model = await renderReportFile(reportPath, args.output, args.top);
      } catch (error) {
        if (error instanceof ReportError) {
          console.error(`lmm: no report: ${error.message}`);
        } else if (error instanceof OutputError) {
          console.error(`lmm: ${error.message}`);
          return end.code !== 0 ? end.code : EXIT_FAILURE;
        } else {
          throw error;
        }
      }
    }
    const verdict = runVerdict(end, model, args);
    if (verdict.why === "leaks") {
      console.error(
        `lmm: the program exited 0 but left ${plural(verdict.blocks, "live block")} (${
          formatBytes(verdict.bytes)
        }) in ${plural(verdict.heaps, "heap")}: exit ${verdict.status} (--fail-on-leak)`,
      );
    }
    return verdict.status;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Fails early, before the program runs, when the HTML file's directory is not there. */
async function assertDirectory(file: string): Promise<void> {
  const dir = dirname(file);
  const ok = await Deno.stat(dir).then((s) => s.isDirectory, () => false);
  if (!ok) throw new OutputError(`cannot write ${file}: no such directory`);
}
