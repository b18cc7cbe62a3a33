// Every bad input of issue 3: its own LmmError code, and the heap passes check() after.
import assert from "node:assert/strict";
import { Heap, LmmError } from "../mod.ts";
import { STATUS_COUNT, statusCode, statusError, unwrap } from "../ffi/errors.ts";
import { lib } from "../ffi/native/loader.ts";
import { throwsCode, throwsCodeAndIntact } from "./_helpers.ts";

/** A heap with a few live and free blocks, so that errors hit a busy heap. */
function busyHeap(): { heap: Heap; live: number[]; freed: number } {
  const heap = new Heap();
  heap.register("emp_t", 36);
  const live = [heap.alloc("emp_t"), heap.alloc("emp_t", 2), heap.allocBytes(100)];
  const freed = heap.alloc("emp_t");
  heap.alloc("emp_t"); // keeps the freed block's page in use
  heap.free(freed);
  return { heap, live, freed };
}

Deno.test("double free → DOUBLE_FREE (free, realloc, sizeOf, bytes…)", () => {
  const { heap, freed } = busyHeap();
  using _ = heap;
  const e = throwsCodeAndIntact(heap, () => heap.free(freed), "DOUBLE_FREE");
  assert.equal(e.status, 13);
  assert.match(e.message, new RegExp(`free\\(0x${freed.toString(16)}\\)`));
  throwsCodeAndIntact(heap, () => heap.realloc(freed, 2), "DOUBLE_FREE");
  throwsCodeAndIntact(heap, () => heap.sizeOf(freed), "DOUBLE_FREE");
  throwsCodeAndIntact(heap, () => heap.bytes(freed), "DOUBLE_FREE");
  throwsCodeAndIntact(heap, () => heap.familyOf(freed), "DOUBLE_FREE");
  throwsCodeAndIntact(heap, () => heap.blockInfo(freed), "DOUBLE_FREE");
  throwsCodeAndIntact(heap, () => heap.pointer(freed), "DOUBLE_FREE");
});

Deno.test("an address never given out → NOT_OWNED", () => {
  const { heap } = busyHeap();
  using _ = heap;
  const foreign = new Uint8Array(64);
  const jsAddress = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(foreign)));
  for (const address of [jsAddress, 4096, 16, 2 ** 47 - 16]) {
    const e = throwsCodeAndIntact(heap, () => heap.free(address), "NOT_OWNED");
    assert.equal(e.status, 11);
    throwsCodeAndIntact(heap, () => heap.realloc(address, 1), "NOT_OWNED");
    throwsCodeAndIntact(heap, () => heap.view(address), "NOT_OWNED");
    throwsCodeAndIntact(heap, () => heap.sizeOf(address), "NOT_OWNED");
  }
});

Deno.test("an interior address → INTERIOR", () => {
  const { heap, live } = busyHeap();
  using _ = heap;
  for (const offset of [1, 8, 16, 35]) {
    const e = throwsCodeAndIntact(heap, () => heap.free(live[1] + offset), "INTERIOR");
    assert.equal(e.status, 12);
  }
  throwsCodeAndIntact(heap, () => heap.realloc(live[0] + 16, 3), "INTERIOR");
  throwsCodeAndIntact(heap, () => heap.bytes(live[2] + 32), "INTERIOR");
  throwsCodeAndIntact(heap, () => heap.pointer(live[2] + 32), "INTERIOR");
  assert.equal(heap.owns(live[1]), true, "the block is untouched");
});

Deno.test("an address from another heap → FOREIGN_HEAP", () => {
  const { heap: a } = busyHeap();
  const { heap: b, live: bLive, freed: bFreed } = busyHeap();
  using _a = a;
  using _b = b;
  const e = throwsCodeAndIntact(a, () => a.free(bLive[0]), "FOREIGN_HEAP");
  assert.equal(e.status, 11);
  assert.match(e.message, new RegExp(`heap #${b.id}`));
  throwsCodeAndIntact(a, () => a.realloc(bLive[1], 5), "FOREIGN_HEAP");
  throwsCodeAndIntact(a, () => a.sizeOf(bLive[2]), "FOREIGN_HEAP");
  throwsCodeAndIntact(a, () => a.bytes(bLive[2]), "FOREIGN_HEAP");
  throwsCodeAndIntact(a, () => a.familyOf(bLive[2]), "FOREIGN_HEAP");
  throwsCodeAndIntact(a, () => a.free(bLive[1] + 16), "FOREIGN_HEAP"); // interior of b's block
  throwsCodeAndIntact(a, () => a.free(bFreed), "FOREIGN_HEAP"); // freed in b
  b.check();
  assert.equal(b.owns(bLive[0]), true, "b's block is untouched");
  // A family object of another heap.
  const bEmp = b.family("emp_t");
  throwsCodeAndIntact(a, () => a.alloc(bEmp), "FOREIGN_HEAP");
  throwsCodeAndIntact(a, () => a.blocks(bEmp), "FOREIGN_HEAP");
  // Once b is closed its addresses are nobody's.
  b.close();
  throwsCodeAndIntact(a, () => a.free(bLive[0]), "NOT_OWNED");
});

Deno.test("bad units: NaN, negative, fractional, infinite → BAD_SIZE; 0 → ZERO_SIZE; too many → OVERFLOW", () => {
  const { heap, live } = busyHeap();
  using _ = heap;
  const emp = heap.family("emp_t");
  const badSize = [NaN, -1, -0.5, 1.5, 2.000001, Infinity, -Infinity, "3", null, 2n];
  for (const units of badSize) {
    const u = units as number;
    throwsCodeAndIntact(heap, () => heap.alloc(emp, u), "BAD_SIZE");
    throwsCodeAndIntact(heap, () => heap.allocBytes(u), "BAD_SIZE");
    throwsCodeAndIntact(heap, () => heap.realloc(live[0], u), "BAD_SIZE");
  }
  throwsCodeAndIntact(heap, () => heap.alloc(emp, 0), "ZERO_SIZE");
  throwsCodeAndIntact(heap, () => heap.allocBytes(0), "ZERO_SIZE");
  throwsCodeAndIntact(heap, () => heap.realloc(live[0], 0), "ZERO_SIZE");
  assert.equal(heap.blockInfo(live[0]).units, 1, "a failed realloc leaves the block");
  const tooMany = [2 ** 46, Math.floor(2 ** 46 / 36) + 1, 2 ** 53, 2 ** 60, 1e300];
  for (const units of tooMany) {
    throwsCodeAndIntact(heap, () => heap.alloc(emp, units), "OVERFLOW");
    throwsCodeAndIntact(heap, () => heap.realloc(live[0], units), "OVERFLOW");
  }
  throwsCodeAndIntact(heap, () => heap.allocBytes(2 ** 46 + 1), "OVERFLOW");
  throwsCodeAndIntact(heap, () => heap.allocBytes(1e300), "OVERFLOW");
  assert.equal(heap.stats().totals.occupiedBlocks, 4);
});

Deno.test("bad addresses: NaN, negative, fractional, infinite, 0 → BAD_ADDRESS", () => {
  const { heap, live } = busyHeap();
  using _ = heap;
  for (const address of [NaN, -16, live[0] + 0.5, Infinity, -Infinity, 2 ** 53, 0, "1"]) {
    const a = address as number;
    const e = throwsCodeAndIntact(heap, () => heap.free(a), "BAD_ADDRESS");
    assert.equal(e.status, 18);
    throwsCodeAndIntact(heap, () => heap.realloc(a, 1), "BAD_ADDRESS");
    throwsCodeAndIntact(heap, () => heap.bytes(a), "BAD_ADDRESS");
    throwsCodeAndIntact(heap, () => heap.view(a), "BAD_ADDRESS");
    throwsCodeAndIntact(heap, () => heap.pointer(a), "BAD_ADDRESS");
    throwsCodeAndIntact(heap, () => heap.sizeOf(a), "BAD_ADDRESS");
    throwsCodeAndIntact(heap, () => heap.familyOf(a), "BAD_ADDRESS");
    throwsCodeAndIntact(heap, () => heap.blockInfo(a), "BAD_ADDRESS");
  }
});

Deno.test("unknown family → UNKNOWN_FAMILY", () => {
  const { heap } = busyHeap();
  using _ = heap;
  const e = throwsCodeAndIntact(heap, () => heap.alloc("nope_t"), "UNKNOWN_FAMILY");
  assert.equal(e.status, 4);
  assert.match(e.message, /nope_t/);
  throwsCodeAndIntact(heap, () => heap.family("nope_t"), "UNKNOWN_FAMILY");
  throwsCodeAndIntact(heap, () => heap.blocks("nope_t"), "UNKNOWN_FAMILY");
  const fake = { id: 1, name: "emp_t", structSize: 36 }; // looks right, was not made by the heap
  throwsCodeAndIntact(heap, () => heap.alloc(fake), "UNKNOWN_FAMILY");
  throwsCodeAndIntact(
    heap,
    () => heap.alloc({ id: 99, name: "x", structSize: 1 }),
    "UNKNOWN_FAMILY",
  );
  throwsCodeAndIntact(heap, () => heap.alloc(undefined as unknown as string), "UNKNOWN_FAMILY");
  throwsCodeAndIntact(heap, () => heap.alloc(1 as unknown as string), "UNKNOWN_FAMILY");
});

Deno.test("family names: duplicate, empty, over-long, control bytes", () => {
  const { heap } = busyHeap();
  using _ = heap;
  const dup = throwsCodeAndIntact(heap, () => heap.register("emp_t", 8), "DUPLICATE_NAME");
  assert.equal(dup.status, 5);
  throwsCodeAndIntact(heap, () => heap.register("bytes", 8), "DUPLICATE_NAME");
  throwsCodeAndIntact(heap, () => heap.register("", 8), "BAD_NAME");
  throwsCodeAndIntact(heap, () => heap.register("a\0b", 8), "BAD_NAME");
  throwsCodeAndIntact(heap, () => heap.register("tab\there", 8), "BAD_NAME");
  throwsCodeAndIntact(heap, () => heap.register("del\x7f", 8), "BAD_NAME");
  throwsCodeAndIntact(heap, () => heap.register(42 as unknown as string, 8), "BAD_NAME");
  const long = throwsCodeAndIntact(heap, () => heap.register("x".repeat(64), 8), "NAME_TOO_LONG");
  assert.equal(long.status, 6);
  // 32 two-byte characters: 64 bytes of UTF-8, though only 32 UTF-16 units.
  throwsCodeAndIntact(heap, () => heap.register("é".repeat(32), 8), "NAME_TOO_LONG");
  assert.equal(heap.families().length, 2, "nothing was registered");
});

Deno.test("structure sizes: 0 → ZERO_SIZE; NaN, negative, fractional → BAD_SIZE; ≥ 2^32 → OVERFLOW", () => {
  const { heap } = busyHeap();
  using _ = heap;
  const zero = throwsCodeAndIntact(heap, () => heap.register("z_t", 0), "ZERO_SIZE");
  assert.equal(zero.status, 8);
  for (const size of [NaN, -8, 8.5, Infinity, "8"]) {
    throwsCodeAndIntact(heap, () => heap.register("s_t", size as number), "BAD_SIZE");
  }
  throwsCodeAndIntact(heap, () => heap.register("o_t", 2 ** 32), "OVERFLOW");
  assert.equal(heap.families().length, 2, "nothing was registered");
});

Deno.test("use after close → CLOSED, for every method", () => {
  const heap = new Heap();
  const emp = heap.register("emp_t", 36);
  const p = heap.alloc(emp);
  heap.close();
  const calls: [string, () => unknown][] = [
    ["register", () => heap.register("x_t", 1)],
    ["family", () => heap.family("emp_t")],
    ["families", () => heap.families()],
    ["alloc", () => heap.alloc(emp)],
    ["alloc by name", () => heap.alloc("emp_t")],
    ["allocBytes", () => heap.allocBytes(1)],
    ["realloc", () => heap.realloc(p, 2)],
    ["free", () => heap.free(p)],
    ["owns", () => heap.owns(p)],
    ["bytes", () => heap.bytes(p)],
    ["view", () => heap.view(p)],
    ["pointer", () => heap.pointer(p)],
    ["sizeOf", () => heap.sizeOf(p)],
    ["familyOf", () => heap.familyOf(p)],
    ["blockInfo", () => heap.blockInfo(p)],
    ["stats", () => heap.stats()],
    ["blocks", () => heap.blocks()],
    ["leaks", () => heap.leaks()],
    ["check", () => heap.check()],
    ["trim", () => heap.trim()],
    ["report", () => heap.report()],
  ];
  for (const [name, call] of calls) {
    const e = throwsCode(call, "CLOSED");
    assert.equal(e.status, 3, name);
  }
  heap.close(); // still fine
});

Deno.test("the engine validates doubles again (lmm_*_f64 on a raw handle)", () => {
  const S = lib();
  const out = new BigUint64Array(1);
  unwrap(S.lmm_heap_create(null, new Uint8Array(out.buffer)));
  const h = Deno.UnsafePointer.create(out[0])!;
  try {
    for (const units of [NaN, -1, 1.5, Infinity]) {
      assert.equal(S.lmm_alloc_f64(h, 0, units, 0), -10);
    }
    assert.equal(S.lmm_alloc_f64(h, 0, 0, 0), -8);
    assert.equal(S.lmm_alloc_f64(h, 0, 1e300, 0), -9);
    assert.equal(S.lmm_alloc_f64(h, 77, 1, 0), -4);
    const a = S.lmm_alloc_f64(h, 0, 10, 0);
    assert.ok(a > 0);
    for (const addr of [NaN, -16, a + 0.5, Infinity, 2 ** 53]) {
      assert.equal(S.lmm_free_f64(h, addr), -18);
      assert.equal(S.lmm_validate_f64(h, addr), -18);
      assert.equal(S.lmm_size_f64(h, addr), -18);
      assert.equal(S.lmm_family_of_f64(h, addr), -18);
      assert.equal(S.lmm_realloc_f64(h, addr, 1), -18);
    }
    assert.equal(S.lmm_free_f64(h, a + 16), -11); // inside the free remainder: never given out
    assert.equal(S.lmm_realloc_f64(h, a, NaN), -10);
    assert.equal(S.lmm_free_f64(h, a), 0);
    assert.equal(S.lmm_check(h, null, 0), 0);
  } finally {
    assert.equal(S.lmm_heap_destroy(h), 0);
  }
  // A stale handle: DESTROYED, never a crash.
  assert.equal(S.lmm_alloc_f64(h, 0, 1, 0), -3);
  assert.equal(S.lmm_heap_destroy(h), 3);
});

Deno.test("status codes agree with the library's lmm_status_name", () => {
  const S = lib();
  assert.equal(STATUS_COUNT, 22);
  for (let status = 1; status < STATUS_COUNT; status++) {
    const name = Deno.UnsafePointerView.getCString(S.lmm_status_name(status)!);
    assert.equal(`LMM_E_${statusCode(status)}`, name);
    const message = Deno.UnsafePointerView.getCString(S.lmm_status_message(status)!);
    assert.ok(message.length > 0);
  }
  assert.equal(statusCode(STATUS_COUNT), "UNKNOWN");
  assert.equal(statusCode(-1), "UNKNOWN");
  const e = statusError(13, "ctx");
  assert.ok(e instanceof LmmError && e instanceof Error);
  assert.equal(e.message.startsWith("ctx: "), true);
  unwrap(0);
  assert.throws(
    () => unwrap(16),
    (x: unknown) => x instanceof LmmError && x.code === "BUFFER_TOO_SMALL",
  );
});
