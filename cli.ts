/**
 * `lmm`, the LMM command line: `lmm demo` (the classic walkthrough),
 * `lmm run -- <command…>` (run a program under LMM and report its heaps,
 * leaks and fragmentation when it exits), `lmm report FILE` (render a saved
 * report as text, JSON or an HTML heap map). Install it from JSR with
 * `deno install -g -A -n lmm jsr:@lmm/lmm/cli`, run it from a clone with
 * `deno run -A cli.ts`, or compile it into one executable per platform with
 * the library embedded (`deno task compile`).
 *
 * This entry only routes: it parses the command line, calls the command
 * (one file per command in `cli/commands/`), turns errors into one line on stderr and
 * is the only place that calls `Deno.exit`. `lmm --help` lists the exit
 * statuses.
 *
 * @module
 */

import { UsageError } from "./cli/args.ts";
import { demoCommand, parseDemoArgs } from "./cli/demo.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_SIGNAL_BASE, EXIT_USAGE } from "./cli/exit_codes.ts";
import { mainHelp, parseCommandLine, versionLine } from "./cli/lmm.ts";
import { OutputError } from "./cli/output.ts";
import { parseReportArgs, reportCommand } from "./cli/commands/report.ts";
import { parseRunArgs, runCommand } from "./cli/commands/run.ts";
import { ReportError } from "./cli/report_file.ts";
import { LmmError } from "./ffi/errors.ts";

/**
 * Runs `lmm` with `args` and returns its exit status (prints, never exits).
 *
 * @param args The command-line arguments.
 * @returns The exit status.
 */
export async function main(args: string[]): Promise<number> {
  try {
    const invocation = parseCommandLine(args);
    switch (invocation.kind) {
      case "help":
        console.log(mainHelp);
        return EXIT_OK;
      case "version":
        console.log(versionLine());
        return EXIT_OK;
      case "command":
        switch (invocation.command) {
          case "demo":
            return await demoCommand(parseDemoArgs(invocation.args));
          case "run":
            return await runCommand(parseRunArgs(invocation.args));
          case "report":
            return await reportCommand(parseReportArgs(invocation.args));
        }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.line());
      return EXIT_USAGE;
    }
    if (error instanceof ReportError) {
      console.error(`lmm: ${error.message}`);
      return EXIT_USAGE;
    }
    if (error instanceof OutputError || error instanceof LmmError) {
      console.error(`lmm: ${error.message}`);
      return EXIT_FAILURE;
    }
    if (error instanceof Deno.errors.BrokenPipe) {
      return EXIT_SIGNAL_BASE + 13; // the reader went away: as if killed by SIGPIPE
    }
    throw error;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
