// Black-box tests of `lmm report`, the top-level flags and every usage error: spawn
// `deno run -A cli.ts …` and check stdout, stderr and the exit status.
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, FIXTURES, lmm, recordsOf, ROOT } from "./fixtures/cli/helpers.ts";

const LEAKY = join(FIXTURES, "leaky.report.jsonl");
const CLEAN = join(FIXTURES, "clean.report.jsonl");

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
    assert.match(r.stdout, /^lmm \d+\.\d+\.\d+ \(report v2, deno \d+\.\d+\.\d+\)\n$/);
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

Deno.test("lmm report FILE: families, fragmentation, leaks by family and by stack, direct first", async () => {
  const r = await lmm(["report", LEAKY]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.ok(!r.stdout.includes("\x1b["), "NO_COLOR: no escape codes");
  const lines = r.stdout.split("\n");
  assert.equal(lines[0], "LMM report · deno run -A leaky.ts · pid 4242 · deno 2.9.6");
  assert.ok(lines.includes(`Heap 1 "main" · VM page 4 KiB · stacks: all, depth 8`));
  assert.match(r.stdout, /\n {2}emp_t +36 B +2 +10 +6 +4 +4 KiB +4\.3 KiB +4 +1 +0\.4%\n/);
  assert.match(r.stdout, /\n {2}total +5 +19 +11 +8 +15\.4 KiB +16 KiB +8 +1 +0\.1%\n/);
  assert.match(
    r.stdout,
    /fragmentation {2}external 0\.1%: 16 B of 11\.6 KiB free in holes too small to use · internal 16 B hard, 1 block \(16 B\) soft/,
  );
  // The definitions are written once, under the first table.
  assert.equal(r.stdout.split("a hole that fits is usable space").length, 2);
  assert.match(
    r.stdout,
    /leaks +11 live blocks, 15\.4 KiB: 9 \(15\.3 KiB\) direct, 2 \(112 B\) indirect\n/,
  );
  // Direct leaks come first, each with its innermost frames; then the indirect ones.
  const direct = r.stdout.indexOf("direct leaks (no other live block points to them)");
  const indirect = r.stdout.indexOf("indirect leaks (another live block holds their address)");
  assert.ok(direct > 0 && indirect > direct);
  assert.match(
    r.stdout,
    /\n {4}3\.9 KiB in 3 blocks · emp_t\n {8}at makeEmployee \(\/srv\/app\/leaky\.ts:18:10\)\n {8}at hire \(\/srv\/app\/staff\.ts:7:12\)\n {8}at main \(\/srv\/app\/leaky\.ts:36:5\)\n {8}at \/srv\/app\/leaky\.ts:44:1\n/,
  );
  assert.match(
    r.stdout.slice(indirect),
    /112 B in 2 blocks · student_t\n {8}at enroll \(\/srv\/app\/leaky\.ts:15:9\)/,
  );
  assert.match(r.stdout, /Heap 2 "cache"(.*\n)+ +leaks +none/);
  assert.match(r.stdout, /\nHeap 3 "session" · closed with live blocks: leaked at close · /);
  assert.match(r.stdout, /\n3 heaps: 13 live blocks, 15\.9 KiB \(11 direct, 2 indirect\)\n$/);
});

Deno.test("lmm report --top N: bounded, with '… and N more'", async () => {
  const r = await lmm(["report", LEAKY, "--top", "2"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\n {4}… and 3 more stacks \(5 blocks, 1\.6 KiB\)\n/);
  assert.match(r.stdout, /\n… and 1 more heap: 0 with live blocks \(0 blocks, 0 B\), 1 without/);
  assert.doesNotMatch(r.stdout, /Heap 2 "cache"/, "the heap without leaks is the one left out");
  const frames = await lmm(["report", LEAKY, "--top", "1"]);
  assert.match(frames.stdout, /at \/srv\/app\/leaky\.ts:44:1\n/);
});

Deno.test("lmm report: a clean report says so", async () => {
  const r = await lmm(["report", CLEAN]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /leaks +none: every block was freed/);
  assert.doesNotMatch(r.stdout, /\d+ live block/);
});

Deno.test("lmm report: control characters in labels, names and frames are escaped in text", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmm-test-" });
  try {
    const evil = (await Deno.readTextFile(LEAKY))
      .replace('"label":"main"', '"label":"ma\\u001b[31min\\r"')
      .replace('"name":"emp_t"', '"name":"emp\\u0007_t"')
      .replace('"file":"/srv/app/staff.ts"', '"file":"/srv/app/st\\u202eaff.ts"');
    const file = join(dir, "evil.jsonl");
    await Deno.writeTextFile(file, evil);
    const r = await lmm(["report", file]);
    assert.equal(r.code, 0, r.stderr);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f\u202e]/, "no raw control character");
    assert.match(r.stdout, /Heap 1 "ma\\x1b\[31min\\x0d"/);
    assert.match(r.stdout, /emp\\x07_t/);
    assert.match(r.stdout, /at hire \(\/srv\/app\/st\\u202eaff\.ts:7:12\)/);
    // JSON keeps them exact.
    const json = await lmm(["report", file, "--json"]);
    assert.ok(json.stdout.includes('"label":"ma\\u001b[31min\\r"'));
    // HTML shows them escaped too.
    const html = join(dir, "evil.html");
    assert.equal((await lmm(["report", file, "--html", html])).code, 0);
    const page = await Deno.readTextFile(html);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(page, /[\x00-\x09\x0b-\x1f\x7f\u202e]/, "no raw control character");
    assert.match(page, /Heap 1 “ma\\x1b\[31min\\x0d”/);
    assert.match(page, /hire \(\/srv\/app\/st\\u202eaff\.ts:7:12\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lmm report: colour only when NO_COLOR is unset (and on a terminal)", async () => {
  // stdout is a pipe here: no colour even without NO_COLOR.
  const r = await lmm(["report", LEAKY], { env: { NO_COLOR: "" } });
  assert.equal(r.code, 0);
  assert.ok(!r.stdout.includes("\x1b["));
});

Deno.test("lmm report --json: the records, as they are; and '-' reads stdin", async () => {
  const r = await lmm(["report", LEAKY, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const expected = recordsOf(await Deno.readTextFile(LEAKY));
  assert.deepEqual(recordsOf(r.stdout), expected);
  const piped = await lmm(["report", "-", "--json"], { stdin: r.stdout });
  assert.equal(piped.code, 0, piped.stderr);
  assert.deepEqual(recordsOf(piped.stdout), expected);
});

Deno.test("lmm report: parts merged — the newest snapshot of an isolate wins, events add up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmm-test-" });
  try {
    const text = await Deno.readTextFile(CLEAN);
    // The same isolate wrote a checkpoint (seq 1) and then its exit part (seq 3, one more heap
    // live block); a part cut short by a killed writer follows.
    const checkpoint = text.replace('"reason":"exit"', '"reason":"checkpoint"');
    const final = text.replace('"seq":1', '"seq":3').replace(
      '{"type":"end","seq":1}',
      '{"type":"end","seq":3}',
    )
      .replace('"label":""', '"label":"final"');
    const cut = text.replace('"isolate":"4243.fixture2"', '"isolate":"4243.other"').slice(0, 900);
    const file = join(dir, "parts.jsonl");
    await Deno.writeTextFile(file, checkpoint + final + cut);
    const r = await lmm(["report", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /note: the part 1 of deno run -A clean\.ts is incomplete/);
    assert.equal(r.stdout.match(/^Heap 1 "final"/gm)?.length, 1);
    assert.doesNotMatch(r.stdout, /^Heap 1 · /m, "the checkpoint was replaced");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lmm report --html OUT: one self-contained file, a line on stderr", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmm-test-" });
  try {
    const out = join(dir, "report.html");
    const r = await lmm(["report", LEAKY, "--html", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^lmm: wrote .*report\.html \(.*: 3 heaps, 6 pages, 22 blocks\)\n$/);
    const html = await Deno.readTextFile(out);
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /data-expected-blocks="22"/);
    assert.equal(html.match(/class="blk[ "]/g)?.length, 22);
    assert.equal(html.match(/class="blk free"/g)?.length, 9);
    assert.equal(html.match(/class="blk ind"/g)?.length, 2);
    assert.match(
      html,
      /<details class="site" data-family="emp_t"[^>]*><summary><b>3\.9 KiB<\/b> in 3 blocks/,
    );
    assert.match(html, /<li><code>makeEmployee \(\/srv\/app\/leaky\.ts:18:10\)<\/code><\/li>/);
    assert.match(html, /<dt>external<\/dt><dd>bytes in holes too small/);
    assert.doesNotMatch(html, /(src|href)=|url\(|@import|https?:\/\//, "no external resources");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["report.html"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad report files: a clear line, exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmm-test-" });
  try {
    const truncated = join(dir, "truncated.jsonl");
    await Deno.writeTextFile(truncated, "\n" + (await Deno.readTextFile(LEAKY)).slice(1, 40));
    const empty = join(dir, "empty.jsonl");
    await Deno.writeTextFile(empty, "");
    const cases: [string, RegExp][] = [
      [join(dir, "missing.jsonl"), /cannot read report .*missing\.jsonl: no such file/],
      [dir, /cannot read report .*: it is a directory/],
      [truncated, /truncated\.jsonl is not an LMM report: it is not valid JSON/],
      [empty, /empty\.jsonl is not an LMM report: it is empty/],
      [join(FIXTURES, "not_a_report.json"), /is not an LMM report: no "schema": "lmm-report"/],
      [join(FIXTURES, "v1.report.json"), /is report version 1; this lmm reads version 2/],
      [
        join(FIXTURES, "future_version.report.jsonl"),
        /is report version 99; this lmm reads version 2/,
      ],
      [
        join(FIXTURES, "damaged.report.jsonl"),
        /is a damaged LMM report: line 9: heap\.totals\.pages is not a number/,
      ],
    ];
    for (const [file, pattern] of cases) {
      for (const extra of [[], ["--html", join(dir, "out.html")]]) {
        const r = await lmm(["report", file, ...extra]);
        const what = `lmm report ${file} ${extra.join(" ")}`;
        assert.equal(r.code, 2, what);
        assert.equal(r.stdout, "", what);
        assert.match(r.stderr, /^lmm: [^\n]+\n$/, what);
        assert.match(r.stderr, pattern, what);
        assert.equal(exists(join(dir, "out.html")), false, `${what}: wrote HTML`);
      }
    }
    // --json copies records as it checks them: a damaged file stops it at the damage, exit 2.
    const json = await lmm(["report", join(FIXTURES, "damaged.report.jsonl"), "--json"]);
    assert.equal(json.code, 2);
    assert.equal(recordsOf(json.stdout).length, 7, "the records before the damaged line");
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
  assert.ok(coloured.includes("\x1b[31m · closed with live blocks: leaked at close\x1b[39m"));
  const plain = await onTerminal(["report", LEAKY], { NO_COLOR: "1" });
  assert.match(plain!, /LMM report/);
  assert.ok(!plain!.includes("\x1b["));
});
