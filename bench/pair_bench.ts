/**
 * Suite 1 — one allocation and its free, at once, repeated: the fast-path
 * floor at 16 B, 256 B, 4 KiB, 64 KiB and 1 MiB.
 *
 * Per size one group (its name says how many pairs one iteration does):
 * - `libc malloc+free` (baseline): glibc through `Deno.dlopen`, BigInt size,
 *   pointer result (its FFI fast path);
 * - `libc calloc+free`: the same with zeroing, which LMM always does;
 * - `lmm allocBytes+free`: the product, `Heap.allocBytes` then `Heap.free`;
 * - `lmm raw FFI`: the same two C calls without mod.ts's argument checks;
 * - `new Uint8Array`: a fresh JS buffer each time, left to the GC.
 *
 * LMM hands out zeroed memory (calloc semantics), malloc does not, and a
 * Uint8Array is zero-filled by V8: for large blocks zeroing is most of the
 * cost, hence the calloc row. Nothing writes into the FFI blocks: a
 * write from JS would need a view, which costs more than the pair.
 *
 * @module
 */

import { Heap } from "../mod.ts";
import { bench, libc, type RawLmm, rawLmm, scale, sink } from "./_common.ts";

const SIZES: { label: string; bytes: number; pairs: number }[] = [
  { label: "16 B", bytes: 16, pairs: 1000 },
  { label: "256 B", bytes: 256, pairs: 1000 },
  { label: "4 KiB", bytes: 4096, pairs: 1000 },
  { label: "64 KiB", bytes: 65536, pairs: 100 },
  { label: "1 MiB", bytes: 1048576, pairs: 10 },
];

let heap: Heap | undefined;
let raw: RawLmm | undefined;

for (const { label, bytes, pairs: full } of SIZES) {
  const pairs = scale(full, 2);
  const group = `pair ${label} (×${pairs})`;
  const big = BigInt(bytes);
  // Large blocks: a shorter warm-up, the code is warm from the small sizes.
  const warmupMs = bytes >= 65536 ? 50 : 200;

  bench({
    name: "libc malloc+free",
    group,
    baseline: true,
    warmupMs,
    fn(): void {
      const { malloc, free } = libc();
      for (let i = 0; i < pairs; i++) free(malloc(big));
    },
  });

  bench({
    name: "libc calloc+free",
    group,
    warmupMs,
    fn(): void {
      const { calloc, free } = libc();
      for (let i = 0; i < pairs; i++) free(calloc(1n, big));
    },
  });

  bench({
    name: "lmm allocBytes+free",
    group,
    warmupMs,
    setup(): void {
      heap ??= new Heap();
    },
    fn(): void {
      const h = heap!;
      for (let i = 0; i < pairs; i++) h.free(h.allocBytes(bytes));
    },
  });

  bench({
    name: "lmm raw FFI",
    group,
    warmupMs,
    setup(): void {
      raw ??= rawLmm();
    },
    fn(): void {
      const r = raw!;
      for (let i = 0; i < pairs; i++) r.free(r.alloc(bytes));
    },
  });

  bench({
    name: "new Uint8Array",
    group,
    warmupMs,
    fn(): void {
      let sum = 0;
      for (let i = 0; i < pairs; i++) {
        const a = new Uint8Array(bytes);
        a[0] = i;
        sum += a[0];
        sink.value = a;
      }
      sink.sum += sum;
    },
  });
}

globalThis.addEventListener("unload", () => {
  heap?.check();
  heap?.close();
  raw?.close();
});
