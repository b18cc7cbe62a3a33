/**
 * Suite 3 — the families workload: three structures (40, 72 and 200 B)
 * allocated zeroed in bursts of 1–32 of one kind, then a random number
 * (0 … burst) of random live blocks freed; the live set is capped at 20,000
 * (a random block is freed to make room). LMM allocates from three
 * registered families (`heap.alloc(family)`), libc with `calloc(1, size)`
 * through dlopen (the baseline).
 *
 * One script of operations is drawn once and shared by both peers. It ends
 * by freeing everything still live, so it can be replayed round and round:
 * over a whole run every allocation is freed, and one iteration (100,000
 * operations of the script) is 50,000 alloc+free pairs on average.
 *
 * @module
 */

import { type Family, Heap } from "../mod.ts";
import { bench, libc, random, scale } from "./_common.ts";

const STRUCTS = [40, 72, 200];
const CAP = scale(20_000, 50);
const ALLOCS = scale(400_000, 500);
const OPS = scale(100_000, 100);

const group = `families 40/72/200 B (×${OPS / 2})`;

/** The script: a negative entry allocates family -entry (1..3), else frees live[entry]. */
function makeScript(): Int32Array {
  const draw = random(0xfa111e5);
  const ops: number[] = [];
  let n = 0;
  let allocs = 0;
  while (allocs < ALLOCS) {
    const burst = 1 + draw() % 32;
    const f = 1 + draw() % 3;
    for (let k = 0; k < burst && allocs < ALLOCS; k++, allocs++) {
      if (n === CAP) {
        ops.push(draw() % n);
        n--;
      }
      ops.push(-f);
      n++;
    }
    const frees = draw() % (burst + 1);
    for (let k = 0; k < frees && n > 0; k++) {
      ops.push(draw() % n);
      n--;
    }
  }
  while (n > 0) ops.push(--n);
  return Int32Array.from(ops);
}

const script = makeScript();

{
  const live: Deno.PointerValue[] = new Array(CAP).fill(null);
  const sizes = STRUCTS.map(BigInt);
  let at = 0;
  let n = 0;
  bench({
    name: "libc calloc+free",
    group,
    baseline: true,
    n: 10,
    fn(): void {
      const { calloc, free } = libc();
      for (let k = 0; k < OPS; k++) {
        const op = script[at];
        if (op < 0) live[n++] = calloc(1n, sizes[-op - 1]);
        else {
          free(live[op]);
          live[op] = live[--n];
        }
        if (++at === script.length) at = 0;
      }
    },
  });
}

let heap: Heap | undefined;
{
  const live = new Float64Array(CAP);
  const families: Family[] = [];
  let at = 0;
  let n = 0;
  bench({
    name: "lmm families",
    group,
    n: 10,
    setup(): void {
      heap = new Heap();
      families.push(heap.family("bytes")); // index 0 unused: families are 1..3
      STRUCTS.forEach((size, i) => families.push(heap!.register(`s${size}_${i}`, size)));
    },
    fn(): void {
      const h = heap!;
      for (let k = 0; k < OPS; k++) {
        const op = script[at];
        if (op < 0) live[n++] = h.alloc(families[-op]);
        else {
          h.free(live[op]);
          live[op] = live[--n];
        }
        if (++at === script.length) at = 0;
      }
    },
  });
}

globalThis.addEventListener("unload", () => {
  heap?.check();
  heap?.close();
});
