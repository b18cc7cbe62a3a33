// Issue 12, finding 1 as a Deno program meets it: bytes written past a block land in the next
// meta block. The engine used to follow the damaged header on the next allocBytes (SIGSEGV); now
// that call throws CORRUPTED and the heap is poisoned.
import assert from "node:assert/strict";
import { Heap } from "../mod.ts";
import { throwsCode } from "./_helpers.ts";

Deno.test("a write past a block: the next alloc is CORRUPTED, later calls POISONED; stats answer, close frees", () => {
  // The worst-fit heap itself: the next allocation carves the damaged free tail.
  const heap = new Heap({ exact: true });
  const a = heap.allocBytes(32); // its successor is the page's free tail
  // 52 bytes from the block's start, through a raw buffer as another FFI library would write.
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(heap.pointer(a)!, 52)).fill(0xee, 32);
  const found = throwsCode(() => heap.allocBytes(100), "CORRUPTED");
  assert.match(found.message, /integrity check/);
  throwsCode(() => heap.allocBytes(100), "POISONED");
  throwsCode(() => heap.free(a), "POISONED");
  throwsCode(() => heap.realloc(a, 64), "POISONED");
  throwsCode(() => heap.blockInfo(a), "POISONED");
  throwsCode(() => heap.blocks(), "POISONED");
  throwsCode(() => heap.trim(), "POISONED");
  const checked = throwsCode(() => heap.check(), "POISONED");
  assert.match(checked.message, /integrity check/, "check says what was found");
  assert.equal(heap.owns(a), false);
  const { totals } = heap.stats(); // counters live outside the arena
  assert.equal(totals.appBytes, 32);
  assert.equal(totals.occupiedBlocks, 1);
  heap.close();
  assert.equal(heap.closed, true);
});

Deno.test("a write past a block the TypeScript tier handed out: found at the neighbour's free, then POISONED", () => {
  const heap = new Heap();
  const a = heap.allocBytes(32);
  const b = heap.allocBytes(32);
  assert.equal(b, a + 48, "the tier hands out the lower address first: b follows a");
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(heap.pointer(a)!, 52)).fill(0xee, 32);
  const found = throwsCode(() => heap.free(b), "CORRUPTED");
  assert.match(found.message, /integrity check|overwritten/);
  throwsCode(() => heap.allocBytes(32), "POISONED"); // the tier serves no more
  throwsCode(() => heap.free(a), "POISONED");
  throwsCode(() => heap.check(), "POISONED");
  assert.equal(heap.stats().totals.poisoned, true);
  heap.close();
  assert.equal(heap.closed, true);
});

Deno.test("a write past a block into a block the tier holds: its next alloc hands nothing damaged out", () => {
  const heap = new Heap();
  const a = heap.allocBytes(32); // the lowest of the lane's blocks: the next one follows it
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(heap.pointer(a)!, 52)).fill(0xee, 32);
  throwsCode(() => heap.allocBytes(32), "POISONED");
  throwsCode(() => heap.check(), "POISONED");
  heap.close();
});
