// Randomized operation sequences through FFI, checked against a model of the live blocks.
import assert from "node:assert/strict";
import { type Family, Heap, type HeapOptions } from "../mod.ts";
import { prng } from "./_helpers.ts";

interface Live {
  family: Family;
  units: number;
  requested: number;
  pattern: number;
}

/** Fills the first `requested` bytes with a pattern derived from `seed`. */
function fill(heap: Heap, address: number, requested: number, seed: number): void {
  const bytes = heap.bytes(address);
  for (let i = 0; i < requested; i++) bytes[i] = (seed + i * 7) & 0xff;
}

/** Checks the pattern of the first `length` bytes. */
function verify(heap: Heap, address: number, length: number, seed: number): void {
  const bytes = heap.bytes(address);
  for (let i = 0; i < length; i++) {
    if (bytes[i] !== ((seed + i * 7) & 0xff)) {
      assert.fail(`block ${address.toString(16)} byte ${i} is ${bytes[i]}, pattern broken`);
    }
  }
}

function run(seed: number, steps: number, options: HeapOptions): void {
  const random = prng(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  using heap = new Heap(options);
  const families = [
    heap.family("bytes"),
    heap.register("small_t", 24),
    heap.register("emp_t", 36),
    heap.register("big_t", 1000),
  ];
  const model = new Map<number, Live>();
  const addresses: number[] = [];
  const forget = (address: number): void => {
    const i = addresses.indexOf(address);
    addresses[i] = addresses[addresses.length - 1];
    addresses.pop();
    model.delete(address);
  };
  const unitsFor = (family: Family): number =>
    family.structSize === 1
      ? 1 + pick(pick(10) === 0 ? 100_000 : 600)
      : 1 + pick(pick(20) === 0 ? 150 : 8);

  for (let step = 1; step <= steps; step++) {
    const r = random();
    if (r < 0.5 || addresses.length === 0) {
      const family = families[pick(families.length)];
      const units = unitsFor(family);
      const address = heap.alloc(family, units);
      assert.ok(!model.has(address), `alloc returned live address ${address}`);
      assert.equal(address % (family.structSize % 16 === 0 || family.id === 0 ? 16 : 8), 0);
      const requested = units * family.structSize;
      const bytes = heap.bytes(address);
      assert.ok(bytes.length >= requested);
      for (let i = 0; i < requested; i += 97) assert.equal(bytes[i], 0, "zeroed memory");
      const pattern = pick(256);
      fill(heap, address, requested, pattern);
      model.set(address, { family, units, requested, pattern });
      addresses.push(address);
    } else if (r < 0.85) {
      const address = addresses[pick(addresses.length)];
      const live = model.get(address)!;
      verify(heap, address, live.requested, live.pattern);
      heap.free(address);
      forget(address);
    } else {
      const address = addresses[pick(addresses.length)];
      const live = model.get(address)!;
      const units = unitsFor(live.family);
      const moved = heap.realloc(address, units);
      const requested = units * live.family.structSize;
      verify(heap, moved, Math.min(requested, live.requested), live.pattern);
      const grown = heap.bytes(moved);
      for (let i = live.requested; i < requested; i += 61) {
        assert.equal(grown[i], 0, "grown bytes zeroed");
      }
      fill(heap, moved, requested, live.pattern);
      forget(address);
      assert.ok(!model.has(moved), `realloc returned live address ${moved}`);
      model.set(moved, { ...live, units, requested });
      addresses.push(moved);
    }
    if (step % 250 === 0) checkAgainstModel(heap, model);
  }
  checkAgainstModel(heap, model);
  for (const address of [...addresses]) {
    const live = model.get(address)!;
    verify(heap, address, live.requested, live.pattern);
    heap.free(address);
    forget(address);
  }
  heap.check();
  const { totals } = heap.stats();
  assert.equal(totals.occupiedBlocks, 0);
  assert.equal(totals.appBytes, 0);
}

/** check(), no overlap between live blocks, and statistics that match the model. */
function checkAgainstModel(heap: Heap, model: Map<number, Live>): void {
  heap.check();
  const sorted = [...model].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < sorted.length; i++) {
    const [prev, live] = sorted[i - 1];
    assert.ok(
      prev + live.requested <= sorted[i][0],
      `blocks at ${prev} and ${sorted[i][0]} overlap`,
    );
  }
  const { totals, families } = heap.stats();
  assert.equal(totals.occupiedBlocks, model.size);
  let bytes = 0;
  const perFamily = new Map<number, number>();
  for (const live of model.values()) {
    bytes += live.requested;
    perFamily.set(live.family.id, (perFamily.get(live.family.id) ?? 0) + live.requested);
  }
  assert.equal(totals.appBytes, bytes);
  // Untyped blocks are counted in "bytes" and its size classes ("bytes/48" …).
  const byUser = new Map<number, number>();
  for (const f of families) {
    const id = f.name.startsWith("bytes/") ? 0 : f.id;
    byUser.set(id, (byUser.get(id) ?? 0) + f.appBytes);
  }
  for (const [id, app] of byUser) assert.equal(app, perFamily.get(id) ?? 0, `family ${id}`);
  // The block map agrees: every live block is listed with its request, nothing else is occupied.
  let listed = 0;
  for (const page of heap.blocks()) {
    for (const block of page.blocks) {
      if (block.free) continue;
      listed++;
      assert.equal(block.requested, model.get(block.address)?.requested, `block ${block.address}`);
    }
  }
  assert.equal(listed, model.size);
  assert.equal(heap.leaks().blocks, model.size);
}

Deno.test("random operations, 64 KiB pages, page cache on (seed 1)", () => {
  run(1, 5000, { pageSize: 64 * 1024, pageCache: 4 });
});

Deno.test("random operations, 4 KiB pages, no page cache (seed 2)", () => {
  run(2, 4000, { pageSize: 4096, pageCache: 0 });
});

Deno.test("random operations, 16 KiB pages (seed 3)", () => {
  run(3, 2000, { pageSize: 16 * 1024, pageCache: 1 });
});

Deno.test("random operations, an exact heap (seed 4)", () => {
  run(4, 3000, { pageSize: 4096, exact: true });
});
