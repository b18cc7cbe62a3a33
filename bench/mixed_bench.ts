/**
 * Suite 2 — the mixed workload: 10,000 live blocks, then random free+alloc
 * of 8–512 B: free a random live block, allocate a random size in its
 * place. One op is one free plus one allocation.
 *
 * The live set is built once per peer (untimed); a script of 1,000,000
 * (slot, size) draws is made once and shared by every peer, so they all
 * do the same work. One iteration runs the next 100,000 ops of the script
 * (wrapping round), and at least 10 iterations are timed: ≥ 1e6 ops.
 *
 * Peers: `libc malloc+free` (baseline, through dlopen on its fast path),
 * `lmm allocBytes+free` (mod.ts), `lmm raw FFI` (LMM's C ABI without the
 * module's checks), `new Uint8Array` (the live set as JS buffers, the old
 * one dropped for the GC).
 *
 * @module
 */

import { Heap } from "../mod.ts";
import { bench, libc, random, type RawLmm, rawLmm, scale, sink } from "./_common.ts";

const LIVE = scale(10_000, 100);
const SCRIPT = scale(1_000_000, 1000);
const OPS = scale(100_000, 100);
const MIN = 8;
const SPAN = 505; // sizes 8..512

const group = `mixed 10k live, 8–512 B (×${OPS})`;

// The script: which slot to replace and with what size, the same for all.
const draw = random(0x5eed);
const slots = new Uint32Array(SCRIPT);
const sizes = new Uint32Array(SCRIPT);
for (let i = 0; i < SCRIPT; i++) {
  slots[i] = draw() % LIVE;
  sizes[i] = MIN + draw() % SPAN;
}
const initial = new Uint32Array(LIVE);
for (let i = 0; i < LIVE; i++) initial[i] = MIN + draw() % SPAN;
const bigSizes: bigint[] = [];
for (let s = 0; s < MIN + SPAN; s++) bigSizes.push(BigInt(s));

/** A cursor into the script, one per peer. */
function cursor(): { at: number } {
  return { at: 0 };
}

{
  const live: (Deno.PointerValue)[] = [];
  const c = cursor();
  bench({
    name: "libc malloc+free",
    group,
    baseline: true,
    n: 10,
    setup(): void {
      const { malloc } = libc();
      for (let i = 0; i < LIVE; i++) live.push(malloc(bigSizes[initial[i]]));
    },
    fn(): void {
      const { malloc, free } = libc();
      let at = c.at;
      for (let k = 0; k < OPS; k++) {
        const j = slots[at];
        free(live[j]);
        live[j] = malloc(bigSizes[sizes[at]]);
        if (++at === SCRIPT) at = 0;
      }
      c.at = at;
    },
  });
}

let heap: Heap | undefined;
{
  const live = new Float64Array(LIVE);
  const c = cursor();
  bench({
    name: "lmm allocBytes+free",
    group,
    n: 10,
    setup(): void {
      heap = new Heap();
      for (let i = 0; i < LIVE; i++) live[i] = heap.allocBytes(initial[i]);
    },
    fn(): void {
      const h = heap!;
      let at = c.at;
      for (let k = 0; k < OPS; k++) {
        const j = slots[at];
        h.free(live[j]);
        live[j] = h.allocBytes(sizes[at]);
        if (++at === SCRIPT) at = 0;
      }
      c.at = at;
    },
  });
}

let raw: RawLmm | undefined;
{
  const live = new Float64Array(LIVE);
  const c = cursor();
  bench({
    name: "lmm raw FFI",
    group,
    n: 10,
    setup(): void {
      raw = rawLmm();
      for (let i = 0; i < LIVE; i++) live[i] = raw.alloc(initial[i]);
    },
    fn(): void {
      const r = raw!;
      let at = c.at;
      for (let k = 0; k < OPS; k++) {
        const j = slots[at];
        r.free(live[j]);
        live[j] = r.alloc(sizes[at]);
        if (++at === SCRIPT) at = 0;
      }
      c.at = at;
    },
  });
}

{
  const live: Uint8Array[] = [];
  const c = cursor();
  bench({
    name: "new Uint8Array",
    group,
    n: 10,
    setup(): void {
      for (let i = 0; i < LIVE; i++) live.push(new Uint8Array(initial[i]));
    },
    fn(): void {
      let at = c.at;
      let sum = 0;
      for (let k = 0; k < OPS; k++) {
        const a = new Uint8Array(sizes[at]);
        a[0] = k;
        sum += a[0];
        live[slots[at]] = a;
        if (++at === SCRIPT) at = 0;
      }
      c.at = at;
      sink.sum += sum;
    },
  });
}

globalThis.addEventListener("unload", () => {
  heap?.check();
  heap?.close();
  raw?.close();
});
