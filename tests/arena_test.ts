// A heap's memory as TypeScript touches it: views read the meta block in the arena (no native
// call), cover the requested bytes, follow a heap into later arenas; stale views, accessors and
// NaN addresses never fault (each case in its own process); emptied pages give memory back.
import assert from "node:assert/strict";
import { seal } from "../ffi/arena.ts";
import { Heap } from "../mod.ts";
import { runCommand, throwsCode } from "./_helpers.ts";

const FIXTURE = new URL("./fixtures/arena/stale.ts", import.meta.url).pathname;

for (const name of ["free", "free-page", "trim", "close", "gc", "close-then-gc", "nan"]) {
  Deno.test(`stale memory never faults: ${name} (subprocess exits normally)`, async () => {
    // -A: reading /proc/self/maps needs every permission in Deno.
    const r = await runCommand(Deno.execPath(), [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      FIXTURE,
      name,
    ]);
    assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    assert.equal(r.stdout.trim(), `survived ${name}`, r.stderr);
  });
}

Deno.test("the keyed check in TypeScript equals the engine's (seal.zig's known value)", () => {
  assert.equal(seal(0x12345678, 0x7f00_0000_1040, 6, 0x4000_0004, 0x0400_0000), 0x5E1FFEB2);
});

Deno.test("views cover the requested bytes and need no native call", () => {
  using heap = new Heap();
  const rec = heap.register("rec_t", 24);
  const a = heap.alloc(rec, 3);
  assert.equal(heap.sizeOf(a), 72);
  assert.equal(heap.bytes(a).length, 72);
  assert.equal(heap.view(a).byteLength, 72);
  assert.ok(heap.blockInfo(a).size >= 72);
  const big = heap.allocBytes(200_000); // a large page
  assert.equal(heap.bytes(big).length, 200_000);
  heap.bytes(big)[199_999] = 9;
  assert.equal(heap.view(big).getUint8(199_999), 9);
  // Same bytes as the heap's memory window.
  const { bytes, base } = heap.memory;
  assert.equal(bytes[big + 199_999 - base], 9);
  // Freed, interior, foreign: the engine says why.
  heap.free(a);
  throwsCode(() => heap.bytes(a), "DOUBLE_FREE");
  throwsCode(() => heap.view(big + 8), "INTERIOR");
  throwsCode(() => heap.sizeOf(12345), "NOT_OWNED");
  throwsCode(() => heap.bytes(NaN), "BAD_ADDRESS");
  heap.check();
});

Deno.test("a heap that outgrows its reserve continues in more arenas; views follow it", () => {
  using heap = new Heap({ reserve: 1 << 20, pageCache: 0 });
  const first = heap.memory.base;
  const blocks: number[] = [];
  for (let i = 0; i < 40; i++) blocks.push(heap.allocBytes(60_000)); // 40 × 64 KiB pages > 1 MiB
  const later = blocks.filter((a) => a < first || a >= heap.memory.end);
  assert.ok(later.length > 0, "some blocks live in a later arena");
  assert.ok(heap.stats().totals.arenas >= 2);
  for (const a of later) {
    heap.bytes(a).fill(5);
    assert.equal(heap.view(a).getUint8(59_999), 5);
    const w = heap.memory.locate(a, 60_000);
    assert.equal(w.bytes[w.offset + 10], 5);
  }
  const pt = heap.register("pt_t", { x: "f64" });
  const far = later[0];
  heap.free(far);
  const p = heap.alloc(pt, 7000); // 56 KB of pt_t: where a page is free
  pt.fields.x.set(pt.at(p, 6999), 4.5);
  assert.equal(pt.fields.x.get(pt.at(p, 6999)), 4.5);
  for (const a of blocks) if (a !== far) heap.free(a);
  heap.free(p);
  heap.check();
});

/** Resident memory of this process, in bytes. */
function rss(): number {
  const line = Deno.readTextFileSync("/proc/self/status").split("\n").find((l) =>
    l.startsWith("VmRSS:")
  )!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

/** Lines of /proc/self/maps: kernel mappings of this process. */
function mappings(): number {
  return Deno.readTextFileSync("/proc/self/maps").split("\n").length;
}

Deno.test("100k one-page blocks: placed in one mapping, and their memory goes back", () => {
  const heap = new Heap({ pageSize: 4096, pageCache: 0 });
  const maps = mappings();
  const before = rss();
  const blocks: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const a = heap.allocBytes(4000); // one 4 KiB page each
    heap.bytes(a)[3999] = 1;
    blocks.push(a);
  }
  assert.equal(heap.stats().totals.pages, 100_000);
  const full = rss();
  assert.ok(full - before > 300e6, `100k touched pages are resident: ${full - before} bytes`);
  // V8's own heap grows by a few dozen mappings meanwhile (the array of addresses); a mapping
  // per page would be 100,000.
  const grown = mappings() - maps;
  assert.ok(grown < 100, `no kernel mapping per page: ${grown} new mappings`);
  for (const a of blocks) heap.free(a);
  const after = rss();
  assert.equal(heap.stats().totals.pages, 0);
  assert.ok(
    after - before < (full - before) / 10,
    `memory given back: resident ${before} → ${full} → ${after} bytes`,
  );
  heap.check();
  heap.close();
});
