// The TypeScript tier (ffi/cache.ts): small blocks allocated and freed without a native call,
// with the same answers as the engine's — zeroed memory, exact statistics, every misuse caught.
import assert from "node:assert/strict";
import { Heap } from "../mod.ts";
import { throwsCodeAndIntact } from "./_helpers.ts";

Deno.test("a freed block is reused at once, zeroed, and the statistics stay exact", () => {
  using heap = new Heap();
  const rec = heap.register("rec_t", { id: "u32", score: "f64" });
  const a = heap.alloc(rec);
  rec.write(a, { id: 7, score: 1.5 });
  heap.free(a);
  const b = heap.alloc(rec);
  assert.equal(b, a, "the newest freed block comes back first");
  assert.deepEqual(rec.read(b), { id: 0, score: 0 });
  const n = heap.allocBytes(100);
  assert.equal(heap.sizeOf(n), 100);
  assert.equal(heap.bytes(n).length, 100);
  assert.ok(heap.bytes(n).every((x) => x === 0));
  const { totals, families } = heap.stats();
  assert.equal(totals.occupiedBlocks, 2);
  assert.equal(totals.appBytes, 16 + 100);
  assert.equal(families[rec.id].allocCount, 2);
  assert.equal(families[rec.id].freeCount, 1);
  assert.equal(families[rec.id].peakBytes, 16);
  heap.check();
});

Deno.test("frees past a full stack after the counts were read: returned blocks keep the statistics exact", () => {
  // A stack that fills gives half back to the engine; the frees that filled
  // it must be applied first (this failed with lmm_front_settle's
  // INVALID_ARG once more than a stack of blocks was freed after a read).
  using heap = new Heap();
  const rec = heap.register("r24", 24);
  const blocks: number[] = [];
  for (let i = 0; i < 5000; i++) blocks.push(heap.alloc(rec));
  assert.equal(heap.stats().totals.appBytes, 5000 * 24);
  // In address order: returned blocks merge with each other.
  for (let i = 0; i < 2500; i++) heap.free(blocks[i]);
  heap.check();
  const half = heap.stats();
  assert.equal(half.totals.appBytes, 2500 * 24);
  assert.equal(half.totals.occupiedBlocks, 2500);
  for (let i = 2500; i < 5000; i++) heap.free(blocks[i]);
  const { totals, families } = heap.stats();
  assert.equal(totals.appBytes, 0);
  assert.equal(totals.occupiedBlocks, 0);
  assert.equal(families[rec.id].freeCount, 5000);
  assert.equal(families[rec.id].peakBytes, 5000 * 24);
  heap.check();
  heap.trim();
  assert.equal(heap.stats().totals.pages, 0);
});

Deno.test("misuse of a block the tier handed out: double free, interior, foreign — caught", () => {
  using heap = new Heap();
  using other = new Heap();
  const a = heap.allocBytes(40);
  throwsCodeAndIntact(heap, () => heap.free(a + 8), "INTERIOR");
  throwsCodeAndIntact(heap, () => other.free(a), "FOREIGN_HEAP");
  heap.free(a);
  throwsCodeAndIntact(heap, () => heap.free(a), "DOUBLE_FREE");
  throwsCodeAndIntact(heap, () => heap.sizeOf(a), "DOUBLE_FREE");
  throwsCodeAndIntact(heap, () => heap.realloc(a, 10), "DOUBLE_FREE");
  // Data that looks like a held meta block but was not sealed for its address is refused.
  const b = heap.allocBytes(64);
  heap.bytes(b).set(new Uint8Array(heap.memory.bytes.buffer, a - 16 - heap.memory.base, 16), 16);
  throwsCodeAndIntact(heap, () => heap.free(b + 32), "INTERIOR");
  heap.free(b);
});

Deno.test("realloc of a block the tier handed out: in place within its size, else moved", () => {
  using heap = new Heap();
  const a = heap.allocBytes(20); // the 32-byte class
  heap.bytes(a).fill(9);
  const same = heap.realloc(a, 30);
  assert.equal(same, a, "still the 32-byte class: in place");
  assert.deepEqual([...heap.bytes(same)], [...new Array(20).fill(9), ...new Array(10).fill(0)]);
  const moved = heap.realloc(same, 500);
  assert.notEqual(moved, same);
  assert.deepEqual([...heap.bytes(moved).subarray(0, 20)], new Array(20).fill(9));
  assert.ok(heap.bytes(moved).subarray(20).every((x) => x === 0));
  assert.equal(heap.stats().totals.appBytes, 500);
  heap.free(moved);
  heap.check();
});

Deno.test("leaks, blocks and reports see the tier's blocks as what they are", () => {
  using heap = new Heap();
  const node = heap.register("node_t", 24);
  const kept = [heap.alloc(node), heap.alloc(node), heap.allocBytes(10)];
  heap.free(heap.alloc(node));
  const leaks = heap.leaks();
  assert.equal(leaks.blocks, 3);
  assert.deepEqual(leaks.byFamily.map((f) => [f.family, f.count]), [["node_t", 2], ["bytes", 1]]);
  const live = heap.blocks().flatMap((p) => p.blocks).filter((b) => !b.free);
  assert.deepEqual(live.map((b) => b.address).sort(), [...kept].sort());
  for (const a of kept) heap.free(a);
  assert.equal(heap.leaks().blocks, 0);
  heap.trim();
  assert.equal(heap.stats().totals.pages, 0);
});

Deno.test("an exact heap serves everything from worst fit, block for block", () => {
  using heap = new Heap({ exact: true, pageSize: 4096 });
  const a = heap.allocBytes(16);
  const b = heap.allocBytes(16);
  heap.free(a);
  heap.free(b);
  // Both merged back into the page's one free block, which went back to the kernel.
  assert.equal(heap.stats().totals.pages, 0);
  assert.equal(heap.families().length, 1);
});

Deno.test("a resize in place, the only change since the figures were read, is in the next ones", () => {
  using heap = new Heap();
  using fresh = new Heap(); // the same block asked for at its new size at once
  const a = heap.allocBytes(20); // the 32-byte class
  assert.equal(heap.stats().totals.appBytes, 20);
  assert.equal(heap.realloc(a, 30), a, "in place");
  fresh.allocBytes(30);
  const got = heap.stats().totals;
  const want = fresh.stats().totals;
  assert.equal(got.appBytes, 30);
  assert.equal(got.peakBytes, 30);
  assert.equal(got.hardFragBytes, want.hardFragBytes);
  assert.equal(got.occupiedBytes, want.occupiedBytes);
  heap.check();
});

Deno.test("a reused block is zeroed whole, small ones word by word and large ones with fill()", () => {
  using heap = new Heap();
  const big = heap.register("big_t", 1000);
  const m = heap.memory;
  const cases: [string, () => number][] = [16, 200, 368, 384, 400, 1024, 4096].map((n) => [
    `allocBytes(${n})`,
    () => heap.allocBytes(n),
  ]);
  cases.push(["alloc(big_t)", () => heap.alloc(big)]);
  for (const [what, alloc] of cases) {
    const p = alloc();
    const at = p - m.base;
    const size = heap.blockInfo(p).size; // the whole block, past the bytes asked for
    m.bytes.fill(0xab, at, at + size);
    heap.free(p);
    const q = alloc();
    assert.equal(q, p, `${what}: the same block again`);
    assert.ok(m.bytes.subarray(at, at + size).every((x) => x === 0), `${what}: zeroed`);
    heap.free(q);
  }
  heap.check();
});

Deno.test("a look-alike of a served family's object is not the family", () => {
  using heap = new Heap();
  const emp = heap.register("emp_t", 36);
  heap.free(heap.alloc(emp)); // its lane has blocks
  const fake = { id: emp.id, name: emp.name, structSize: emp.structSize };
  throwsCodeAndIntact(heap, () => heap.alloc(fake), "UNKNOWN_FAMILY");
  assert.equal(heap.stats().totals.occupiedBlocks, 0);
});
