// Unit tests of the CLI's pure parts: argument parsing, exit statuses, colours, formats.
import assert from "node:assert/strict";
import { UsageError } from "../cli/args.ts";
import { wantsColor } from "../cli/color.ts";
import { parseDemoArgs } from "../cli/demo.ts";
import { EXIT_LEAKS, EXIT_NO_REPORT, EXIT_OK } from "../cli/exit_codes.ts";
import { commandLine, formatBytes, formatPercent } from "../cli/format.ts";
import { parseCommandLine } from "../cli/lmm.ts";
import { parseReportArgs } from "../cli/commands/report.ts";
import { parseReportText, ReportError } from "../cli/report_file.ts";
import type { ReportModel } from "../cli/model.ts";
import { noReportReason, parseRunArgs, runVerdict, sitesValue } from "../cli/commands/run.ts";
import { flagsToAdd, missingPermissions } from "../cli/permissions.ts";
import { modelOf } from "./fixtures/cli/helpers.ts";

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

  const defaults = parseRunArgs(["x"]);
  assert.deepEqual(
    [
      defaults.sites,
      defaults.stackDepth,
      defaults.sampleInterval,
      defaults.leakExitCode,
      defaults.top,
    ],
    ["sample", 8, 65536, 3, 10],
  );
  const tuned = parseRunArgs([
    "--sites",
    "all",
    "--stack-depth=16",
    "--sample-interval",
    "4096",
    "--fail-on-leak",
    "--leak-exit-code",
    "42",
    "--top",
    "3",
    "prog",
    "--sites",
  ]);
  assert.deepEqual(tuned.command, ["prog", "--sites"]);
  assert.deepEqual(
    [tuned.sites, tuned.stackDepth, tuned.sampleInterval, tuned.leakExitCode, tuned.top],
    ["all", 16, 4096, 42, 3],
  );
  assert.equal(sitesValue(tuned), "all,depth=16,interval=4096");
});

Deno.test("parseRunArgs usage errors", () => {
  usage(() => parseRunArgs([]), /missing the command/);
  usage(() => parseRunArgs(["--json", "--"]), /missing the command/);
  usage(() => parseRunArgs(["--json", "--html", "o.html", "--", "x"]), /cannot be used together/);
  usage(() => parseRunArgs(["--html"]), /--html needs a value/);
  usage(() => parseRunArgs(["--html="]), /--html needs a file name/);
  usage(() => parseRunArgs(["--jsn", "--", "x"]), /unknown option --jsn/);
  usage(() => parseRunArgs(["--fail-on-leak=yes", "x"]), /--fail-on-leak takes no value/);
  usage(
    () => parseRunArgs(["--sites", "most", "x"]),
    /--sites must be all, sample or none, not 'most'/,
  );
  usage(
    () => parseRunArgs(["--stack-depth", "0", "x"]),
    /--stack-depth must be a whole number from 1 to 64/,
  );
  usage(() => parseRunArgs(["--stack-depth", "65", "x"]), /--stack-depth must be/);
  usage(() => parseRunArgs(["--sample-interval=-1", "x"]), /--sample-interval must be/);
  usage(
    () => parseRunArgs(["--leak-exit-code", "4", "x"]),
    /--leak-exit-code needs --fail-on-leak/,
  );
  for (const bad of ["0", "126", "255", "x"]) {
    usage(
      () => parseRunArgs(["--fail-on-leak", "--leak-exit-code", bad, "x"]),
      /--leak-exit-code must be a whole number from 1 to 125/,
    );
  }
  usage(() => parseRunArgs(["--top", "0", "x"]), /--top must be a whole number/);
});

Deno.test("parseReportArgs", () => {
  assert.deepEqual(parseReportArgs(["r.json"]), {
    help: false,
    file: "r.json",
    output: { format: "text" },
    top: 10,
  });
  assert.equal(parseReportArgs(["--top", "5", "r.json"]).top, 5);
  usage(() => parseReportArgs(["--top", "none", "r"]), /--top must be a whole number/);
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

function model(leaks: number[]): ReportModel {
  return {
    programs: [],
    heaps: leaks.map((blocks) => ({ leaks: { blocks, bytes: 8 * blocks } })),
    timelines: [],
    warnings: [],
    parts: 1,
  } as unknown as ReportModel;
}

Deno.test("runVerdict: the program's status first, then no report, then leaks", () => {
  const exited = (code: number) => ({ kind: "exited", code }) as const;
  const strict = { failOnLeak: true, leakExitCode: EXIT_LEAKS };
  const lax = { failOnLeak: false, leakExitCode: EXIT_LEAKS };
  assert.deepEqual(runVerdict(exited(0), model([0, 0]), strict), { status: EXIT_OK, why: "ok" });
  assert.deepEqual(runVerdict(exited(0), model([5]), lax), { status: EXIT_OK, why: "ok" });
  assert.deepEqual(runVerdict(exited(0), model([5, 0, 2]), strict), {
    status: EXIT_LEAKS,
    why: "leaks",
    blocks: 7,
    bytes: 56,
    heaps: 2,
  });
  assert.equal(runVerdict(exited(0), model([5]), { ...strict, leakExitCode: 42 }).status, 42);
  assert.deepEqual(runVerdict(exited(0), null, lax), { status: EXIT_NO_REPORT, why: "no-report" });
  // The program's own status wins, whatever it is: 3 from the program is not a leak verdict.
  assert.deepEqual(runVerdict(exited(3), model([5]), lax), { status: 3, why: "program" });
  assert.deepEqual(runVerdict(exited(7), model([5]), strict), { status: 7, why: "program" });
  assert.deepEqual(
    runVerdict({ kind: "signaled", signal: "SIGSEGV", code: 139 }, null, strict),
    { status: 139, why: "program" },
  );
});

Deno.test("missingPermissions reads deno's permission flags", () => {
  const report = "/tmp/lmm-run-abc/report.jsonl";
  const missing = (...args: string[]) => missingPermissions(["deno", ...args, "app.ts"], report);
  assert.deepEqual(missing("run", "--allow-ffi"), { env: true, write: true });
  assert.deepEqual(missing("run", "--allow-ffi", "--allow-env"), { env: false, write: true });
  assert.deepEqual(missing("run", "-E", "-W"), { env: false, write: false });
  assert.deepEqual(missing("run", "-EW"), { env: false, write: false });
  assert.deepEqual(missing("run", "--allow-env=HOME,LMM_REPORT", "--allow-write=/tmp"), {
    env: false,
    write: false,
  });
  assert.deepEqual(missing("run", "--allow-env=LMM_*", "--allow-write=/var"), {
    env: false,
    write: true,
  });
  assert.deepEqual(missing("test", "-A"), { env: false, write: false });
  assert.deepEqual(missing("run", "-A", "--deny-env=LMM_REPORT"), { env: true, write: false });
  assert.deepEqual(missing("run", "-A", "--deny-write"), { env: false, write: true });
  // Flags after the script are the script's own.
  assert.deepEqual(
    missingPermissions(["/usr/bin/deno", "run", "--allow-ffi", "app.ts", "-A"], report),
    { env: true, write: true },
  );
  assert.deepEqual(
    missingPermissions(["deno", "run", "--config", "-A", "app.ts"], report),
    { env: true, write: true },
    "the value of --config is not a flag",
  );
  assert.equal(missingPermissions(["deno", "run", "-P", "app.ts"], report), null);
  assert.equal(missingPermissions(["deno", "task", "start"], report), null);
  assert.equal(missingPermissions(["python3", "app.py"], report), null);
  assert.equal(
    flagsToAdd({ env: true, write: true }, report),
    "--allow-env=LMM_REPORT,LMM_SITES,LMM_LIB --allow-write=/tmp",
  );
});

Deno.test("noReportReason names the flag to add, else what happened", () => {
  const report = "/tmp/lmm-run-abc/report.jsonl";
  const ok = { kind: "exited", code: 0 } as const;
  assert.equal(
    noReportReason(ok, ["deno", "run", "--allow-ffi", "app.ts"], report),
    "the program ran without env and write permission, so the LMM module could not read " +
      "LMM_REPORT: add --allow-env=LMM_REPORT,LMM_SITES,LMM_LIB --allow-write=/tmp (or -A) to the " +
      "deno command",
  );
  assert.match(
    noReportReason(ok, ["deno", "run", "--allow-ffi", "--allow-env", "app.ts"], report),
    /without write permission, so the LMM module could not write the report: add --allow-write=\/tmp /,
  );
  assert.match(noReportReason(ok, ["deno", "run", "-A", "app.ts"], report), /it opened no heap/);
  assert.match(
    noReportReason({ kind: "signaled", signal: "SIGKILL", code: 137 }, ["x"], report),
    /SIGKILL ends a program before anything can be written/,
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

Deno.test("the report reader names what is wrong", () => {
  const text = Deno.readTextFileSync(new URL("./fixtures/cli/leaky.report.jsonl", import.meta.url));
  assert.equal(modelOf(text).heaps.length, 3);
  const sink = { record: () => {}, truncated: () => {} };
  const cases: [string, RegExp][] = [
    ["", /x is not an LMM report: it is empty/],
    ["\n\n", /x is not an LMM report: it is empty/],
    [text.slice(0, 30), /x is not an LMM report: it is not valid JSON/],
    ["[1, 2]", /no "schema": "lmm-report"/],
    [
      '{\n  "schema": "lmm-report",\n  "version": 1,\n',
      /x is report version 1; this lmm reads version 2/,
    ],
    [
      '{"schema": "lmm-report", "version": 2, "type": "heap"}',
      /damaged LMM report: it does not start with a part/,
    ],
    [
      '{"schema": "lmm-report", "version": 2, "type": "part"}',
      /damaged LMM report: line 1: part\.isolate is not a string/,
    ],
    [
      text.replace('"size":4096,"family":1', '"size":"4096","family":1'),
      /line \d+: pages\.pages\[\d+\]\.size is not a number/,
    ],
    [
      text.replace('"type":"timeline"', '"type":"diary"').replace(
        /\n(?=[^\n]*$)/,
        '\n{"type":"diary"}\n',
      ),
      /unknown record type "diary"/,
    ],
    [text.replace(/\],\[/, "],[1,2],["), /is not 5 numbers/],
  ];
  for (const [doc, pattern] of cases) {
    assert.throws(
      () => parseReportText(doc, "x", sink),
      (e) => e instanceof ReportError && pattern.test(e.message),
    );
  }
  // A line cut short in the middle must be followed by a part: else the file is damaged.
  const lines = text.split("\n");
  const cut = [...lines.slice(0, 4), lines[4].slice(0, 20), ...lines.slice(5)].join("\n");
  assert.throws(
    () => parseReportText(cut, "x", sink),
    /damaged LMM report: line 5 is not valid JSON/,
  );
});
