// End to end: `lmm run` on real Deno programs that use mod.ts and the built library
// (tests/fixtures/cli/leaky.ts, clean.ts, crash.ts). Skipped, visibly, when the library
// has not been built.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Report } from "../ffi/report_types.ts";
import { FIXTURES, LIBRARY, libraryBuilt, lmm } from "./fixtures/cli/helpers.ts";

const built = libraryBuilt();
if (!built) console.log(`SKIP cli_e2e_test: ${LIBRARY} is not built (deno task build)`);

const program = (name: string, ...args: string[]): string[] => [
  "--",
  Deno.execPath(),
  "run",
  "-A",
  join(FIXTURES, name),
  ...args,
];

Deno.test({
  name: "lmm run -- deno run -A leaky.ts: leaks by family and by allocation site",
  ignore: !built,
  async fn(): Promise<void> {
    const r = await lmm(["run", ...program("leaky.ts")]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^leaky: done, 5 blocks left live\n\nLMM report · .*leaky\.ts · /);
    assert.match(r.stdout, /\nHeap \d+ "app" · VM page 64 KiB · sites tracked\n/);
    assert.match(r.stdout, /\n {2}leaks +5 live blocks, 1\.5 KiB\n/);
    assert.match(r.stdout, /\n +bytes +1 +1000 B\n +student_t +2 +448 B\n +emp_t +2 +72 B\n/);
    assert.match(r.stdout, /\n +tests\/fixtures\/cli\/leaky\.ts:11 +student_t +2 +448 B\n/);
    assert.match(r.stdout, /\n +tests\/fixtures\/cli\/leaky\.ts:9 +emp_t +2 +72 B\n/);
  },
});

Deno.test({
  name: "lmm run --fail-on-leak: exit 3 for the leaky program, 0 for the clean one",
  ignore: !built,
  async fn(): Promise<void> {
    const leaky = await lmm(["run", "--fail-on-leak", ...program("leaky.ts")]);
    assert.equal(leaky.code, 3);
    assert.match(
      leaky.stderr,
      /^lmm: leaks: 5 live blocks, 1\.5 KiB \(--fail-on-leak: exit 3\)\n$/,
    );

    const clean = await lmm(["run", "--fail-on-leak", ...program("clean.ts")]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /^clean: done, nothing left live\n/);
    assert.match(clean.stdout, /100 allocs, 100 frees/);
    assert.match(clean.stdout, /leaks +none: every block was freed/);
  },
});

Deno.test({
  name: "lmm run: a program that exits non-zero keeps its status, its report is shown",
  ignore: !built,
  async fn(): Promise<void> {
    const r = await lmm(["run", "--fail-on-leak", ...program("leaky.ts", "5")]);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /^lmm: the program exited with status 5\n$/);
    assert.match(r.stdout, /leaks +5 live blocks/);
  },
});

Deno.test({
  name: "lmm run: a crashing program: its status, its error, and why there is no report",
  ignore: !built,
  async fn(): Promise<void> {
    const r = await lmm(["run", "--fail-on-leak", ...program("crash.ts")]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^crash: about to fail\n/);
    assert.match(r.stderr, /Uncaught .*Error: crash: something went wrong/);
    assert.match(r.stderr, /\nlmm: the program exited with status 1\n/);
    // Deno skips `unload` listeners on an uncaught error; should the module ever write the
    // report then, lmm renders it instead.
    if (!r.stdout.includes("LMM report")) {
      assert.match(r.stderr, /\nlmm: no report: the program wrote none \(it ended before /);
    }
  },
});

Deno.test({
  name: "lmm run --json and --html on a real program",
  ignore: !built,
  async fn(): Promise<void> {
    const json = await lmm(["run", "--json", ...program("leaky.ts")]);
    assert.equal(json.code, 0, json.stderr);
    const report: Report = JSON.parse(json.stdout);
    assert.equal(report.schema, "lmm-report");
    const [heap] = report.heaps;
    assert.equal(heap.leaks.blocks, 5);
    const blocks = heap.pages.reduce((n, p) => n + p.blocks.length, 0);
    assert.equal(heap.totals.totalBlocks, blocks);
    assert.match(json.stderr, /^leaky: done/);

    const dir = await Deno.makeTempDir({ prefix: "lmm-test-" });
    try {
      const out = join(dir, "leaky.html");
      const html = await lmm(["run", "--html", out, ...program("leaky.ts")]);
      assert.equal(html.code, 0, html.stderr);
      assert.match(html.stderr, new RegExp(`lmm: wrote .*leaky\\.html \\(.* ${blocks} blocks\\)`));
      assert.match(await Deno.readTextFile(out), new RegExp(`data-expected-blocks="${blocks}"`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
