/**
 * `lmm report FILE [--json | --html OUT]`: renders a saved report.
 *
 * @module
 */

import { exclusive, parseFlags, UsageError } from "./args.ts";
import { EXIT_OK } from "./exit_codes.ts";
import { type Output, outputFrom, writeReport } from "./output.ts";
import { readReport } from "./report_file.ts";

/** Help of `lmm report`. */
export const reportHelp = `Render a saved LMM report.

Usage: lmm report FILE [--json | --html OUT]

FILE is a report written by a program run with LMM_REPORT=FILE, by
\`lmm run --json\`, or by heap.report(); "-" reads standard input.

Options:
      --json      print the report as JSON (checked, re-indented)
      --html OUT  write the HTML report (heap map, families, fragmentation) to OUT
  -h, --help      show this help

Exit status: 0 rendered; 1 OUT could not be written; 2 usage error, or FILE is
missing, unreadable, not an LMM report or of another version (nothing is written).`;

/** Parsed `lmm report` arguments. */
export interface ReportArgs {
  help: boolean;
  file: string;
  output: Output;
}

/**
 * Parses the arguments after `lmm report` (pure).
 *
 * @param args The arguments.
 * @returns What to do.
 * @throws {UsageError} On bad usage.
 */
export function parseReportArgs(args: string[]): ReportArgs {
  const { values, positionals } = parseFlags("report", args, {
    json: { type: "boolean" },
    html: { type: "string" },
  });
  if (values.help) return { help: true, file: "", output: { format: "text" } };
  exclusive("report", values, ["json", "html"]);
  if (positionals.length === 0) {
    throw new UsageError("missing the report FILE to render", "report");
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `one report FILE at a time, got ${positionals.length}`,
      "report",
    );
  }
  if (values.html === "") {
    throw new UsageError("--html needs a file name", "report");
  }
  return { help: false, file: positionals[0], output: outputFrom(values) };
}

/**
 * Renders the report `args.file` to `args.output`.
 *
 * @param args Parsed arguments.
 * @returns The exit status.
 * @throws {ReportError} When the file is not a usable report.
 * @throws {OutputError} When the HTML file cannot be written.
 */
export async function reportCommand(args: ReportArgs): Promise<number> {
  if (args.help) {
    console.log(reportHelp);
    return EXIT_OK;
  }
  const report = await readReport(args.file);
  await writeReport(report, args.output);
  return EXIT_OK;
}
