/**
 * `lmm report FILE [--json | --html OUT] [--top N]`: renders a saved report.
 *
 * @module
 */

import { exclusive, parseFlags, parsePositiveInt, UsageError } from "../args.ts";
import { EXIT_OK } from "../exit_codes.ts";
import { type Output, outputFrom, renderReportFile } from "../output.ts";
import { DEFAULT_TOP } from "../render/text.ts";

/** Largest `--top`. */
export const MAX_TOP = 100_000;

/** Help of `lmm report`. */
export const reportHelp = `Render a saved LMM report.

Usage: lmm report FILE [--json | --html OUT] [--top N]

FILE is a report (JSON Lines) written by a program run with LMM_REPORT=FILE,
by \`lmm run --json\`, or by writeReport(); "-" reads standard input. A file
holding several parts (isolates, test files, processes) is shown as one report.

Options:
      --json      print the report's records (JSON Lines), checked
      --html OUT  write the HTML report (page occupancy, similar pages, leak
                  sites with their stacks, families, fragmentation) to OUT
      --top N     text: show at most N heaps, families and stacks of each kind
                  (default ${DEFAULT_TOP}); the rest is summed up
  -h, --help      show this help

Exit status: 0 rendered; 1 OUT could not be written; 2 usage error, or FILE is
missing, unreadable, not an LMM report, of another version or damaged (with
--html nothing is written; with --json the records before the damage are).`;

/** Parsed `lmm report` arguments. */
export interface ReportArgs {
  help: boolean;
  file: string;
  output: Output;
  top: number;
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
    top: { type: "string" },
  });
  const top = typeof values.top === "string"
    ? parsePositiveInt("report", "top", values.top, MAX_TOP)
    : DEFAULT_TOP;
  if (values.help) return { help: true, file: "", output: { format: "text" }, top };
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
  return { help: false, file: positionals[0], output: outputFrom(values), top };
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
  await renderReportFile(args.file, args.output, args.top);
  return EXIT_OK;
}
