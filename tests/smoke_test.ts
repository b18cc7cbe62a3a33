// Smoke test: the library loads, one block is allocated and freed.
import { ABI_VERSION } from "../ffi/native/abi.ts";
import assert from "node:assert/strict";
import { Heap, libraryInfo } from "../mod.ts";

Deno.test("smoke: load the library, allocate and free one block", () => {
  using heap = new Heap();
  const address = heap.allocBytes(64);
  assert.ok(address > 0);
  assert.equal(address % 16, 0);
  heap.free(address);
  heap.check();
  assert.equal(libraryInfo()?.abiVersion, ABI_VERSION);
});
