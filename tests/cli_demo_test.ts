// `lmm demo`: the seed's walkthrough through the real library. Skipped, visibly, when the
// library has not been built.
import assert from "node:assert/strict";
import type { Report } from "../ffi/report_types.ts";
import { LIBRARY, libraryBuilt, lmm } from "./fixtures/cli/helpers.ts";

const built = libraryBuilt();
if (!built) console.log(`SKIP cli_demo_test: ${LIBRARY} is not built (deno task build)`);

/** The OBC (occupied blocks) of each family after each scenario. */
function occupied(text: string): Record<string, number[]> {
  const obc: Record<string, number[]> = {};
  for (const m of text.matchAll(/^(\w+) +TBC : \d+ +FBC : \d+ +OBC : (\d+) +AppMemUsage/gm)) {
    (obc[m[1]] ??= []).push(Number(m[2]));
  }
  return obc;
}

Deno.test({
  name: "lmm demo: families, three scenarios, memory and block usage in the seed's format",
  ignore: !built,
  async fn(): Promise<void> {
    const r = await lmm(["demo"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^Page Family : emp_t, Size = 36\nPage Family : student_t, Size = 56\n/);
    const scenarios = [...r.stdout.matchAll(/^SCENARIO (\d) : \*+ $/gm)].map((m) => m[1]);
    assert.deepEqual(scenarios, ["1", "2", "3"]);
    assert.match(r.stdout, /^ {2}emp1 = xcalloc\("emp_t", 1\);$/m);
    assert.match(r.stdout, /^ {2}xfree\(stud2\);$/m);
    assert.match(r.stdout, /^Page Size = 4096 Bytes$/m);
    assert.match(r.stdout, /^vm_page_family : student_t, struct size = 56$/m);
    // emp_t is 36 bytes, not a multiple of 16: its blocks are 8-byte aligned, 40 bytes.
    assert.match(r.stdout, /\t0x[0-9a-f]+ +Block 0 +ALLOCATED +block_size = 40 /);
    assert.match(r.stdout, /F R E E D/);
    assert.deepEqual(occupied(r.stdout), { emp_t: [3, 1, 0], student_t: [2, 1, 0] });
    assert.match(r.stdout, /# Of VM Pages in Use : \d+ \(\d+ Bytes\)\n(.*\n){3}$/);
  },
});

Deno.test({
  name: "lmm demo --units 1000: the large-allocation variant",
  ignore: !built,
  async fn(): Promise<void> {
    const r = await lmm(["demo", "--units", "1000"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /emp1 = xcalloc\("emp_t", 1000\);/);
    // 36,000 bytes do not fit a 4 KiB page: a large page of 9 OS pages holds
    // one block of 9 × 4096 − 48 (page header) − 16 (meta block) bytes.
    assert.match(r.stdout, /ALLOCATED +block_size = 36800 /);
    assert.deepEqual(occupied(r.stdout), { emp_t: [3, 1, 0], student_t: [2, 1, 0] });
  },
});

Deno.test({
  name: "lmm demo --json: one report per step",
  ignore: !built,
  async fn(): Promise<void> {
    const r = await lmm(["demo", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const { steps } = JSON.parse(r.stdout) as {
      steps: { title: string; actions: string[]; report: Report }[];
    };
    assert.deepEqual(steps.map((s) => s.title), ["SCENARIO 1", "SCENARIO 2", "SCENARIO 3"]);
    assert.deepEqual(steps.map((s) => s.report.heaps[0].totals.occupiedBlocks), [5, 2, 0]);
    assert.deepEqual(steps[1].actions, ["xfree(emp1)", "xfree(emp3)", "xfree(stud2)"]);
  },
});

Deno.test("lmm demo with a library that cannot be loaded: one line, exit 1", async () => {
  const r = await lmm(["demo"], { env: { LMM_LIB: "/nonexistent/liblmm.so" } });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^lmm: could not load the LMM library \/nonexistent\/liblmm\.so/);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1);
});
