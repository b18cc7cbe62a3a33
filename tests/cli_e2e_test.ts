// End to end: `lmm run` on real Deno programs that use mod.ts and the built library
// (tests/fixtures/cli/leaky.ts, clean.ts, crash.ts). Skipped, visibly, when the library
// has not been built.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  FIXTURES,
  LIBRARY,
  libraryBuilt,
  lmm,
  modelOf,
  recordsOf,
} from "./fixtures/cli/helpers.ts";

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
    assert.match(r.stdout, /\nHeap \d+ "app" · VM page 64 KiB · stacks: all, depth 8\n/);
    assert.match(
      r.stdout,
      /\n {2}leaks +5 live blocks, 1\.5 KiB: 5 \(1\.5 KiB\) direct, 0 \(0 B\) indirect\n/,
    );
    assert.match(
      r.stdout,
      /\n +bytes +1 +1000 B +0\n +student_t +2 +448 B +0\n +emp_t +2 +72 B +0\n/,
    );
    assert.match(
      r.stdout,
      /\n {4}448 B in 2 blocks · student_t\n {8}at tests\/fixtures\/cli\/leaky\.ts:11:34\n/,
    );
    // Two calls on line 9 are two stacks (their columns differ).
    assert.match(
      r.stdout,
      /\n {4}36 B in 1 block · emp_t\n {8}at tests\/fixtures\/cli\/leaky\.ts:9:25\n/,
    );
    assert.match(
      r.stdout,
      /\n {4}36 B in 1 block · emp_t\n {8}at tests\/fixtures\/cli\/leaky\.ts:9:67\n/,
    );
  },
});

Deno.test({
  name: "lmm run --fail-on-leak: exit 3 for the leaky program, 0 for the clean one",
  ignore: !built,
  async fn(): Promise<void> {
    const leaky = await lmm(["run", "--fail-on-leak", ...program("leaky.ts")]);
    assert.equal(leaky.code, 3);
    assert.equal(
      leaky.stderr,
      "lmm: the program exited 0 but left 5 live blocks (1.5 KiB) in 1 heap: exit 3 (--fail-on-leak)\n",
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
  name: "lmm run: a crashing program: its status, its error, and the report it wrote as it fell",
  ignore: !built,
  async fn(): Promise<void> {
    const r = await lmm(["run", "--fail-on-leak", ...program("crash.ts")]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^crash: about to fail\n/);
    assert.match(r.stderr, /Uncaught .*Error: crash: something went wrong/);
    assert.match(r.stderr, /\nlmm: the program exited with status 1\n$/);
    assert.match(r.stdout, /leaks +1 live block, 72 B/);
    assert.match(r.stdout, /at tests\/fixtures\/cli\/crash\.ts:7:6\n/);
  },
});

Deno.test({
  name: "lmm run --json and --html on a real program",
  ignore: !built,
  async fn(): Promise<void> {
    const json = await lmm(["run", "--json", ...program("leaky.ts")]);
    assert.equal(json.code, 0, json.stderr);
    const records = recordsOf(json.stdout);
    assert.ok(records[0].type === "part" && records[0].schema === "lmm-report");
    const [heap] = modelOf(json.stdout).heaps;
    assert.equal(heap.leaks?.blocks, 5);
    const blocks = heap.blockCount;
    assert.equal(heap.heap.totals.totalBlocks, blocks);
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
