// `lmm run` with a stand-in program (tests/fixtures/cli/fake_program.ts) that writes a chosen
// report, exits with a chosen status or dies of a signal: the runner alone, without the library.
import assert from "node:assert/strict";
import { join } from "node:path";
import { runProgram } from "../cli/commands/run.ts";
import { exists, FIXTURES, lmm, recordsOf } from "./fixtures/cli/helpers.ts";

const FAKE = join(FIXTURES, "fake_program.ts");
const LEAKY = join(FIXTURES, "leaky.report.jsonl");
const CLEAN = join(FIXTURES, "clean.report.jsonl");
const deno = Deno.execPath();

function fake(report: string, end: string | number): string[] {
  return ["--", deno, "run", "-A", FAKE, report, String(end)];
}

Deno.test("lmm run: passes stdio through, sets LMM_REPORT, LMM_SITES and LMM_LIB, renders the report", async () => {
  const r = await lmm(["run", ...fake(CLEAN, 0)], { env: { LMM_LIB: "/opt/lmm/liblmm.so" } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^fake program: hello from stdout\n/);
  assert.match(r.stdout, /\nfake program: LMM_LIB=\/opt\/lmm\/liblmm\.so\n/);
  assert.match(r.stdout, /\nfake program: LMM_SITES=sample,depth=8,interval=65536\n/);
  assert.match(r.stderr, /^fake program: LMM_REPORT=\/.*\/lmm-run-[^/]+\/report\.jsonl\n$/);
  assert.match(r.stdout, /\n\nLMM report · deno run -A clean\.ts /);
  assert.match(r.stdout, /leaks +none/);
  // The temporary report is gone afterwards.
  const reportPath = r.stderr.split("=")[1].trim();
  assert.equal(exists(reportPath), false);
});

Deno.test("lmm run: without LMM_LIB set, lmm hands the program its own library path", async () => {
  const r = await lmm(["run", ...fake(CLEAN, 0)], { env: { LMM_LIB: "" } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /LMM_LIB=(.*\/zig\/zig-out\/lib\/liblmm\.so)?\n/);
});

Deno.test("lmm run: leaks are reported; --fail-on-leak turns them into exit 3", async () => {
  const plain = await lmm(["run", ...fake(LEAKY, 0)]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /leaks +11 live blocks, 15\.4 KiB/);

  const strict = await lmm(["run", "--fail-on-leak", ...fake(LEAKY, 0)]);
  assert.equal(strict.code, 3);
  assert.match(strict.stdout, /leaks +11 live blocks/);
  assert.match(
    strict.stderr,
    /\nlmm: the program exited 0 but left 13 live blocks \(15\.9 KiB\) in 2 heaps: exit 3 \(--fail-on-leak\)\n$/,
  );

  const custom = await lmm(["run", "--fail-on-leak", "--leak-exit-code", "42", ...fake(LEAKY, 0)]);
  assert.equal(custom.code, 42);
  assert.match(custom.stderr, /in 2 heaps: exit 42 \(--fail-on-leak\)\n$/);

  const clean = await lmm(["run", "--fail-on-leak", ...fake(CLEAN, 0)]);
  assert.equal(clean.code, 0, clean.stderr);
});

Deno.test("lmm run: a program that itself exits 3 keeps 3, and lmm does not blame leaks", async () => {
  for (const args of [[], ["--fail-on-leak"]]) {
    const r = await lmm(["run", ...args, ...fake(LEAKY, 3)]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /\nlmm: the program exited with status 3\n$/);
    assert.doesNotMatch(r.stderr, /fail-on-leak/);
  }
});

Deno.test("lmm run: the program's own status wins, and its report is still shown", async () => {
  const r = await lmm(["run", "--fail-on-leak", ...fake(LEAKY, 7)]);
  assert.equal(r.code, 7);
  assert.match(r.stderr, /\nlmm: the program exited with status 7\n$/);
  assert.match(r.stdout, /leaks +11 live blocks/);
});

Deno.test("lmm run: a program killed by a signal: 128+N, and a clear word about the report", async () => {
  const r = await lmm(["run", ...fake("none", "SIGABRT")]);
  assert.equal(r.code, 134);
  assert.match(r.stderr, /\nlmm: the program was killed by SIGABRT\n/);
  assert.match(r.stderr, /\nlmm: no report: the program wrote none \(it ended before /);
  assert.equal(r.stdout.includes("LMM report"), false);
  const killed = await lmm(["run", ...fake("none", "SIGKILL")]);
  assert.equal(killed.code, 137);
  assert.match(killed.stderr, /no report: the program wrote none \(SIGKILL ends a program before/);
});

Deno.test("lmm run: a program that exits 0 without a report: exit 4", async () => {
  const r = await lmm(["run", ...fake("none", 0)]);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /\nlmm: no report: the program wrote none \(it opened no heap /);
});

Deno.test("lmm run: a truncated report: exit 4 (or the program's status) and the reason", async () => {
  const r = await lmm(["run", ...fake("garbage", 0)]);
  assert.equal(r.code, 4);
  assert.match(
    r.stderr,
    /lmm: no report: .*report\.jsonl is an LMM report cut short in its first line \(its writer was stopped while writing it\)\n$/,
  );
  const failed = await lmm(["run", ...fake("garbage", 2)]);
  assert.equal(failed.code, 2);
});

Deno.test("lmm run: command not found 127, not executable 126", async () => {
  const missing = await lmm(["run", "--", "lmm-no-such-command-x"]);
  assert.equal(missing.code, 127);
  assert.equal(missing.stderr, "lmm: command not found: lmm-no-such-command-x\n");
  const dir = await Deno.makeTempDir({ prefix: "lmm-test-" });
  try {
    const script = join(dir, "script.sh");
    await Deno.writeTextFile(script, "#!/bin/sh\nexit 0\n", { mode: 0o644 });
    const r = await lmm(["run", "--", script]);
    assert.equal(r.code, 126);
    assert.match(r.stderr, /^lmm: cannot execute .*script\.sh: permission denied\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lmm run --json: stdout holds exactly the report; the program's stdout goes to stderr", async () => {
  const r = await lmm(["run", "--json", ...fake(LEAKY, 0)]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(recordsOf(r.stdout), recordsOf(await Deno.readTextFile(LEAKY)));
  assert.match(r.stderr, /fake program: hello from stdout\n/);
});

Deno.test("lmm run --html FILE: writes the heap map", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmm-test-" });
  try {
    const out = join(dir, "run.html");
    const r = await lmm(["run", "--html", out, ...fake(LEAKY, 0)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /lmm: wrote .*run\.html \(.*22 blocks\)\n$/);
    assert.match(await Deno.readTextFile(out), /data-expected-blocks="22"/);
    assert.equal(r.stdout.includes("LMM report"), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runProgram: progress lines while a long program runs (when asked for)", async () => {
  const lines: string[] = [];
  const result = await runProgram(["sleep", "1"], {}, {
    progress: (line) => lines.push(line),
    progressAfter: 50,
    progressEvery: 100,
  });
  assert.deepEqual(result, { kind: "exited", code: 0 });
  assert.ok(lines.length >= 1, "no progress line");
  assert.match(lines[0], /^lmm: still running sleep 1 · \d+s · pid \d+$/);
});

Deno.test("lmm run --html into a missing directory: exit 1 before the program runs", async () => {
  const r = await lmm(["run", "--html", "/nonexistent-lmm-dir/r.html", ...fake(LEAKY, 0)]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "", "the program ran");
  assert.equal(r.stderr, "lmm: cannot write /nonexistent-lmm-dir/r.html: no such directory\n");
});
