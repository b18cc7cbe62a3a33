/**
 * Suite 4 — what the introspection calls cost as the heap grows:
 * `stats()`, `leaks()`, `blocks()` and `check()` on heaps of 1e3, 1e5 and
 * 1e6 live blocks. One group per call, the 1e3 heap as the baseline, so the
 * group summary reads as the growth factor (linear growth: 100× from 1e3
 * to 1e5, 10× from 1e5 to 1e6; a quadratic step would show as 10,000× and
 * 100×).
 *
 * Each heap holds three families (40, 72, 200 B) allocated in random order;
 * 20% of the blocks are freed again at random, so the pages also hold free
 * blocks, as a heap in use does. Heaps are built once, untimed, and
 * shared by the four calls.
 *
 * @module
 */

import { Heap } from "../mod.ts";
import { bench, random, sink, SMOKE } from "./_common.ts";

const SIZES: { label: string; live: number; n: number }[] = SMOKE
  ? [{ label: "1e2", live: 100, n: 1 }, { label: "1e3", live: 1000, n: 1 }]
  : [
    { label: "1e3", live: 1_000, n: 50 },
    { label: "1e5", live: 100_000, n: 10 },
    { label: "1e6", live: 1_000_000, n: 3 },
  ];

const heaps = new Map<number, Heap>();

/** The heap with `live` live blocks (built on first use). */
function heapOf(live: number): Heap {
  let heap = heaps.get(live);
  if (heap !== undefined) return heap;
  const t = performance.now();
  heap = new Heap();
  const families = [heap.register("s40", 40), heap.register("s72", 72), heap.register("s200", 200)];
  const draw = random(live);
  const total = Math.round(live * 1.25);
  const addresses = new Float64Array(total);
  for (let i = 0; i < total; i++) addresses[i] = heap.alloc(families[draw() % 3]);
  // Free a random 20%: a partial Fisher–Yates shuffle picks them.
  for (let i = 0; i < total - live; i++) {
    const j = i + draw() % (total - i);
    const a = addresses[j];
    addresses[j] = addresses[i];
    heap.free(a);
  }
  heaps.set(live, heap);
  console.error(
    `introspection: built a heap of ${live} live blocks in ${
      (performance.now() - t).toFixed(0)
    } ms`,
  );
  return heap;
}

const CALLS: { name: string; call: (heap: Heap) => unknown }[] = [
  { name: "stats()", call: (heap) => heap.stats() },
  { name: "leaks()", call: (heap) => heap.leaks() },
  { name: "blocks()", call: (heap) => heap.blocks() },
  { name: "check()", call: (heap) => heap.check() },
];

for (const { name, call } of CALLS) {
  for (const [i, { label, live, n }] of SIZES.entries()) {
    let heap: Heap;
    bench({
      name: `${label} live`,
      group: `${name} by live blocks`,
      baseline: i === 0,
      n,
      warmupMs: live >= 100_000 ? 0 : 100,
      setup(): void {
        heap = heapOf(live);
      },
      fn(): void {
        sink.value = call(heap);
      },
    });
  }
}

globalThis.addEventListener("unload", () => {
  for (const heap of heaps.values()) heap.close();
});
