// Leak checking as a user meets it: `lmm run` on real leaky programs (tests/fixtures/leaks/) —
// heaps closed, left to `using`, collected, in Workers; many test files; signals; minimal
// permissions; sampled stacks — each must be reported exactly. Skipped, visibly, when the
// library has not been built.
import assert from "node:assert/strict";
import { join } from "node:path";
import { FIXTURES, LIBRARY, libraryBuilt, lmm, modelOf, ROOT } from "./fixtures/cli/helpers.ts";

const built = libraryBuilt();
if (!built) console.log(`SKIP cli_leaks_test: ${LIBRARY} is not built (deno task build)`);

const LEAKS = join(FIXTURES, "../leaks");

function program(name: string, ...flags: string[]): string[] {
  return ["--", Deno.execPath(), "run", ...(flags.length > 0 ? flags : ["-A"]), join(LEAKS, name)];
}

function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !built, fn });
}

test("a heap closed with live blocks, and one left to `using`, leaked at close", async () => {
  const r = await lmm(["run", "--fail-on-leak", ...program("closed.ts")]);
  assert.equal(r.code, 3);
  assert.match(r.stdout, /^closed: done\n/);
  assert.match(r.stdout, /\nHeap 1 "cache" · closed with live blocks: leaked at close · /);
  assert.match(
    r.stdout,
    /\n {4}120 B in 1 block · entry_t\n {8}at tests\/fixtures\/leaks\/closed\.ts:7:7\n/,
  );
  assert.match(r.stdout, /\nHeap 2 "scratch" · closed with live blocks: leaked at close · /);
  assert.match(
    r.stdout,
    /\n {4}300 B in 1 block · bytes\n {8}at handleRequest \(tests\/fixtures\/leaks\/closed\.ts:12:11\)\n/,
  );
  assert.doesNotMatch(r.stdout, /"tidy"/, "a heap closed clean is not a leak");
  assert.equal(
    r.stderr,
    "lmm: the program exited 0 but left 2 live blocks (420 B) in 2 heaps: exit 3 (--fail-on-leak)\n",
  );
});

test("a heap collected without close() is reported with its live blocks", async () => {
  const r = await lmm(["run", ...program("collected.ts", "-A", "--v8-flags=--expose-gc")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /\nHeap 1 "forgotten" · collected with live blocks: leaked at collection · /,
  );
  assert.match(
    r.stdout,
    /\n {4}4 KiB in 1 block · bytes\n {8}at forget \(tests\/fixtures\/leaks\/collected\.ts:7:8\)\n/,
  );
});

test("a helper called from two places: one group per whole stack", async () => {
  const r = await lmm(["run", ...program("helpers.ts")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /\n {4}96 B in 3 blocks · node_t\n {8}at makeNode \(tests\/fixtures\/leaks\/helpers\.ts:9:15\)\n {8}at loadUsers \(tests\/fixtures\/leaks\/helpers\.ts:13:31\)\n/,
  );
  assert.match(
    r.stdout,
    /\n {4}64 B in 2 blocks · node_t\n {8}at makeNode \(tests\/fixtures\/leaks\/helpers\.ts:9:15\)\n {8}at loadOrders \(tests\/fixtures\/leaks\/helpers\.ts:17:31\)\n/,
  );
});

test("direct and indirect leaks: a dropped list and a ring", async () => {
  const r = await lmm(["run", "--json", ...program("lists.ts")]);
  assert.equal(r.code, 0, r.stderr);
  const [heap] = modelOf(r.stdout).heaps;
  assert.deepEqual(heap.leaks?.direct, { count: 2, bytes: 32 });
  assert.deepEqual(heap.leaks?.indirect, { count: 3, bytes: 48 });
  const groups = heap.leaks!.byStack.map((g) => [
    g.kind,
    g.count,
    heap.stacks.get(g.stackId)![0].fn,
    heap.stacks.get(g.stackId)![0].line,
  ]);
  assert.deepEqual(groups, [
    ["direct", 1, "makeList", 16], // the head
    ["direct", 1, "makeRing", 24], // the ring's first block
    ["indirect", 2, "makeList", 16], // the rest of the list
    ["indirect", 1, "makeRing", 25], // the ring's second block
  ]);
});

test("Workers: one terminated after it reported back, one that closed itself — both in the report", async () => {
  const r = await lmm(["run", "--fail-on-leak", ...program("worker_main.ts")]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /^workers: done\n/);
  assert.match(r.stdout, /\nLMM report · 2 isolates in 1 process /);
  assert.match(
    r.stdout,
    /\nHeap 1 "in reporter" · [^\n]*\n {2}in worker "reporter" \(file:\/\/\/[^\n]*worker\.ts\)\n/,
  );
  assert.match(r.stdout, /\n {4}64 B in 1 block · job_t\n/);
  assert.match(r.stdout, /\nHeap 1 "in closer" · [^\n]*\n {2}in worker "closer" /);
  assert.match(r.stdout, /\n {4}128 B in 1 block · job_t\n/);
  assert.match(r.stdout, /\n2 heaps in 2 isolates: 2 live blocks, 192 B/);
});

test("deno test over a folder of test files: one merged report", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmm-suite-" });
  try {
    const mod = new URL("../mod.ts", import.meta.url).href;
    for (const [file, leak] of [["a_test.ts", 16], ["b_test.ts", 0], ["c_test.ts", 48]] as const) {
      await Deno.writeTextFile(
        join(dir, file),
        `import { Heap } from "${mod}";\n` +
          `Deno.test("${file}", () => {\n` +
          `  const heap = new Heap({ label: "${file}", trackSites: "all" });\n` +
          `  ${leak === 0 ? "heap.free(heap.allocBytes(8));" : `heap.allocBytes(${leak});`}\n` +
          `  (globalThis as Record<string, unknown>).keep = heap;\n` +
          `});\n`,
      );
    }
    const r = await lmm(["run", "--fail-on-leak", "--", Deno.execPath(), "test", "-A", dir + "/"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /ok \| 3 passed \| 0 failed/);
    assert.match(r.stdout, /\nLMM report · 3 isolates in 1 process /);
    for (const file of ["a_test.ts", "b_test.ts", "c_test.ts"]) {
      assert.match(r.stdout, new RegExp(`\\nHeap 1 "${file}" · `));
    }
    assert.match(r.stdout, /\n {4}16 B in 1 block · bytes\n {8}at [^\n]*a_test\.ts:4:8/);
    assert.match(r.stdout, /\n {4}48 B in 1 block · bytes\n {8}at [^\n]*c_test\.ts:4:8/);
    assert.match(r.stdout, /\n3 heaps in 3 isolates: 2 live blocks, 64 B/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("SIGINT: the program writes its report, then dies of SIGINT; lmm reports and exits 130", async () => {
  const r = await lmm(["run", ...program("signal.ts", "-A"), "self"]);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stdout, /^ready\n/);
  assert.doesNotMatch(r.stdout, /not interrupted/);
  assert.match(r.stderr, /lmm: the program was killed by SIGINT\n/);
  assert.match(r.stdout, /\nHeap 1 "server" · /);
  assert.match(
    r.stdout,
    /\n {4}512 B in 1 block · bytes\n {8}at tests\/fixtures\/leaks\/signal\.ts:6:6\n/,
  );
});

test("SIGTERM sent to lmm reaches the program, which writes its report and dies of it", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "cli.ts"), "run", ...program("signal.ts")],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  child.kill("SIGTERM");
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    out += new TextDecoder().decode(chunk.value);
  }
  const status = await child.status;
  const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  assert.equal(status.code, 143, stderr);
  assert.match(stderr, /lmm: the program was killed by SIGTERM\n/);
  assert.match(out, /\n {4}512 B in 1 block · bytes\n/);
});

test("minimal permissions: what is missing is named with the flag to add; the minimal set works", async () => {
  const noEnv = await lmm(["run", ...program("helpers.ts", "--allow-ffi")]);
  assert.equal(noEnv.code, 4);
  assert.match(
    noEnv.stderr,
    /^lmm: no report: the program ran without env and write permission, so the LMM module could not read LMM_REPORT: add --allow-env=LMM_REPORT,LMM_SITES,LMM_LIB --allow-write=\/\S+ \(or -A\) to the deno command\n$/,
  );
  const noWrite = await lmm(["run", ...program("helpers.ts", "--allow-ffi", "--allow-env")]);
  assert.equal(noWrite.code, 4);
  assert.match(
    noWrite.stderr,
    /^lmm: could not write the report to \S+ \(LMM_REPORT\): Deno was not given write access to it: run deno with --allow-write=\S+ \(or -A\)\n/,
  );
  assert.match(
    noWrite.stderr,
    /\nlmm: no report: the program ran without write permission, so the LMM module could not write the report: add --allow-write=\/\S+ \(or -A\) to the deno command\n$/,
  );
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const minimal = await lmm([
    "run",
    ...program(
      "helpers.ts",
      "--allow-ffi",
      "--allow-env=LMM_REPORT,LMM_SITES,LMM_LIB",
      `--allow-write=${tmp}`,
    ),
  ]);
  assert.equal(minimal.code, 0, minimal.stderr);
  assert.match(minimal.stdout, /leaks +5 live blocks, 160 B/);
});

test("sampling: every leak counted by family; the site leaking 16 MiB seen with its stack", async () => {
  const r = await lmm(["run", "--json", ...program("sampled.ts")]);
  assert.equal(r.code, 0, r.stderr);
  const [heap] = modelOf(r.stdout).heaps;
  assert.deepEqual(heap.heap.sites, { mode: "sample", depth: 8, interval: 65536 });
  assert.equal(heap.leaks?.blocks, 65537);
  assert.deepEqual(heap.leaks?.byFamily.map((f) => [f.family, f.count]), [["buffer_t", 65536], [
    "bytes",
    1,
  ]]);
  const big = heap.leaks!.byStack.find((g) => heap.stacks.get(g.stackId)?.[0].fn === "bigLeak");
  assert.ok(big !== undefined, "the big site has a stack");
  // ≈ 256 samples are expected; the estimate is within a factor of two with certainty for
  // practical purposes (a Poisson count of mean 256 below 128 or above 512: < 1e-15).
  assert.ok(big.count >= 128 && big.count <= 512, `${big.count} sampled blocks`);
  const truth = 65536 * 256;
  assert.ok(
    big.estimatedBytes > truth / 2 && big.estimatedBytes < truth * 2,
    `estimated ${big.estimatedBytes} B of ${truth}`,
  );
  const all = await lmm(["run", "--sites", "all", "--json", ...program("sampled.ts")]);
  const [every] = modelOf(all.stdout).heaps;
  assert.equal(every.leaks?.unsampled.count, 0);
  assert.equal(every.leaks?.byStack[0].count, 65536);
  const none = await lmm(["run", "--sites", "none", ...program("sampled.ts")]);
  assert.match(none.stdout, / · stacks not recorded\n/);
  assert.match(none.stdout, /\(stacks not recorded\)/);
});

test("control characters in a label are escaped in the text report", async () => {
  const r = await lmm(["run", ...program("labels.ts")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\nHeap 1 "evil\\u202elabel\\u2067" · /);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(r.stdout.replace(/^labels: done\n/, ""), /[\x00-\x09\x0b-\x1f\u202e\u2067]/);
});
