// Black-box tests of `lmm report`, the top-level flags and every usage error: spawn
// `deno run -A cli.ts …` and check stdout, stderr and the exit status.
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, FIXTURES, lmm, ROOT } from "./fixtures/cli/helpers.ts";

const LEAKY = join(FIXTURES, "leaky.report.json");
const CLEAN = join(FIXTURES, "clean.report.json");

Deno.test("lmm -h, --help, help: the help on stdout with the exit statuses, exit 0", async () => {
  for (const args of [["-h"], ["--help"], ["help"]]) {
    const r = await lmm(args);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^lmm — /);
    assert.match(r.stdout, /Commands:\n {2}demo .*\n(.*\n)* {2}run .*\n(.*\n)* {2}report /);
    assert.match(
      r.stdout,
      /Exit status:\n {2}0 +success\n {2}1 .*\n {2}2 .*\n {2}3 .*--fail-on-leak/,
    );
  }
});

Deno.test("lmm <command> --help: the command's help on stdout, exit 0", async () => {
  for (const command of ["demo", "run", "report"]) {
    const r = await lmm([command, "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, new RegExp(`Usage: lmm ${command} `));
    assert.match(r.stdout, /Exit status/);
  }
  assert.match((await lmm(["help", "report"])).stdout, /Usage: lmm report FILE/);
});

Deno.test("lmm --version, -V", async () => {
  for (const flag of ["--version", "-V"]) {
    const r = await lmm([flag]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^lmm \d+\.\d+\.\d+ \(report v1, deno \d+\.\d+\.\d+\)\n$/);
  }
});

Deno.test("every usage error: one line on stderr, nothing on stdout, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [[], /missing command/],
    [["frob"], /unknown command 'frob'/],
    [["--frob"], /unknown option --frob/],
    [["demo", "--units", "0"], /--units must be a whole number/],
    [["demo", "--units"], /--units needs a value/],
    [["demo", "--loud"], /unknown option --loud/],
    [["demo", "extra"], /unexpected argument 'extra'/],
    [["demo", "--json=yes"], /--json takes no value/],
    [["run"], /missing the command to run/],
    [["run", "--json", "--"], /missing the command to run/],
    [["run", "--html"], /--html needs a value/],
    [["run", "--json", "--html", "x.html", "--", "true"], /cannot be used together/],
    [["run", "--fail-on-leaks", "--", "true"], /unknown option --fail-on-leaks/],
    [["report"], /missing the report FILE/],
    [["report", "a.json", "b.json"], /one report FILE at a time/],
    [["report", LEAKY, "--html"], /--html needs a value/],
    [["report", LEAKY, "--json", "--html", "x.html"], /cannot be used together/],
    [["report", LEAKY, "--text"], /unknown option --text/],
  ];
  for (const [args, pattern] of cases) {
    const r = await lmm(args);
    const what = `lmm ${args.join(" ")}`;
    assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
    assert.equal(r.stdout, "", what);
    assert.match(r.stderr, /^lmm: .*\(see lmm( \w+)? --help\)\n$/, what);
    assert.match(r.stderr, pattern, what);
  }
});

Deno.test("lmm report FILE: text with families, fragmentation and leaks by site", async () => {
  const r = await lmm(["report", LEAKY]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.ok(!r.stdout.includes("\x1b["), "NO_COLOR: no escape codes");
  const lines = r.stdout.split("\n");
  assert.match(lines[0], /^LMM report · deno run -A leaky.ts · pid 4242 · deno 2\.9\.6 · /);
  assert.ok(lines.includes(`Heap 1 "main" · VM page 4 KiB · sites tracked`));
  assert.match(r.stdout, /\n {2}emp_t +36 B +2 +10 +6 +4 +4 KiB +4\.3 KiB +3\.2 KiB +10\.6%\n/);
  assert.match(r.stdout, /\n {2}total +5 +19 +11 +8 +15\.4 KiB /);
  assert.match(
    r.stdout,
    /fragmentation +external 21\.9%: 1 − Σ largest free block per family ÷ 11\.6 KiB free/,
  );
  assert.match(r.stdout, /internal soft: 1 free block \(16 B\)/);
  assert.match(r.stdout, /leaks +11 live blocks, 15\.4 KiB\n/);
  assert.match(r.stdout, /\n +\/srv\/app\/leaky\.ts:18 +emp_t +3 +3\.9 KiB\n/);
  assert.match(r.stdout, /Heap 2 "cache"(.*\n)+ +leaks +none/);
  assert.match(r.stdout, /\n2 heaps: 11 live blocks, 15\.4 KiB\n$/);
});

Deno.test("lmm report: a clean report says so", async () => {
  const r = await lmm(["report", CLEAN]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /leaks +none: every block was freed/);
  assert.doesNotMatch(r.stdout, /live block/);
});

Deno.test("lmm report: colour only when NO_COLOR is unset (and on a terminal)", async () => {
  // stdout is a pipe here: no colour even without NO_COLOR.
  const r = await lmm(["report", LEAKY], { env: { NO_COLOR: "" } });
  assert.equal(r.code, 0);
  assert.ok(!r.stdout.includes("\x1b["));
});

Deno.test("lmm report --json: the same report, re-indented; and '-' reads stdin", async () => {
  const r = await lmm(["report", LEAKY, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const expected = JSON.parse(await Deno.readTextFile(LEAKY));
  assert.deepEqual(JSON.parse(r.stdout), expected);
  const piped = await lmm(["report", "-", "--json"], { stdin: r.stdout });
  assert.equal(piped.code, 0, piped.stderr);
  assert.deepEqual(JSON.parse(piped.stdout), expected);
});

Deno.test("lmm report --html OUT: one self-contained file, a line on stderr", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmm-test-" });
  try {
    const out = join(dir, "report.html");
    const r = await lmm(["report", LEAKY, "--html", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^lmm: wrote .*report\.html \(.*: 2 heaps, 5 pages, 19 blocks\)\n$/);
    const html = await Deno.readTextFile(out);
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /data-expected-blocks="19"/);
    assert.equal(html.match(/class="blk[ "]/g)?.length, 19);
    assert.equal(html.match(/class="blk free"/g)?.length, 8);
    assert.doesNotMatch(html, /(src|href)=|url\(|@import|https?:\/\//, "no external resources");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["report.html"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad report files: a clear line, exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmm-test-" });
  try {
    const truncated = join(dir, "truncated.json");
    await Deno.writeTextFile(truncated, (await Deno.readTextFile(LEAKY)).slice(0, 1500));
    const empty = join(dir, "empty.json");
    await Deno.writeTextFile(empty, "");
    const cases: [string, RegExp][] = [
      [join(dir, "missing.json"), /cannot read report .*missing\.json: no such file/],
      [dir, /cannot read report .*: it is a directory/],
      [truncated, /truncated\.json is not an LMM report: it is not valid JSON/],
      [empty, /empty\.json is not an LMM report: it is empty/],
      [join(FIXTURES, "not_a_report.json"), /is not an LMM report: no "schema": "lmm-report"/],
      [
        join(FIXTURES, "future_version.report.json"),
        /is report version 99; this lmm reads version 1/,
      ],
      [
        join(FIXTURES, "damaged.report.json"),
        /is a damaged LMM report: heaps\[0\]\.totals\.pages is not a number/,
      ],
    ];
    for (const [file, pattern] of cases) {
      for (const extra of [[], ["--json"], ["--html", join(dir, "out.html")]]) {
        const r = await lmm(["report", file, ...extra]);
        const what = `lmm report ${file} ${extra.join(" ")}`;
        assert.equal(r.code, 2, what);
        assert.equal(r.stdout, "", what);
        assert.match(r.stderr, /^lmm: [^\n]+\n$/, what);
        assert.match(r.stderr, pattern, what);
        assert.equal(exists(join(dir, "out.html")), false, `${what}: wrote HTML`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lmm report --html into a missing directory: exit 1, nothing left behind", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmm-test-" });
  try {
    const r = await lmm(["report", LEAKY, "--html", join(dir, "no", "such", "r.html")]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^lmm: cannot write .*r\.html: no such directory\n$/);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `lmm args…` on a pseudo-terminal (util-linux `script`); null when there is none. */
async function onTerminal(args: string[], env: Record<string, string>): Promise<string | null> {
  const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = [Deno.execPath(), "run", "-A", join(ROOT, "cli.ts"), ...args].map(quote)
    .join(" ");
  try {
    const { stdout } = await new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(stdout);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

Deno.test("lmm report on a terminal: coloured, unless NO_COLOR is set", async () => {
  const coloured = await onTerminal(["report", LEAKY], { NO_COLOR: "" });
  if (coloured === null) {
    console.log("SKIP terminal colour test: util-linux `script` is not installed");
    return;
  }
  assert.ok(coloured.includes("\x1b[1mLMM report\x1b[22m"));
  assert.ok(coloured.includes("\x1b[31m11 live blocks, 15.4 KiB\x1b[39m"));
  const plain = await onTerminal(["report", LEAKY], { NO_COLOR: "1" });
  assert.match(plain!, /LMM report/);
  assert.ok(!plain!.includes("\x1b["));
});
