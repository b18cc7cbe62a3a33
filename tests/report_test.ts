// Reports: report() of every heap (open, closed, collected), writeReport, and LMM_REPORT written by
// the module itself at exit, on Deno.exit, on an uncaught error (subprocesses).
import assert from "node:assert/strict";
import { join } from "node:path";
import { Heap, report, REPORT_SCHEMA, REPORT_VERSION, writeReport } from "../mod.ts";
import { modelOf, recordsOf } from "./fixtures/cli/helpers.ts";
import type { ReportModel } from "../cli/model.ts";
import { repoPath, runDeno } from "./_helpers.ts";

const APP = repoPath("tests/fixtures/report/app.ts");

Deno.test("report(): open heaps, then heaps closed with live blocks; clean closed heaps left out", () => {
  using a = new Heap({ label: "report-a" });
  const b = new Heap({ label: "report-b" });
  b.allocBytes(24);
  b.close();
  const c = new Heap({ label: "report-c" });
  c.free(c.allocBytes(8));
  c.close();
  a.allocBytes(10);
  const heaps = report().heaps;
  const mine = heaps.filter((h) => h.label.startsWith("report-"));
  assert.deepEqual(mine.map((h) => [h.label, h.state, h.leaks.blocks]), [
    ["report-a", "open", 1],
    ["report-b", "closed", 1],
  ]);
  const closed = mine[1];
  assert.deepEqual(closed.pages, [], "a closed heap keeps its leaks, not its blocks");
  assert.equal(closed.leaks.bytes, 24);
  // No stacks and no report file: summarised from its statistics, its blocks not read.
  assert.deepEqual(closed.leaks.bySite.map((g) => [g.site, g.family, g.count, g.bytes]), [
    ["unknown", "bytes", 1, 24],
  ]);
  assert.deepEqual(closed.leaks.unsampled, { count: 1, bytes: 24 });
  const open = heaps.filter((h) => h.state === "open").map((h) => h.id);
  assert.deepEqual(open, [...open].sort((x, y) => x - y), "open heaps in creation order");
});

Deno.test("report(): a heap closed with stacks recorded is read in full before it goes", () => {
  {
    using tracked = new Heap({ label: "report-tracked", trackSites: "all" });
    const node = tracked.register("node_t", 16);
    const head = tracked.alloc(node);
    tracked.view(head).setBigUint64(0, BigInt(tracked.alloc(node)), true);
  }
  const heap = report().heaps.find((h) => h.label === "report-tracked")!;
  assert.equal(heap.state, "closed");
  assert.deepEqual([heap.leaks.direct.count, heap.leaks.indirect.count], [1, 1]);
  assert.ok(
    heap.leaks.bySite.every((g) => g.stack.length > 0 && /report_test\.ts:\d+$/.test(g.site)),
  );
});

Deno.test("writeReport: atomic, JSON Lines that lmm reads, no temp file left", () => {
  const dir = Deno.makeTempDirSync({ prefix: "lmm-report-" });
  try {
    using heap = new Heap({ label: "written", trackSites: "all" });
    heap.allocBytes(16);
    const path = join(dir, "report.jsonl");
    writeReport(path);
    const text = Deno.readTextFileSync(path);
    const [part] = recordsOf(text);
    assert.equal(part.type, "part");
    assert.ok(part.type === "part" && part.schema === REPORT_SCHEMA);
    assert.ok(part.type === "part" && part.version === REPORT_VERSION && part.reason === "write");
    const model = modelOf(text);
    const written = model.heaps.find((h) => h.heap.label === "written")!;
    assert.equal(written.leaks?.blocks, 1);
    assert.equal(written.blockCount, heap.stats().totals.totalBlocks);
    writeReport(path); // replaced, not appended
    assert.equal(recordsOf(Deno.readTextFileSync(path)).filter((r) => r.type === "part").length, 1);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["report.jsonl"]);
    assert.throws(() => writeReport(join(dir, "no/such/dir/r.jsonl")), Deno.errors.NotFound);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["report.jsonl"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

async function runApp(
  mode: string,
  flags: string[] = ["-A"],
): Promise<{ code: number; stdout: string; stderr: string; model: ReportModel | null }> {
  const dir = Deno.makeTempDirSync({ prefix: "lmm-exit-" });
  try {
    const path = join(dir, "report.jsonl");
    const result = await runDeno(["run", "--no-prompt", ...flags, APP, mode], {
      env: { LMM_REPORT: path },
    });
    let model: ReportModel | null = null;
    try {
      model = modelOf(Deno.readTextFileSync(path));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n !== "report.jsonl"),
      [],
    );
    return { ...result, model };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function assertLeakyReport(model: ReportModel | null, open: string[]): void {
  assert.ok(model !== null, "report written");
  assert.deepEqual(model.heaps.map((h) => [h.heap.label, h.heap.state]), [
    ...open.map((label) => [label, "open"]),
    ["closed", "closed"],
  ]);
  const leaky = model.heaps[0];
  assert.equal(leaky.leaks?.blocks, 2);
  assert.equal(leaky.leaks?.bytes, 72);
  assert.deepEqual(leaky.leaks?.byFamily.map((f) => [f.family, f.count, f.bytes]), [[
    "node_t",
    2,
    72,
  ]]);
  const sites = leaky.leaks!.byStack.map((g) => leaky.stacks.get(g.stackId)![0]);
  assert.deepEqual(sites.map((f) => `${f.file.replace(/^.*\//, "")}:${f.line}`), [
    "app.ts:7",
    "app.ts:8",
  ]);
  for (const heap of model.heaps.slice(1, open.length)) assert.equal(heap.leaks?.blocks, 0);
  const closed = model.heaps.at(-1)!;
  assert.deepEqual([closed.leaks?.blocks, closed.leaks?.bytes], [1, 100]);
  assert.ok(model.programs[0].argv.some((a) => a.endsWith("app.ts")));
}

Deno.test("LMM_REPORT: written at a normal exit, the closed heap's leak at its close", async () => {
  const { code, stdout, model } = await runApp("normal");
  assert.equal(code, 0);
  assert.equal(stdout, "done\n");
  // `using` closed the clean heap at the end of the module, before exit: nothing to report.
  assertLeakyReport(model, ["leaky"]);
});

Deno.test("LMM_REPORT: written when the program calls Deno.exit", async () => {
  const { code, stdout, model } = await runApp("exit");
  assert.equal(code, 3);
  assert.equal(stdout, "");
  assertLeakyReport(model, ["leaky", "clean"]);
});

Deno.test("LMM_REPORT: written when an uncaught error ends the program", async () => {
  const { code, stderr, model } = await runApp("throw");
  assert.equal(code, 1);
  assert.match(stderr, /Uncaught.*boom/);
  assertLeakyReport(model, ["leaky"]); // the throw left the module scope: `using` closed "clean"
});

Deno.test("LMM_REPORT: not read without env permission (and no prompt)", async () => {
  const { code, model, stderr } = await runApp("normal", [
    "--allow-ffi",
    "--allow-read",
    "--allow-write",
  ]);
  assert.equal(code, 0, stderr);
  assert.equal(model, null);
  assert.equal(stderr, "");
});

Deno.test("LMM_REPORT: without write permission, one line names the flag to add", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "lmm-exit-" });
  try {
    const path = join(dir, "report.jsonl");
    const result = await runDeno(
      ["run", "--no-prompt", "--allow-ffi", "--allow-env", "--allow-read", APP, "normal"],
      { env: { LMM_REPORT: path } },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stderr,
      `lmm: could not write the report to ${path} (LMM_REPORT): Deno was not given write access ` +
        `to it: run deno with --allow-write=${path} (or -A)\n`,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("LMM_REPORT: an unwritable path is a warning, not a crash", async () => {
  const result = await runDeno(["run", "-A", APP, "normal"], {
    env: { LMM_REPORT: "/nonexistent/dir/report.jsonl" },
  });
  assert.equal(result.code, 0);
  assert.match(
    result.stderr,
    /^lmm: could not write the report to \/nonexistent\/dir\/report\.jsonl \(LMM_REPORT\): No such file/,
  );
});
