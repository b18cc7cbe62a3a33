// Reports: report() of all open heaps, writeReport, and LMM_REPORT at exit (subprocesses).
import assert from "node:assert/strict";
import { join } from "node:path";
import { Heap, type Report, report, REPORT_SCHEMA, REPORT_VERSION, writeReport } from "../mod.ts";
import { parseReport } from "../cli/report_file.ts";
import { repoPath, runDeno } from "./_helpers.ts";

const APP = repoPath("tests/fixtures/report/app.ts");

Deno.test("report(): every open heap, closed ones left out", () => {
  using a = new Heap({ label: "report-a" });
  const b = new Heap({ label: "report-b" });
  a.allocBytes(10);
  b.close();
  const labels = report().heaps.map((h) => h.label);
  assert.ok(labels.includes("report-a"));
  assert.ok(!labels.includes("report-b"));
  const ids = report().heaps.map((h) => h.id);
  assert.deepEqual(ids, [...ids].sort((x, y) => x - y), "in creation order");
});

Deno.test("the CLI's report reader accepts what the module writes", () => {
  using heap = new Heap({ label: "for-cli", trackSites: true });
  heap.register("emp_t", 36);
  heap.alloc("emp_t", 2);
  heap.free(heap.allocBytes(10));
  const written = JSON.stringify(heap.report());
  const parsed = parseReport(written, "heap.report()");
  assert.deepEqual(parsed, JSON.parse(written));
});

Deno.test("writeReport: atomic write, readable JSON, no temp file left", () => {
  const dir = Deno.makeTempDirSync({ prefix: "lmm-report-" });
  try {
    using heap = new Heap({ label: "written" });
    heap.allocBytes(16);
    const path = join(dir, "report.json");
    writeReport(path);
    const parsed = JSON.parse(Deno.readTextFileSync(path)) as Report;
    assert.equal(parsed.schema, REPORT_SCHEMA);
    assert.equal(parsed.version, REPORT_VERSION);
    assert.ok(parsed.heaps.some((h) => h.label === "written"));
    writeReport(path, heap.report()); // overwrite with one heap
    assert.equal((JSON.parse(Deno.readTextFileSync(path)) as Report).heaps.length, 1);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["report.json"]);
    assert.throws(() => writeReport(join(dir, "no/such/dir/r.json")), Deno.errors.NotFound);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["report.json"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

async function runApp(
  mode: string,
  flags: string[] = ["-A"],
): Promise<
  { code: number; stdout: string; stderr: string; report: Report | null; files: string[] }
> {
  const dir = Deno.makeTempDirSync({ prefix: "lmm-exit-" });
  try {
    const path = join(dir, "report.json");
    const result = await runDeno(["run", "--no-prompt", ...flags, APP, mode], {
      env: { LMM_REPORT: path },
    });
    let parsed: Report | null = null;
    try {
      parsed = JSON.parse(Deno.readTextFileSync(path));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return { ...result, report: parsed, files: [...Deno.readDirSync(dir)].map((e) => e.name) };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function assertLeakyReport(r: Report | null, labels: string[]): void {
  assert.ok(r !== null, "report written");
  assert.equal(r.schema, REPORT_SCHEMA);
  assert.deepEqual(r.heaps.map((h) => h.label), labels);
  const [leaky] = r.heaps;
  assert.equal(leaky.leaks.blocks, 2);
  assert.equal(leaky.leaks.bytes, 72);
  assert.deepEqual(leaky.leaks.byFamily, [{ family: "node_t", count: 2, bytes: 72 }]);
  assert.deepEqual(
    leaky.leaks.bySite.map((s) => s.site.replace(/^.*\//, "")),
    ["app.ts:7", "app.ts:8"],
  );
  for (const heap of r.heaps.slice(1)) assert.equal(heap.leaks.blocks, 0);
  assert.ok(r.program.argv.some((a) => a.endsWith("app.ts")));
}

Deno.test("LMM_REPORT: written at a normal exit", async () => {
  const { code, stdout, report, files } = await runApp("normal");
  assert.equal(code, 0);
  assert.equal(stdout, "done\n");
  // `using` closed the clean heap at the end of the module, before exit.
  assertLeakyReport(report, ["leaky"]);
  assert.deepEqual(files, ["report.json"], "no temp file left");
});

Deno.test("LMM_REPORT: written when the program calls Deno.exit", async () => {
  const { code, stdout, report } = await runApp("exit");
  assert.equal(code, 3);
  assert.equal(stdout, "");
  assertLeakyReport(report, ["leaky", "clean"]);
});

Deno.test("LMM_REPORT: written when an uncaught error ends the program", async () => {
  const { code, stderr, report } = await runApp("throw");
  assert.equal(code, 1);
  assert.match(stderr, /Uncaught.*boom/);
  assertLeakyReport(report, ["leaky"]); // the throw left the module scope: `using` closed "clean"
});

Deno.test("LMM_REPORT: not read without env permission (and no prompt)", async () => {
  const { code, report, stderr } = await runApp("normal", [
    "--allow-ffi",
    "--allow-read",
    "--allow-write",
  ]);
  assert.equal(code, 0, stderr);
  assert.equal(report, null);
});

Deno.test("LMM_REPORT: an unwritable path is a warning, not a crash", async () => {
  const result = await runDeno(["run", "-A", APP, "normal"], {
    env: { LMM_REPORT: "/nonexistent/dir/report.json" },
  });
  assert.equal(result.code, 0);
  assert.match(
    result.stderr,
    /lmm: could not write the report to \/nonexistent\/dir\/report\.json/,
  );
});
