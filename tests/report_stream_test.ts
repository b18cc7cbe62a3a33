// Report files as streams: the line writer, pages split over records, and the model that
// merges parts (snapshots replaced by newer ones, events added, parts cut short).
import assert from "node:assert/strict";
import { Heap, writeReport } from "../mod.ts";
import { LineWriter } from "../ffi/report/stream.ts";
import { DETAIL_BLOCKS, FULL_DETAIL_BLOCKS, MODEL_DETAIL_BLOCKS } from "../cli/model.ts";
import { modelOf, recordsOf } from "./fixtures/cli/helpers.ts";

Deno.test("LineWriter: lines in large chunks, a line longer than the buffer written whole", () => {
  const chunks: number[] = [];
  let text = "";
  const sink = {
    writeSync(p: Uint8Array): number {
      const n = Math.min(p.length, 7); // a sink that takes a few bytes at a time
      chunks.push(n);
      text += new TextDecoder().decode(p.subarray(0, n));
      return n;
    },
  };
  const w = new LineWriter(sink, 64);
  w.line("short");
  w.line("x".repeat(100));
  w.line("é");
  w.flush();
  assert.equal(text, `short\n${"x".repeat(100)}\né\n`);
  assert.equal(w.bytes, new TextEncoder().encode(text).length);
});

/** The report of this isolate's heaps, as writeReport writes it. */
function reportText(): string {
  const path = Deno.makeTempFileSync({ suffix: ".jsonl" });
  try {
    writeReport(path);
    return Deno.readTextFileSync(path);
  } finally {
    Deno.removeSync(path);
  }
}

Deno.test("a page of many blocks goes out in several records and comes back as one page", () => {
  using heap = new Heap({ pageSize: 1 << 20, label: "big-page" });
  const tiny = heap.register("tiny_t", 8);
  const count = 9000;
  for (let i = 0; i < count; i++) heap.alloc(tiny);
  const text = reportText();
  const records = recordsOf(text).filter((r) => r.type === "pages");
  const pieces = records.flatMap((r) => r.type === "pages" ? r.pages : [])
    .filter((p) => p.family === tiny.id);
  assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
  assert.deepEqual(pieces.map((p) => p.first), [0, 4096, 8192].slice(0, pieces.length));
  const model = modelOf(text).heaps.find((h) => h.heap.label === "big-page")!;
  const page = model.pages.family.indexOf(tiny.id);
  assert.equal(model.pages.count, 1);
  assert.equal(model.pages.blocks[page], heap.stats().totals.totalBlocks);
  assert.equal(model.pages.blocks[page] - model.pages.freeBlocks[page], count);
});

Deno.test("the model keeps every block of a small heap, examples of each group of a large one", () => {
  using small = new Heap({ pageSize: 4096, label: "small" });
  for (let i = 0; i < 100; i++) small.allocBytes(32);
  using large = new Heap({ pageSize: 4096, label: "large" });
  const blocks = FULL_DETAIL_BLOCKS + 5000;
  for (let i = 0; i < blocks; i++) large.allocBytes(i % 7 === 0 ? 200 : 24);
  const model = modelOf(reportText());
  const s = model.heaps.find((h) => h.heap.label === "small")!;
  const l = model.heaps.find((h) => h.heap.label === "large")!;
  assert.equal(s.detail.size, s.pages.count, "small: every page has its blocks");
  assert.equal(s.detailBlocks, s.blockCount);
  assert.ok(l.detail.size < l.pages.count, "large: only example pages");
  assert.ok(l.detailBlocks <= DETAIL_BLOCKS);
  for (const group of l.groups) {
    assert.ok(group.examples.length >= 1 && group.examples.length <= 2);
    for (const page of group.examples) assert.equal(l.pages.group[page], l.groups.indexOf(group));
  }
  assert.equal(l.groups.reduce((n, g) => n + g.pages, 0), l.pages.count);
  assert.equal(l.blockCount, large.stats().totals.totalBlocks);
});

Deno.test("the model keeps at most MODEL_DETAIL_BLOCKS blocks over all heaps", () => {
  const heaps = Array.from(
    { length: 14 },
    (_, i) => new Heap({ label: `many-${i}`, pageSize: 4096 }),
  );
  try {
    for (const heap of heaps) for (let i = 0; i < 15_000; i++) heap.allocBytes(8);
    const model = modelOf(reportText());
    const mine = model.heaps.filter((h) => h.heap.label.startsWith("many-"));
    const kept = model.heaps.reduce((n, h) => n + h.detailBlocks, 0);
    assert.ok(kept <= MODEL_DETAIL_BLOCKS, `${kept} blocks kept`);
    assert.ok(mine[0].detail.size === mine[0].pages.count, "the first heaps keep every block");
    assert.ok(mine.at(-1)!.detail.size < mine.at(-1)!.pages.count, "the last ones do not");
    assert.ok(mine.every((h) => h.blockCount > 15_000), "but every block is counted");
  } finally {
    for (const heap of heaps) heap.close();
  }
});

/** A minimal part of one heap with `live` live blocks. */
function part(
  isolate: string,
  seq: number,
  reason: string,
  heap: { id: number; label: string; state?: string; live: number },
  end = true,
): string {
  const stats = {
    pages: 0,
    bytesMapped: 0,
    totalBlocks: heap.live,
    freeBlocks: 0,
    occupiedBlocks: heap.live,
    appBytes: 8 * heap.live,
    peakBytes: 8 * heap.live,
    occupiedBytes: 16 * heap.live,
    freeBytes: 0,
    headerBytes: 0,
    largestFreeBlock: 0,
    hardFragBytes: 0,
    softFragBlocks: 0,
    softFragBytes: 0,
    externalFragmentation: 0,
    allocCount: heap.live,
    freeCount: 0,
    reallocCount: 0,
  };
  const fragmentation = {
    typicalRequest: 0,
    holes: 0,
    tooSmallHoles: 0,
    tooSmallBytes: 0,
    external: 0,
  };
  const tally = { count: heap.live, bytes: 8 * heap.live };
  const none = { count: 0, bytes: 0 };
  const lines = [
    {
      type: "part",
      schema: "lmm-report",
      version: 2,
      isolate,
      seq,
      reason,
      generatedAt: "2026-01-01T00:00:00Z",
      program: {
        pid: 1,
        argv: ["x.ts"],
        runtime: "deno 2",
        main: `file:///${isolate}.ts`,
        worker: null,
      },
    },
    {
      type: "heap",
      id: heap.id,
      label: heap.label,
      state: heap.state ?? "open",
      pageSize: 4096,
      metaBlockSize: 16,
      sites: null,
      totals: {
        ...stats,
        families: 1,
        fragmentation,
        cachedPages: 0,
        cachedBytes: 0,
        pagesTaken: 0,
        pagesReturned: 0,
        reservedBytes: 0,
        arenas: 1,
      },
      families: [{ ...stats, id: 0, name: "bytes", structSize: 1, fragmentation }],
    },
    {
      type: "leaks",
      heap: heap.id,
      blocks: heap.live,
      bytes: 8 * heap.live,
      direct: tally,
      indirect: none,
      unsampled: tally,
      byFamily: [],
      byStack: [],
    },
  ];
  if (end) lines.push({ type: "end", seq } as never);
  return "\n" + lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
}

Deno.test("merge: the newest complete snapshot of an isolate wins; events add up and replace it", () => {
  const text = part("w", 1, "checkpoint", { id: 1, label: "a", live: 1 }) +
    part("w", 2, "checkpoint", { id: 1, label: "a", live: 2 }) +
    part("main", 1, "exit", { id: 1, label: "m", live: 0 }) +
    part("w", 3, "close", { id: 1, label: "a", state: "closed", live: 3 }) +
    part("w", 4, "checkpoint", { id: 2, label: "b", live: 4 }, false);
  const model = modelOf(text);
  // w's newest complete snapshot (seq 2) listed heap 1 open; the close event (seq 3) replaces
  // it; w's last snapshot (seq 4) was cut short and a complete one exists, so seq 2 stands.
  assert.deepEqual(
    model.heaps.map((h) => [h.isolate, h.heap.label, h.heap.state, h.leaks?.blocks]),
    [
      ["main", "m", "open", 0],
      ["w", "a", "closed", 3],
    ],
  );
  assert.deepEqual(model.warnings, [
    "the part 4 of file:///w.ts is incomplete (its writer was stopped while writing it)",
  ]);
  // With no complete snapshot left, a cut one is better than nothing.
  const cut = modelOf(part("w", 1, "exit", { id: 7, label: "c", live: 5 }, false));
  assert.deepEqual(cut.heaps.map((h) => [h.heap.label, h.leaks?.blocks]), [["c", 5]]);
  assert.equal(cut.warnings.length, 1);
});
