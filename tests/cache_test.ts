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
