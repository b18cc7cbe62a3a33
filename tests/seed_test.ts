// The seed API and its text formats: golden outputs in tests/fixtures/seed/.
// Regenerate with UPDATE_GOLDEN=1 deno test -A tests/seed_test.ts (then read the diff).
import assert from "node:assert/strict";
import { Heap, type HeapReport, LmmError } from "../mod.ts";
import {
  formatBlockUsage,
  formatMemoryUsage,
  formatRegisteredPageFamilies,
  mmInit,
  mmPrintBlockUsage,
  mmPrintMemoryUsage,
  mmPrintRegisteredPageFamilies,
  mmRegStruct,
  xcalloc,
  xfree,
} from "../seed.ts";
import { repoPath, runDeno, throwsCode } from "./_helpers.ts";

const FIXTURES = repoPath("tests/fixtures/seed");
const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

function golden(name: string, actual: string): void {
  const path = `${FIXTURES}/${name}`;
  if (UPDATE) Deno.writeTextFileSync(path, actual);
  const expected = Deno.readTextFileSync(path);
  assert.equal(actual, expected, `${name} differs from its golden file`);
}

function state(heap: Heap): HeapReport {
  return heap.report().heaps[0];
}

/** The seed walkthrough on a private heap, every step through the pure formatters. */
function walkthrough(): string {
  using heap = new Heap({ pageSize: 4096, exact: true, label: "seed" });
  heap.register("emp_t", 36);
  heap.register("student_t", 56);
  const out: string[] = [formatRegisteredPageFamilies(state(heap))];
  const step = (title: string, family?: string): void => {
    const s = state(heap);
    out.push(
      `\n=== ${title}`,
      formatMemoryUsage(s, { family, maskAddresses: true }),
      formatBlockUsage(s),
    );
  };
  const emp = [heap.alloc("emp_t"), heap.alloc("emp_t"), heap.alloc("emp_t")];
  const students = [heap.alloc("student_t"), heap.alloc("student_t", 3)];
  step("3 emp_t, 1 + 3 student_t");
  heap.free(emp[0]);
  heap.free(students[0]);
  step("freed emp_t #1 and student_t #1", "emp_t");
  heap.free(emp[1]); // coalesces with the free neighbour
  step("freed emp_t #2: coalesced");
  const many = Array.from({ length: 60 }, () => heap.alloc("student_t"));
  step("60 more student_t: a second page");
  for (const p of many) heap.free(p);
  heap.free(emp[2]);
  step("freed them all: empty pages returned");
  const bytes = heap.allocBytes(100);
  step("100 untyped bytes: family 'bytes' appears");
  heap.free(bytes);
  heap.free(students[1]);
  step("empty heap");
  heap.check();
  return out.join("\n") + "\n";
}

Deno.test("golden: the seed walkthrough through the pure formatters", () => {
  const first = walkthrough();
  assert.equal(walkthrough(), first, "deterministic within a run");
  golden("walkthrough.txt", first);
});

Deno.test("golden: the seed test application through mmPrint* (subprocess, addresses masked)", async () => {
  const { code, stdout, stderr } = await runDeno(["run", "-A", `${FIXTURES}/print_demo.ts`]);
  assert.equal(code, 0, stderr);
  // Real addresses differ between runs: mask them at their printed width.
  const masked = stdout.replace(/0x[0-9a-f]{5,}/g, (a) => "0x" + "?".repeat(a.length - 2));
  golden("print_demo.txt", masked);
});

Deno.test("formats: the seed's line shapes", () => {
  using heap = new Heap({ pageSize: 4096, exact: true });
  heap.register("emp_t", 36);
  const a = heap.alloc("emp_t");
  heap.alloc("emp_t");
  heap.alloc("emp_t");
  heap.free(a);
  const s = state(heap);
  assert.equal(formatRegisteredPageFamilies(s), "Page Family : emp_t, Size = 36");
  const usage = formatBlockUsage(s);
  assert.match(usage, /^emp_t {18}TBC : 4 {7}FBC : 2 {7}OBC : 2 {4}AppMemUsage : \d+$/);
  // AppMemUsage is the app bytes (2 live emp_t × 36), the same figure as the report's appBytes.
  assert.ok(usage.endsWith("AppMemUsage : 72"), usage);
  assert.equal(s.families.find((f) => f.name === "emp_t")?.appBytes, 72);
  const memory = formatMemoryUsage(s);
  const lines = memory.split("\n");
  assert.equal(lines[0], "");
  assert.equal(lines[1], "Page Size = 4096 Bytes");
  assert.equal(lines[2], "vm_page_family : emp_t, struct size = 36");
  assert.equal(lines[3], "\t\t next = (nil), prev = (nil)");
  assert.equal(lines[4], "\t\t page family = emp_t");
  assert.match(
    lines[5],
    /^\t\t\t0x[0-9a-f]+ +Block 0 {3}F R E E D {2}block_size = 40 +offset = \d+ +prev = \(nil\) +next = 0x[0-9a-f]+$/,
  );
  assert.match(lines[6], /Block 1 {3}ALLOCATED {2}block_size = 40 /);
  assert.equal(lines.at(-2), "# Of VM Pages in Use : 1 (4096 Bytes)");
  assert.equal(lines.at(-1), "Total Memory being used by Memory Manager = 4096 Bytes");
  assert.ok(
    memory.includes(
      `0x${(parseInt(s.pages[0].base, 16) + s.pages[0].blocks[1].offset).toString(16)}`,
    ),
  );
  // A family filter shows that family only; an unknown one shows none.
  heap.register("other_t", 8);
  heap.alloc("other_t");
  const filtered = formatMemoryUsage(state(heap), { family: "other_t" });
  assert.ok(!filtered.includes("emp_t"));
  assert.match(filtered, /# Of VM Pages in Use : 1 \(4096 Bytes\)/);
  assert.match(
    formatMemoryUsage(state(heap), { family: "nope" }),
    /# Of VM Pages in Use : 0 \(0 Bytes\)/,
  );
});

Deno.test("seed API on the default heap", () => {
  const heap = mmInit();
  assert.equal(mmInit(), heap, "idempotent");
  assert.equal(heap.pageSize, 4096);
  assert.equal(heap.label, "default");
  const family = mmRegStruct("seed_test_emp_t", 36);
  assert.equal(heap.family("seed_test_emp_t"), family);
  const p = xcalloc("seed_test_emp_t", 2);
  assert.equal(heap.blockInfo(p).requested, 72);
  const q = xcalloc("seed_test_emp_t");
  assert.equal(heap.blockInfo(q).units, 1);
  xfree(p);
  throwsCode(() => xfree(p), "DOUBLE_FREE");
  throwsCode(() => xcalloc("seed_test_nope_t", 1), "UNKNOWN_FAMILY");
  throwsCode(() => mmRegStruct("seed_test_emp_t", 36), "DUPLICATE_NAME");
  throwsCode(() => xcalloc("seed_test_emp_t", NaN), "BAD_SIZE");

  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]): void => {
    printed.push(args.join(" "));
  };
  try {
    mmPrintRegisteredPageFamilies();
    mmPrintBlockUsage();
    mmPrintMemoryUsage("seed_test_emp_t");
  } finally {
    console.log = log;
  }
  assert.equal(printed.length, 3);
  assert.match(printed[0], /^Page Family : seed_test_emp_t, Size = 36$/m);
  assert.match(printed[1], /^seed_test_emp_t +TBC : 3 +FBC : 2 +OBC : 1 +AppMemUsage : \d+$/m);
  assert.match(printed[2], /vm_page_family : seed_test_emp_t, struct size = 36/);
  xfree(q);
  heap.check();

  // Closing the default heap is allowed; mmInit makes a new one.
  heap.close();
  const again = mmInit({ label: "second" });
  assert.notEqual(again, heap);
  assert.equal(again.label, "second");
  assert.ok(again.families().every((f) => !f.name.startsWith("seed_test")));
  assert.ok(new LmmError("CLOSED", "x") instanceof Error);
  again.close();
});
