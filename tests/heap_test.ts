// Every method of Heap, through the real library.
import assert from "node:assert/strict";
import { Heap, REPORT_SCHEMA, REPORT_VERSION } from "../mod.ts";
import { metaBlockSize } from "../ffi/report.ts";
import { repoPath, runDeno, throwsCode } from "./_helpers.ts";

const THIS_FILE = new URL(import.meta.url).pathname;

Deno.test("new Heap: defaults and options", () => {
  using a = new Heap();
  assert.equal(a.pageSize, 64 * 1024);
  assert.equal(a.trackSites, false);
  assert.equal(a.label, "");
  assert.equal(a.closed, false);
  using b = new Heap({ pageSize: 4096, pageCache: 0, trackSites: true, label: "b" });
  assert.equal(b.pageSize, 4096);
  assert.equal(b.trackSites, true);
  assert.equal(b.label, "b");
  assert.ok(b.id > a.id);
  const p = b.allocBytes(10);
  assert.equal(b.blocks()[0].size, 4096);
  b.free(p);
  assert.equal(b.stats().totals.pages, 0, "pageCache 0 returns empty pages at once");
  for (const pageSize of [0, 1000, 2048, 4097, 2 ** 31, NaN, -4096, 4096.5]) {
    throwsCode(() => new Heap({ pageSize }), "BAD_CONFIG");
  }
  for (const pageCache of [-1, 1.5, NaN, 2 ** 32]) {
    throwsCode(() => new Heap({ pageCache }), "BAD_CONFIG");
  }
});

Deno.test("register, family, families", () => {
  using heap = new Heap();
  const bytes = heap.family("bytes");
  assert.deepEqual({ ...bytes }, { id: 0, name: "bytes", structSize: 1 });
  const emp = heap.register("emp_t", 36);
  const stu = heap.register("student_t", 100);
  assert.deepEqual({ ...emp }, { id: 1, name: "emp_t", structSize: 36 });
  assert.equal(stu.id, 2);
  assert.equal(heap.family("emp_t"), emp);
  assert.deepEqual(heap.families(), [bytes, emp, stu]);
  assert.ok(Object.isFrozen(emp));
  const longest = heap.register("x".repeat(63), 1);
  assert.equal(longest.name.length, 63);
  const unicode = heap.register("närhet_t", 8);
  assert.equal(heap.family("närhet_t"), unicode);
  const big = heap.register("big_t", 0xffff_ffff);
  assert.equal(big.structSize, 0xffff_ffff);
});

Deno.test("alloc: by family or name, zeroed, aligned, default one unit", () => {
  using heap = new Heap();
  const emp = heap.register("emp_t", 36);
  const a = heap.alloc(emp);
  const b = heap.alloc("emp_t", 3);
  // 36 is not a multiple of 16: 8-byte aligned, all a C struct of 36 bytes can need.
  assert.equal(a % 8, 0);
  assert.equal(b % 8, 0);
  assert.equal(heap.allocBytes(1) % 16, 0);
  assert.equal(heap.blockInfo(a).requested, 36);
  assert.equal(heap.blockInfo(b).requested, 108);
  assert.equal(heap.blockInfo(b).units, 3);
  // Dirty a block, free it, allocate again: calloc semantics.
  heap.bytes(b).fill(0xab);
  heap.free(b);
  const c = heap.alloc(emp, 3);
  assert.ok(heap.bytes(c).every((x) => x === 0));
  heap.check();
});

Deno.test("allocBytes: untyped memory, small requests in their size class", () => {
  using heap = new Heap();
  const p = heap.allocBytes(1);
  const q = heap.allocBytes(100_000); // larger than a page
  assert.equal(heap.familyOf(p).name, "bytes"); // kept in the 16-byte size class of "bytes"
  assert.equal(heap.familyOf(q).name, "bytes"); // beyond 4 KiB: worst fit, exact size
  assert.deepEqual(heap.families().map((f) => f.name), ["bytes"]); // classes are not listed
  assert.ok(heap.stats().families.some((f) => f.name === "bytes/16")); // but counted
  assert.ok(heap.blocks().some((page) => page.family.name === "bytes/16")); // pages say where
  using exact = new Heap({ exact: true });
  assert.equal(exact.familyOf(exact.allocBytes(1)).name, "bytes");
  assert.equal(heap.blockInfo(q).requested, 100_000);
  heap.bytes(q)[99_999] = 7;
  assert.equal(heap.bytes(q)[99_999], 7);
  heap.free(p);
  heap.free(q);
  heap.check();
});

Deno.test("realloc: keeps contents, zeroes the growth, may move", () => {
  using heap = new Heap();
  const node = heap.register("node_t", 24);
  let p = heap.alloc(node, 2);
  const blocker = heap.alloc(node); // so that growing in place is not possible
  heap.bytes(p).fill(0x5a);
  p = heap.realloc(p, 50);
  const bytes = heap.bytes(p);
  assert.equal(heap.blockInfo(p).requested, 50 * 24);
  assert.ok(bytes.subarray(0, 48).every((x) => x === 0x5a));
  assert.ok(bytes.subarray(48, 50 * 24).every((x) => x === 0));
  p = heap.realloc(p, 1); // shrink
  assert.equal(heap.blockInfo(p).requested, 24);
  assert.ok(heap.bytes(p).subarray(0, 24).every((x) => x === 0x5a));
  assert.equal(heap.familyOf(p), node);
  assert.equal(heap.stats().families[node.id].reallocCount, 2);
  heap.free(p);
  heap.free(blocker);
  heap.check();
});

Deno.test("free: blocks come back, pages are returned", () => {
  using heap = new Heap({ pageCache: 0 });
  const ps = Array.from({ length: 10 }, () => heap.allocBytes(100));
  assert.equal(heap.stats().totals.occupiedBlocks, 10);
  for (const p of ps) heap.free(p);
  const { totals } = heap.stats();
  assert.equal(totals.occupiedBlocks, 0);
  assert.equal(totals.freeCount, 10);
  assert.equal(totals.pages, 0);
  assert.equal(totals.pagesReturned, totals.pagesTaken);
  heap.check();
});

Deno.test("owns: live block starts only", () => {
  using heap = new Heap();
  const p = heap.allocBytes(32);
  assert.equal(heap.owns(p), true);
  assert.equal(heap.owns(p + 16), false);
  assert.equal(heap.owns(NaN), false);
  assert.equal(heap.owns(-1), false);
  assert.equal(heap.owns(0), false);
  heap.free(p);
  assert.equal(heap.owns(p), false);
});

Deno.test("bytes, view, pointer, sizeOf, familyOf, blockInfo", () => {
  using heap = new Heap({ trackSites: true });
  const pair = heap.register("pair_t", 8);
  const [p, line] = [heap.alloc(pair, 2), currentLine()];
  const info = heap.blockInfo(p);
  assert.equal(info.requested, 16);
  assert.equal(info.units, 2);
  assert.equal(info.family, pair);
  assert.ok(info.size >= 16);
  assert.equal(info.site, `${sitePath()}:${line}`);

  const size = heap.sizeOf(p);
  assert.ok(size >= 16 && size <= info.size, `sizeOf ${size}`);
  const bytes = heap.bytes(p);
  assert.equal(bytes.length, size);
  const view = heap.view(p);
  assert.equal(view.byteLength, size);
  view.setUint32(0, 0xdeadbeef, true);
  view.setFloat64(8, Math.PI, true);
  assert.deepEqual([...bytes.subarray(0, 4)], [0xef, 0xbe, 0xad, 0xde]);
  assert.equal(heap.view(p).getFloat64(8, true), Math.PI);

  const pointer = heap.pointer(p);
  assert.equal(Deno.UnsafePointer.value(pointer), BigInt(p));
  assert.equal(new Deno.UnsafePointerView(pointer!).getUint32(0), 0xdeadbeef);
  assert.equal(heap.familyOf(p), pair);
  heap.free(p);
});

Deno.test("stats: totals and per family", () => {
  using heap = new Heap();
  const emp = heap.register("emp_t", 36);
  const stu = heap.register("student_t", 100);
  const a = heap.alloc(emp, 3);
  heap.alloc(emp, 1);
  heap.alloc(stu, 2);
  heap.free(a);
  const { totals, families } = heap.stats();
  assert.deepEqual(families.map((f) => f.name), ["bytes", "emp_t", "student_t"]);
  const e = families[emp.id];
  assert.equal(e.structSize, 36);
  assert.equal(e.appBytes, 36);
  assert.equal(e.peakBytes, 144);
  assert.equal(e.occupiedBlocks, 1);
  assert.equal(e.totalBlocks, e.freeBlocks + e.occupiedBlocks);
  assert.equal(e.pages, 1);
  assert.equal(e.allocCount, 2);
  assert.equal(e.freeCount, 1);
  assert.ok(e.largestFreeBlock > 0);
  assert.ok(e.externalFragmentation >= 0 && e.externalFragmentation < 1);
  assert.equal(
    e.externalFragmentation,
    e.freeBytes === 0 ? 0 : 1 - e.largestFreeBlock / e.freeBytes,
  );
  assert.equal(totals.families, 3);
  assert.equal(totals.appBytes, 36 + 200);
  assert.equal(totals.pages, 2);
  assert.equal(totals.bytesMapped, 2 * 64 * 1024);
  assert.equal(totals.bytesMapped, totals.headerBytes + totals.occupiedBytes + totals.freeBytes);
  assert.equal(totals.occupiedBlocks, 2);
  assert.equal(totals.pagesTaken, 2);
  for (const key of ["hardFragBytes", "softFragBlocks", "softFragBytes", "cachedPages"] as const) {
    assert.equal(typeof totals[key], "number");
  }
});

Deno.test("blocks: pages with their blocks, filtered by family", () => {
  using heap = new Heap({ pageSize: 4096 });
  const emp = heap.register("emp_t", 36);
  heap.register("other_t", 10);
  const a = heap.alloc(emp);
  const b = heap.alloc(emp);
  heap.alloc("other_t");
  heap.free(a);
  const all = heap.blocks();
  assert.equal(all.length, 2);
  const pages = heap.blocks(emp);
  assert.deepEqual(heap.blocks("emp_t"), pages);
  assert.equal(pages.length, 1);
  const [page] = pages;
  assert.equal(page.family, emp);
  assert.equal(page.size, 4096);
  assert.deepEqual(page.blocks.map((x) => x.free), [true, false, true]);
  assert.equal(page.blocks[1].address, b);
  assert.equal(page.blocks[1].requested, 36);
  assert.equal(page.blocks[0].requested, 0);
  assert.equal(page.freeBlocks, 2);
  let end = page.blocks[0].offset;
  for (const block of page.blocks) {
    assert.equal(block.address, page.base + block.offset);
    assert.equal(block.offset, end, "blocks are contiguous, one meta block apart");
    end = block.offset + block.size + metaBlockSize();
  }
  assert.equal(end - metaBlockSize(), page.size);
  assert.equal(page.largestFree, Math.max(...page.blocks.filter((x) => x.free).map((x) => x.size)));
});

Deno.test("leaks: by family, and by site with trackSites", () => {
  using tracked = new Heap({ trackSites: true });
  tracked.register("node_t", 24);
  const n1 = tracked.alloc("node_t");
  const [, line2] = [tracked.alloc("node_t", 2), currentLine()];
  const line3 = currentLine() + 1;
  for (let i = 0; i < 3; i++) tracked.allocBytes(10);
  tracked.free(n1);
  const leaks = tracked.leaks();
  assert.equal(leaks.blocks, 4);
  assert.equal(leaks.bytes, 48 + 30);
  const none = { count: 0, bytes: 0 };
  assert.deepEqual(leaks.byFamily, [
    { family: "node_t", count: 1, bytes: 48, indirect: none },
    { family: "bytes", count: 3, bytes: 30, indirect: none },
  ]);
  // Grouped by the whole stack: the loop's three allocations are one group.
  assert.deepEqual(leaks.bySite.map((s) => [s.site, s.family, s.kind, s.count, s.bytes]), [
    [`${sitePath()}:${line2}`, "node_t", "direct", 1, 48],
    [`${sitePath()}:${line3}`, "bytes", "direct", 3, 30],
  ]);
  assert.match(leaks.bySite[0].stack[0], new RegExp(`^${sitePath()}:${line2}:\\d+$`));
  assert.deepEqual(leaks.unsampled, none);

  using plain = new Heap({ trackSites: false });
  plain.allocBytes(5);
  plain.allocBytes(7);
  assert.deepEqual(plain.leaks().bySite.map((s) => [s.site, s.stack, s.family, s.count, s.bytes]), [
    ["unknown", [], "bytes", 2, 12],
  ]);
  assert.deepEqual(plain.leaks().unsampled, { count: 2, bytes: 12 });
  assert.equal(plain.blocks()[0].blocks[0].site, null);
});

Deno.test("check, trim", () => {
  using heap = new Heap({ pageCache: 4 });
  const ps = Array.from({ length: 3 }, () => heap.allocBytes(60_000));
  heap.check();
  for (const p of ps) heap.free(p);
  const before = heap.stats().totals;
  assert.equal(before.occupiedBlocks, 0);
  assert.ok(before.cachedPages > 0 && before.cachedPages <= 3);
  heap.trim();
  const after = heap.stats().totals;
  assert.equal(after.cachedPages, 0);
  assert.equal(after.cachedBytes, 0);
  assert.equal(after.pages, 0);
  heap.check();
});

Deno.test("report: one heap, versioned, consistent with stats and blocks", () => {
  using heap = new Heap({ label: "r", trackSites: true, pageSize: 4096 });
  const emp = heap.register("emp_t", 36);
  const [a, line] = [heap.alloc(emp, 2), currentLine()];
  heap.allocBytes(10);
  heap.free(heap.alloc(emp));
  const report = heap.report();
  assert.equal(report.schema, REPORT_SCHEMA);
  assert.equal(report.version, REPORT_VERSION);
  assert.ok(!Number.isNaN(Date.parse(report.generatedAt)));
  assert.equal(report.program.pid, Deno.pid);
  assert.match(report.program.runtime, /^deno /);
  assert.equal(report.heaps.length, 1);
  const [h] = report.heaps;
  assert.equal(h.id, heap.id);
  assert.equal(h.label, "r");
  assert.equal(h.pageSize, 4096);
  assert.equal(h.trackSites, true);
  assert.equal(h.metaBlockSize, metaBlockSize());
  const { fragmentation, ...totals } = h.totals;
  assert.deepEqual(totals, heap.stats().totals);
  assert.equal(fragmentation.holes, totals.freeBlocks);
  assert.deepEqual(h.families.map(({ fragmentation: _, ...f }) => f), heap.stats().families);
  assert.equal(h.pages.length, 2);
  const page = h.pages.find((p) => p.family === emp.id)!;
  assert.match(page.base, /^0x[0-9a-f]+$/);
  assert.equal(parseInt(page.base, 16) + page.blocks[0].offset, a);
  assert.equal(page.blocks[0].site, `${sitePath()}:${line}`);
  assert.equal(h.leaks.blocks, 2);
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report, "plain JSON");
});

Deno.test("metaBlockSize: measured once, a multiple of 16", () => {
  const size = metaBlockSize();
  assert.ok(size > 0 && size % 16 === 0, `meta block ${size}`);
  assert.equal(metaBlockSize(), size);
});

Deno.test("close: safe twice, Symbol.dispose, closed getter", () => {
  const heap = new Heap();
  heap.allocBytes(10);
  heap.close();
  assert.equal(heap.closed, true);
  heap.close();
  let disposed: Heap;
  {
    using inner = new Heap();
    disposed = inner;
    inner.allocBytes(1);
  }
  assert.equal(disposed.closed, true);
  throwsCode(() => disposed.allocBytes(1), "CLOSED");
});

Deno.test("finalizer: an unreachable heap is destroyed, its pages unmapped (subprocess)", async () => {
  const { code, stdout, stderr } = await runDeno([
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    repoPath("tests/fixtures/finalizer/app.ts"),
  ]);
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), {
    before: true,
    after: false,
    open: 0,
    collected: [["forgotten", 1]],
  });
});

/** How sites name this file: relative to the working directory when below it. */
function sitePath(): string {
  const cwd = Deno.cwd().replace(/\/?$/, "/");
  return THIS_FILE.startsWith(cwd) ? THIS_FILE.slice(cwd.length) : THIS_FILE;
}

/** The line number of the caller. */
function currentLine(): number {
  const frame = new Error().stack!.split("\n")[2];
  return Number(/:(\d+):\d+\)?$/.exec(frame)![1]);
}

Deno.test("stats: heap external fragmentation weighs families by free bytes", () => {
  using heap = new Heap({ pageSize: 4096 });
  const a = heap.register("a_t", 40);
  const b = heap.register("b_t", 72);
  const keep = [heap.alloc(a, 3), heap.alloc(b, 2)];
  const holes = [heap.alloc(a, 1), heap.alloc(a, 5), heap.alloc(b, 1)];
  heap.free(holes[0]); // a hole between two used blocks of a_t
  const { totals, families } = heap.stats();
  const fam = families.filter((f) => f.freeBytes > 0);
  const largest = fam.reduce((s, f) => s + f.largestFreeBlock, 0);
  assert.equal(totals.externalFragmentation, 1 - largest / totals.freeBytes);
  assert.ok(totals.externalFragmentation < 1 - totals.largestFreeBlock / totals.freeBytes);
  for (const p of [...keep, holes[1], holes[2]]) heap.free(p);
  heap.check();
});
