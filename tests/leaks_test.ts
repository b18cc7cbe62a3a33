// Leaks: direct vs indirect (classification on synthetic blocks and on a real heap), the leak
// summary's grouping and order, per-family fragmentation, and the test helpers that fail on leaks.
import assert from "node:assert/strict";
import { assertNoLeaks, Heap, leakCheck, LeakError } from "../mod.ts";
import { classifyBlocks, DIRECT, INDIRECT } from "../ffi/report/classify.ts";
import { summarizeLeaks } from "../ffi/report/leaks.ts";

/** Blocks of 32 bytes at 0x1000, 0x2000, …; `points[i]` lists the addresses block i holds. */
function classify(points: number[][], sizes?: number[]): number[] {
  const starts = new Float64Array(points.map((_, i) => 0x1000 * (i + 1)));
  const size = new Float64Array(points.map((_, i) => sizes?.[i] ?? 32));
  const words = points.map((targets) => {
    const w = new Uint32Array(8);
    targets.forEach((t, k) => {
      w[2 * k] = t % 0x1_0000_0000;
      w[2 * k + 1] = Math.floor(t / 0x1_0000_0000);
    });
    return w;
  });
  return [...classifyBlocks(starts, size, (i) => words[i])];
}

Deno.test("classify: chains, trees, self pointers, interior pointers, cycles", () => {
  assert.deepEqual(classify([[], [], []]), [DIRECT, DIRECT, DIRECT]);
  assert.deepEqual(classify([[0x2000], [0x3000], []]), [DIRECT, INDIRECT, INDIRECT]);
  assert.deepEqual(classify([[0x2000, 0x3000], [], []]), [DIRECT, INDIRECT, INDIRECT], "a tree");
  assert.deepEqual(classify([[0x1000], []]), [DIRECT, DIRECT], "a block pointing to itself");
  assert.deepEqual(classify([[0x2010], []]), [DIRECT, INDIRECT], "a pointer inside the data");
  assert.deepEqual(classify([[0x2020], []]), [DIRECT, DIRECT], "just past the end: not in it");
  // A ring nothing points to: the lowest address is its direct leak.
  assert.deepEqual(classify([[0x2000], [0x3000], [0x1000]]), [DIRECT, INDIRECT, INDIRECT]);
  // A ring hanging off a direct block: all indirect below it.
  assert.deepEqual(classify([[], [0x3000], [0x2000], [0x2000]]), [
    DIRECT,
    INDIRECT,
    INDIRECT,
    DIRECT,
  ]);
  // Only words within the block's size are read.
  assert.deepEqual(classify([[0, 0x2000], []], [8, 32]), [DIRECT, DIRECT]);
  assert.deepEqual([...classifyBlocks(new Float64Array(), new Float64Array(), () => null)], []);
});

Deno.test("classify: high addresses (above 2^32) and unreadable blocks", () => {
  const base = 0x7f00_0000_0000;
  const starts = new Float64Array([base, base + 64]);
  const sizes = new Float64Array([64, 64]);
  const w = new Uint32Array(16);
  w[2] = (base + 64 + 8) % 0x1_0000_0000; // word 1 points inside block 1
  w[3] = Math.floor((base + 64) / 0x1_0000_0000);
  assert.deepEqual([...classifyBlocks(starts, sizes, (i) => i === 0 ? w : null)], [
    DIRECT,
    INDIRECT,
  ]);
  assert.deepEqual([...classifyBlocks(starts, sizes, () => null)], [DIRECT, DIRECT]);
});

Deno.test("summarizeLeaks: exact by family, grouped by stack, family and kind; direct first", () => {
  const summary = summarizeLeaks({
    count: 5,
    address: new Float64Array([16, 32, 48, 64, 80]),
    requested: new Float64Array([100, 10, 10, 200, 5]),
    family: new Uint32Array([1, 2, 2, 1, 2]),
    stack: new Uint32Array([3, 4, 4, 0, 4]),
    weight: new Float64Array([1, 2, 2, 0, 2]),
    kind: new Uint8Array([DIRECT, DIRECT, INDIRECT, DIRECT, DIRECT]),
  }, (id) => ["bytes", "a_t", "b_t"][id]);
  assert.equal(summary.blocks, 5);
  assert.equal(summary.bytes, 325);
  assert.deepEqual(summary.indirect, { count: 1, bytes: 10 });
  assert.deepEqual(summary.unsampled, { count: 1, bytes: 200 });
  assert.deepEqual(summary.byFamily, [
    { family: "a_t", count: 2, bytes: 300, indirect: { count: 0, bytes: 0 } },
    { family: "b_t", count: 3, bytes: 25, indirect: { count: 1, bytes: 10 } },
  ]);
  assert.deepEqual(
    summary.byStack.map((
      g,
    ) => [g.kind, g.stackId, g.family, g.count, g.estimatedCount, g.estimatedBytes]),
    [
      ["direct", 3, "a_t", 1, 1, 100],
      ["direct", 4, "b_t", 2, 4, 30], // sampled: each block stands for 2
      ["direct", 0, "a_t", 1, 1, 200], // no stack: after those with one
      ["indirect", 4, "b_t", 1, 2, 20],
    ],
  );
  assert.deepEqual(summary.byStack[1].examples, [[32, 10], [80, 5]]);
});

Deno.test("heap.leaks: a list and a ring in a real heap, pointers read from the blocks", () => {
  using heap = new Heap({ trackSites: "all" });
  const node = heap.register("node_t", 24);
  const link = (from: number, to: number, offset = 0): void =>
    heap.view(from).setBigUint64(offset, BigInt(to), true);
  const [a, b, c] = [heap.alloc(node), heap.alloc(node), heap.alloc(node)];
  link(a, b);
  link(b, c + 8, 16); // an interior pointer, in the last word of b
  const [x, y] = [heap.alloc(node), heap.alloc(node)];
  link(x, y);
  link(y, x);
  const lone = heap.alloc(node);
  heap.view(lone).setUint32(4, b, true); // not 8-byte aligned: not a pointer
  const leaks = heap.leaks();
  assert.deepEqual(leaks.direct, { count: 3, bytes: 72 }); // a, the ring's first block, lone
  assert.deepEqual(leaks.indirect, { count: 3, bytes: 72 }); // b, c, the ring's second
  const kinds = new Map<number, string>();
  for (const site of leaks.bySite) {
    for (const [address] of site.examples) kinds.set(address, site.kind);
  }
  // In a ring nothing else points to, the lower address is the direct one.
  const expected = [
    "direct",
    "indirect",
    "indirect",
    x < y ? "direct" : "indirect",
    x < y ? "indirect" : "direct",
    "direct",
  ];
  assert.deepEqual([a, b, c, x, y, lone].map((p) => kinds.get(p)), expected);
  const page = heap.report().heaps[0].pages[0];
  assert.deepEqual(page.blocks.filter((bl) => !bl.free).map((bl) => bl.kind), expected);
});

Deno.test("fragmentation: holes that fit the family's request are usable, not fragmentation", () => {
  // Exact heaps: every freed block stays a hole where it was (no cache takes it).
  using heap = new Heap({ pageSize: 4096, exact: true });
  const node = heap.register("node_t", 48);
  const blocks = Array.from({ length: 60 }, () => heap.alloc(node)); // nearly a full page
  for (let i = 0; i < 60; i += 2) heap.free(blocks[i]);
  const family = heap.report().heaps[0].families[node.id];
  assert.ok(family.externalFragmentation > 0.5, `classic ${family.externalFragmentation}`);
  assert.equal(family.fragmentation.typicalRequest, 48);
  assert.equal(family.fragmentation.tooSmallHoles, 0);
  assert.equal(family.fragmentation.external, 0);
  assert.equal(family.fragmentation.holes, family.freeBlocks);

  // A family asked for 4 structures at a time: single-structure holes are too small.
  using arrays = new Heap({ pageSize: 4096, exact: true });
  const item = arrays.register("item_t", 32);
  const run = Array.from({ length: 20 }, (_, i) => arrays.alloc(item, i % 2 === 0 ? 1 : 4));
  for (let i = 0; i < 20; i += 2) arrays.free(run[i]);
  const f = arrays.report().heaps[0].families[item.id];
  assert.equal(f.fragmentation.typicalRequest, 128);
  assert.equal(f.fragmentation.tooSmallHoles, 10);
  assert.equal(f.fragmentation.tooSmallBytes, 10 * 32);
  assert.equal(f.fragmentation.external, (10 * 32) / f.freeBytes);
});

Deno.test("assertNoLeaks: passes on an empty heap, fails with the stacks, direct first", () => {
  using heap = new Heap({ trackSites: "all", label: "t" });
  assertNoLeaks(heap);
  const node = heap.register("node_t", 16);
  function makePair(): void {
    const head = heap.alloc(node);
    heap.view(head).setBigUint64(0, BigInt(heap.alloc(node)), true);
  }
  makePair();
  let caught: unknown;
  try {
    assertNoLeaks(heap);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof LeakError);
  assert.equal(caught.name, "LeakError");
  assert.equal(caught.leaks.blocks, 2);
  const lines = caught.message.split("\n");
  assert.equal(lines[0], `heap ${heap.id} "t" has 2 live blocks (32 B): 1 direct, 1 indirect`);
  assert.match(lines[1], /^ {2}direct: 16 B in 1 block · node_t$/);
  assert.match(lines[2], /^ {4}at makePair \(.*tests\/leaks_test\.ts:\d+:\d+\)$/);
  assert.ok(lines.some((l) => /^ {2}indirect: 16 B in 1 block · node_t$/.test(l)));
});

Deno.test("assertNoLeaks: without stacks it says how to get them; top bounds the message", () => {
  using heap = new Heap({ trackSites: false, label: "plain\u202e" });
  heap.allocBytes(1);
  assert.throws(
    () => assertNoLeaks(heap),
    /^LeakError: heap \d+ "plain\\u202e" has 1 live block \(1 B\)[^]*\(no stack: create the heap with trackSites: true\)$/,
  );
  using many = new Heap({ trackSites: "all" });
  for (let i = 0; i < 3; i++) many.allocBytes(8 * (i + 1)); // one stack: the loop
  many.allocBytes(1);
  assert.throws(() => assertNoLeaks(many, { top: 1 }), /\n {2}… and 1 more stack \(1 block\)$/);
});

Deno.test("leakCheck: a test body that frees passes; one that leaks fails; the heap is closed", async () => {
  let seen: Heap | undefined;
  await leakCheck((heap) => {
    seen = heap;
    heap.free(heap.allocBytes(64));
  })();
  assert.equal(seen?.closed, true);
  await assert.rejects(
    leakCheck(async (heap) => {
      seen = heap;
      await Promise.resolve();
      heap.allocBytes(8);
    }),
    (error: unknown) =>
      error instanceof LeakError && /"leakCheck" has 1 live block \(8 B\)/.test(error.message) &&
      /\n {4}at .*leaks_test\.ts:\d+:\d+/.test(error.message),
  );
  assert.equal(seen?.closed, true);
  await assert.rejects(
    leakCheck(() => {
      throw new Error("the body's own failure");
    }),
    /the body's own failure/,
  );
});
