// Allocation stacks: the byte-weighted sampler (its probabilities and estimates, with a seeded
// random source), the structured capture (own frames dropped, depth), and the per-heap tracker
// (deferred resolution, frees noticed through the engine, realloc moves).
import assert from "node:assert/strict";
import { Heap } from "../mod.ts";
import {
  currentStack,
  DEFAULT_SAMPLE_INTERVAL,
  sampleProbability,
  Sampler,
  SiteTracker,
  type StackFrame,
  stackFrames,
} from "../ffi/sites.ts";
import { parseSites } from "../ffi/report/options.ts";
import { prng, throwsCode } from "./_helpers.ts";

Deno.test("Sampler: warm-up first, then each allocation with probability 1 − e^(−s/interval)", () => {
  const sampler = new Sampler(65536, 3, prng(1));
  assert.deepEqual([1, 2, 3].map(() => sampler.take(8)), [1, 1, 1], "the warm-up takes all");
  for (const size of [64, 1024, 65536, 4 * 65536]) {
    const s = new Sampler(65536, 0, prng(size));
    const p = sampleProbability(size, 65536);
    const n = Math.min(2_000_000, Math.ceil(20_000 / p));
    // Four standard deviations of the sample count (the random source is seeded: no flakes).
    const tolerance = 4 / Math.sqrt(n * p);
    let taken = 0;
    let weights = 0;
    for (let i = 0; i < n; i++) {
      const w = s.take(size);
      if (w > 0) {
        taken++;
        weights += w;
        assert.ok(Math.abs(w - 1 / sampleProbability(size, 65536)) < 1e-9);
      }
    }
    assert.ok(Math.abs(taken / (n * p) - 1) < tolerance, `size ${size}: ${taken / n} vs ${p}`);
    // Σ weights estimates the number of allocations: unbiased.
    assert.ok(Math.abs(weights / n - 1) < tolerance, `size ${size}: estimate ${weights} of ${n}`);
  }
});

Deno.test("Sampler: a site that leaks B bytes is missed with probability e^(−B/interval)", () => {
  // 2000 runs of a site leaking 16 blocks of 4 KiB (B = 64 KiB = the interval): missed ≈ 1/e.
  let missed = 0;
  for (let run = 0; run < 2000; run++) {
    const s = new Sampler(65536, 0, prng(run + 7));
    // Other allocations before it, so the site starts at a random point of the process.
    for (let i = 0; i < 37; i++) s.take(1000);
    let seen = false;
    for (let i = 0; i < 16; i++) if (s.take(4096) > 0) seen = true;
    if (!seen) missed++;
  }
  assert.ok(Math.abs(missed / 2000 - Math.exp(-1)) < 0.04, `missed ${missed / 2000}`);
  assert.ok(sampleProbability(1 << 20, DEFAULT_SAMPLE_INTERVAL) > 0.9999998);
});

Deno.test("currentStack: structured frames, this package's frames dropped, depth kept", () => {
  function inner(depth: number): StackFrame[] {
    return currentStack(depth);
  }
  function outer(depth: number): StackFrame[] {
    return inner(depth);
  }
  const frames = outer(8);
  assert.deepEqual(frames.slice(0, 2).map((f) => f.fn), ["inner", "outer"]);
  assert.match(frames[0].file, /(^|\/)tests\/sites_test\.ts$/);
  assert.ok(frames.every((f) => !f.file.includes("ffi/")), "no frame of ffi/");
  assert.ok(frames.every((f) => !f.file.startsWith("ext:")), "no runtime frame");
  assert.equal(outer(1).length, 1);
  assert.equal(outer(1)[0].fn, "inner");
});

Deno.test("SiteTracker: stacks of live blocks; captures of freed blocks dropped unresolved", () => {
  const live = new Set<number>();
  let asked = 0;
  const tracker = new SiteTracker({ mode: "all", depth: 4 }, 9, (a) => {
    asked++;
    return live.has(a);
  }, 1000);
  function allocate(address: number): void {
    assert.equal(tracker.sample(16), 9);
    tracker.record(address);
    live.add(address);
  }
  for (let i = 1; i <= 5000; i++) {
    allocate(i * 16);
    if (i % 10 !== 0) live.delete(i * 16); // 9 in 10 freed at once
  }
  // Five batches of 1000 were flushed: each asked about its captures, resolved the survivors.
  assert.equal(asked, 5000);
  const survivor = tracker.stackOfLive(10 * 16)!;
  assert.equal(stackFrames(survivor.stack)[0].fn, "allocate");
  assert.equal(survivor.weight, 1);
  assert.equal(tracker.stackOf(11 * 16), null, "freed: forgotten");
  // realloc: the stack follows the block.
  tracker.moved(20 * 16, 99_999 * 16);
  live.delete(20 * 16);
  live.add(99_999 * 16);
  assert.equal(tracker.stackOf(99_999 * 16)?.stack, survivor.stack);
  assert.equal(tracker.stackOf(20 * 16), null);
});

Deno.test("SiteTracker modes: none never records, sample records a weighted sample", () => {
  const none = new SiteTracker({ mode: "none" }, 0, () => true);
  assert.equal(none.sample(1 << 20), 0);
  const sampled = new SiteTracker({ mode: "sample", interval: 1 }, 5, () => true);
  assert.equal(sampled.sample(4096), 5, "an allocation far larger than the interval is sampled");
});

Deno.test("heap stacks: alloc, allocBytes, realloc keep the allocating stack", () => {
  using heap = new Heap({ trackSites: "all", stackDepth: 3 });
  const node = heap.register("node_t", 16);
  function make(): number {
    return heap.alloc(node);
  }
  function grow(p: number): number {
    return heap.realloc(p, 4096);
  }
  const a = make();
  const moved = grow(a);
  heap.allocBytes(8);
  const sites = heap.leaks().bySite;
  assert.equal(sites.length, 2);
  assert.match(sites[0].stack[0], /^make \(/, "the moved block keeps the stack of its allocation");
  assert.equal(sites[0].examples[0][0], moved);
  assert.ok(sites.every((s) => s.stack.length <= 3));
  assert.match(heap.blockInfo(moved).site!, /sites_test\.ts:\d+$/);
});

Deno.test("trackSites options: modes, depth, interval and their errors", () => {
  using sampled = new Heap({ trackSites: "sample", sampleInterval: 4096, stackDepth: 2 });
  assert.equal(sampled.trackSites, true);
  assert.equal(sampled.report().heaps[0].sites?.interval, 4096);
  using none = new Heap({ trackSites: "none" });
  assert.equal(none.trackSites, false);
  throwsCode(() => new Heap({ stackDepth: 0 }), "BAD_CONFIG");
  throwsCode(() => new Heap({ stackDepth: 65 }), "BAD_CONFIG");
  throwsCode(() => new Heap({ sampleInterval: 0.5 }), "BAD_CONFIG");
  throwsCode(() => new Heap({ trackSites: "most" as "all" }), "BAD_CONFIG");
});

Deno.test("LMM_SITES: parsed, and a bad value is refused with its reason", () => {
  assert.deepEqual(parseSites("none"), { mode: "none" });
  assert.deepEqual(parseSites(" all , depth=3 "), { mode: "all", depth: 3 });
  assert.throws(
    () => parseSites("all,depth=x"),
    /LMM_SITES: 'depth=x' is not depth=N or interval=N/,
  );
  assert.throws(() => parseSites(""), /LMM_SITES: '' is not all, sample or none/);
});
