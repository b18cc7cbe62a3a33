// Unit tests of the CLI's pure parts: argument parsing, exit statuses, colours, formats.
import assert from "node:assert/strict";
import { UsageError } from "../cli/args.ts";
import { wantsColor } from "../cli/color.ts";
import { parseDemoArgs } from "../cli/demo.ts";
import { EXIT_LEAKS, EXIT_NO_REPORT, EXIT_OK } from "../cli/exit_codes.ts";
import { commandLine, formatBytes, formatPercent } from "../cli/format.ts";
import { parseCommandLine } from "../cli/lmm.ts";
import { parseReportArgs } from "../cli/report.ts";
import { parseReport } from "../cli/report_file.ts";
import { parseRunArgs, runExitStatus, type RunResult } from "../cli/run.ts";
import type { Report } from "../ffi/report_types.ts";

function usage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UsageError, `not a UsageError: ${error}`);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.line(), /\n/);
    return true;
  });
}

Deno.test("parseCommandLine routes commands, help and version", () => {
  assert.deepEqual(parseCommandLine(["-h"]), { kind: "help" });
  assert.deepEqual(parseCommandLine(["--help"]), { kind: "help" });
  assert.deepEqual(parseCommandLine(["help"]), { kind: "help" });
  assert.deepEqual(parseCommandLine(["-V"]), { kind: "version" });
  assert.deepEqual(parseCommandLine(["--version"]), { kind: "version" });
  assert.deepEqual(parseCommandLine(["report", "a.json", "--json"]), {
    kind: "command",
    command: "report",
    args: ["a.json", "--json"],
  });
  assert.deepEqual(parseCommandLine(["help", "run"]), {
    kind: "command",
    command: "run",
    args: ["--help"],
  });
});

Deno.test("parseCommandLine rejects a missing or unknown command or option", () => {
  usage(() => parseCommandLine([]), /missing command/);
  usage(() => parseCommandLine(["frobnicate"]), /unknown command 'frobnicate'/);
  usage(() => parseCommandLine(["--frob"]), /unknown option --frob/);
});

Deno.test("parseRunArgs splits lmm's options from the command", () => {
  const run = parseRunArgs(["--json", "--", "deno", "run", "-A", "app.ts"]);
  assert.deepEqual(run.command, ["deno", "run", "-A", "app.ts"]);
  assert.deepEqual(run.output, { format: "json" });
  assert.equal(run.failOnLeak, false);

  const bare = parseRunArgs(["--fail-on-leak", "deno", "run", "--json", "x.ts"]);
  assert.deepEqual(bare.command, ["deno", "run", "--json", "x.ts"]);
  assert.deepEqual(bare.output, { format: "text" });
  assert.equal(bare.failOnLeak, true);

  const html = parseRunArgs(["--html", "out.html", "--", "prog", "--html"]);
  assert.deepEqual(html.output, { format: "html", path: "out.html" });
  assert.deepEqual(html.command, ["prog", "--html"]);
  assert.deepEqual(parseRunArgs(["--html=o.html", "prog"]).output, {
    format: "html",
    path: "o.html",
  });
  assert.equal(parseRunArgs(["-h"]).help, true);
  assert.equal(parseRunArgs(["--help", "--", "x"]).help, true);
});

Deno.test("parseRunArgs usage errors", () => {
  usage(() => parseRunArgs([]), /missing the command/);
  usage(() => parseRunArgs(["--json", "--"]), /missing the command/);
  usage(() => parseRunArgs(["--json", "--html", "o.html", "--", "x"]), /cannot be used together/);
  usage(() => parseRunArgs(["--html"]), /--html needs a value/);
  usage(() => parseRunArgs(["--html="]), /--html needs a file name/);
  usage(() => parseRunArgs(["--jsn", "--", "x"]), /unknown option --jsn/);
  usage(() => parseRunArgs(["--fail-on-leak=yes", "x"]), /--fail-on-leak takes no value/);
});

Deno.test("parseReportArgs", () => {
  assert.deepEqual(parseReportArgs(["r.json"]), {
    help: false,
    file: "r.json",
    output: { format: "text" },
  });
  assert.deepEqual(parseReportArgs(["--html", "o.html", "r.json"]).output, {
    format: "html",
    path: "o.html",
  });
  assert.equal(parseReportArgs(["-"]).file, "-");
  assert.equal(parseReportArgs(["--json", "-h"]).help, true);
  usage(() => parseReportArgs([]), /missing the report FILE/);
  usage(() => parseReportArgs(["a", "b"]), /one report FILE at a time/);
  usage(() => parseReportArgs(["--json", "--html", "o", "r"]), /cannot be used together/);
  usage(() => parseReportArgs(["r", "--html"]), /needs a value/);
  usage(() => parseReportArgs(["r", "-x"]), /unknown option -x/);
});

Deno.test("parseDemoArgs", () => {
  assert.deepEqual(parseDemoArgs([]), { help: false, units: 1, json: false });
  assert.deepEqual(parseDemoArgs(["--units", "500", "--json"]), {
    help: false,
    units: 500,
    json: true,
  });
  assert.equal(parseDemoArgs(["--units=7"]).units, 7);
  for (const bad of ["0", "-3", "1.5", "x", "1e3", "", "99999999"]) {
    usage(() => parseDemoArgs([`--units=${bad}`]), /--units must be a whole number/);
  }
  usage(() => parseDemoArgs(["--units"]), /needs a value/);
  usage(() => parseDemoArgs(["now"]), /unexpected argument 'now'/);
});

function result(code: number, leaks: number | null): RunResult {
  const report = leaks === null
    ? null
    : { heaps: [{ leaks: { blocks: leaks } }] } as unknown as Report;
  return {
    end: { kind: "exited", code },
    report,
    problem: report === null ? "no report" : null,
  };
}

Deno.test("runExitStatus: the program's status first, then no report, then leaks", () => {
  assert.equal(runExitStatus(result(0, 0), true), EXIT_OK);
  assert.equal(runExitStatus(result(0, 5), false), EXIT_OK);
  assert.equal(runExitStatus(result(0, 5), true), EXIT_LEAKS);
  assert.equal(runExitStatus(result(0, null), false), EXIT_NO_REPORT);
  assert.equal(runExitStatus(result(7, 5), true), 7);
  assert.equal(runExitStatus(result(1, null), true), 1);
  assert.equal(
    runExitStatus({
      end: { kind: "signaled", signal: "SIGSEGV", code: 139 },
      report: null,
      problem: "no report",
    }, true),
    139,
  );
});

Deno.test("colour only on a terminal and without NO_COLOR", () => {
  assert.equal(wantsColor(true, undefined), true);
  assert.equal(wantsColor(true, ""), true);
  assert.equal(wantsColor(true, "1"), false);
  assert.equal(wantsColor(false, undefined), false);
});

Deno.test("formats", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1 KiB");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(64 * 1024 * 1024), "64 MiB");
  assert.equal(formatPercent(0.728495), "72.8%");
  assert.equal(commandLine(["deno", "run", "a b.ts"]), 'deno run "a b.ts"');
});

Deno.test("parseReport names what is wrong", () => {
  const text = Deno.readTextFileSync(new URL("./fixtures/cli/leaky.report.json", import.meta.url));
  assert.equal(parseReport(text, "x").heaps.length, 2);
  const cases: [string, RegExp][] = [
    ["", /x is not an LMM report: it is empty/],
    [text.slice(0, 500), /x is not an LMM report: it is not valid JSON/],
    ["[1, 2]", /no "schema": "lmm-report"/],
    ['{"schema": "lmm-report", "version": 2}', /x is report version 2; this lmm reads version 1/],
    ['{"schema": "lmm-report", "version": 1}', /damaged LMM report: generatedAt is not a string/],
    [
      text.replace('"free": true', '"free": "yes"'),
      /damaged LMM report: heaps\[0\]\.pages\[0\]\.blocks\[1\]\.free is not true or false/,
    ],
  ];
  for (const [doc, pattern] of cases) {
    assert.throws(() => parseReport(doc, "x"), pattern);
  }
});
