/**
 * A heap's state at one moment, read from the engine through its handle:
 * statistics, every page and block (as typed-array columns, 41 bytes per
 * block rather than one object each), the stack of every tracked live block,
 * the direct/indirect classification of the live blocks and the leak
 * summary (with the first blocks of layout families decoded). Reports,
 * files and the test assertion are all built from it.
 *
 * It reads the engine directly rather than through `Heap` because a heap
 * that the garbage collector took has no `Heap` left — only its handle,
 * valid until the finalizer releases it. Block contents (for the
 * classification) are read through `heap.bytes()` while the `Heap` exists,
 * and through a view of each page otherwise.
 *
 * @module
 */

import { LmmError, Status } from "../errors.ts";
import type { Heap } from "../heap.ts";
import { ALL_FAMILIES, BLOCK_FREE, BlockRecord, PageInfo, Stats } from "../native/abi.ts";
import { u64 } from "../records.ts";
import { lib } from "../native/loader.ts";
import { listRecords, type RawStats, readFamilies, readStats, statsFields } from "../records.ts";
import type { HeapEntry } from "../registry.ts";
import type {
  FamilyReport,
  FragmentationReport,
  HeapRecord,
  TotalsReport,
} from "../report_types.ts";
import { classifyBlocks } from "./classify.ts";
import { ALIGNMENT, FragmentationCounter, totalFragmentation } from "./fragmentation.ts";
import { type LeakSummary, type LiveBlocks, summarizeLeaks } from "./leaks.ts";
import { heapSampler } from "./samples.ts";

/** A page and where its blocks are in the snapshot's block columns. */
export interface PageSpan {
  base: number;
  size: number;
  family: number;
  /** Index of its first block. */
  first: number;
  /** Its blocks. */
  count: number;
}

/** Every block of a heap, page by page (each page's blocks in address order), as parallel columns. */
export interface BlockColumns {
  count: number;
  address: Float64Array;
  size: Float64Array;
  /** Bytes asked for; 0 for a free block. */
  requested: Float64Array;
  family: Uint32Array;
  /** Stack id; 0 for none (and for free blocks). */
  stack: Uint32Array;
  /** 0 free, 1 direct, 2 indirect. */
  kind: Uint8Array;
}

/** What reports are made of: a heap's figures and leaks, with or without its blocks. */
export interface HeapData {
  /** The heap record's fields (everything but blocks and leaks). */
  heap: Omit<HeapRecord, "type">;
  /** Its pages, in the engine's order (empty without blocks). */
  pages: PageSpan[];
  /** Its blocks, or null when only the summary was kept (a closed heap). */
  blocks: BlockColumns | null;
  /** The leak summary. */
  leaks: LeakSummary;
}

/** A heap at one moment. */
export interface Snapshot extends HeapData {
  blocks: BlockColumns;
  /** Its live blocks in address order (copies of their columns, with the sampling weight). */
  live: LiveBlocks;
}

/**
 * Reads a heap. The handle must still be valid (the heap open, or closing
 * and not yet released).
 *
 * @param entry The heap's entry.
 * @param heap Its `Heap` while it exists (block contents are read through
 *   it), null once collected.
 * @returns The snapshot.
 */
export function snapshotHeap(entry: HeapEntry, heap: Heap | null): Snapshot {
  entry.quiesce();
  const S = lib();
  const h = entry.handle;
  const { familyList, totalsRaw, familyRaw } = readFigures(entry);

  const pageList = listRecords(
    (buf, cap, out) => S.lmm_pages(h, ALL_FAMILIES, buf, cap, out),
    PageInfo.SIZE,
    "report: lmm_pages",
  );
  const blockList = listRecords(
    (buf, cap, out) => S.lmm_blocks(h, ALL_FAMILIES, 0, buf, cap, out),
    BlockRecord.SIZE,
    "report: lmm_blocks",
  );
  const { pages, blocks } = columns(pageList, blockList);

  const tracker = entry.tracker;
  const fragmentation = familyList.map((f) => new FragmentationCounter(f.structSize));
  const weights = new Float64Array(blocks.count);
  let liveCount = 0;
  for (let i = 0; i < blocks.count; i++) {
    const counter = fragmentation[blocks.family[i]];
    if (blocks.requested[i] === 0) {
      counter?.hole(blocks.size[i]);
      continue;
    }
    counter?.live(blocks.requested[i]);
    liveCount++;
    if (tracker !== null && blocks.stack[i] === tracker.marker) {
      const tracked = tracker.stackOfLive(blocks.address[i]);
      blocks.stack[i] = tracked?.stack ?? 0;
      weights[i] = tracked?.weight ?? 1;
    } else {
      blocks.stack[i] = 0;
    }
  }

  const byAddress = [...pages].sort((a, b) => a.base - b.base);
  const { live, index, sizes } = liveColumns(blocks, byAddress, weights, liveCount);
  const reader = heap === null ? pageReader(byAddress) : heapReader(heap);
  live.kind.set(classifyBlocks(live.address, sizes, (i) => reader(live.address[i], sizes[i])));
  for (let j = 0; j < liveCount; j++) blocks.kind[index[j]] = live.kind[j];

  return {
    heap: heapFields(entry, familyList, totalsRaw, familyRaw, fragmentation.map((f) => f.report())),
    pages,
    blocks,
    live,
    // Untyped blocks are leaks of "bytes", whatever size class holds them.
    leaks: summarizeLeaks(
      { ...live, family: live.family.map((id) => familyList[id]?.classSize ? 0 : id) },
      (id) => familyList[id]?.name ?? `family ${id}`,
      // Layouts are known through the Heap: a collected heap's blocks get no sample.
      heap === null ? undefined : heapSampler(heap, live.address, live.family),
    ),
  };
}

/** The families and statistics of a heap, from the engine. */
function readFigures(entry: HeapEntry): {
  familyList: ReturnType<typeof readFamilies>;
  totalsRaw: RawStats;
  familyRaw: RawStats[];
} {
  const S = lib();
  const familyList = readFamilies(S, entry.handle);
  const buffer = new Uint8Array(Stats.SIZE);
  return {
    familyList,
    totalsRaw: readStats(S, entry.handle, ALL_FAMILIES, buffer),
    familyRaw: familyList.map((f) => readStats(S, entry.handle, f.id, buffer)),
  };
}

/** The heap record's fields from the engine's figures and each family's fragmentation. */
function heapFields(
  entry: HeapEntry,
  familyList: ReturnType<typeof readFamilies>,
  totalsRaw: RawStats,
  familyRaw: RawStats[],
  fragmentation: FragmentationReport[],
): Omit<HeapRecord, "type"> {
  const families: FamilyReport[] = familyList.map((f, i) => ({
    id: f.id,
    name: f.name,
    structSize: f.structSize,
    ...statsFields(familyRaw[i]),
    fragmentation: fragmentation[i],
  }));
  const largestPerFamily = familyRaw.reduce((sum, raw) => sum + raw.largest_free, 0);
  const totals: TotalsReport = {
    families: totalsRaw.families,
    ...statsFields(totalsRaw),
    // One family's free space never serves another: the heap's scatter is
    // measured against each family's largest block.
    externalFragmentation: totalsRaw.free_bytes === 0
      ? 0
      : 1 - largestPerFamily / totalsRaw.free_bytes,
    fragmentation: totalFragmentation(fragmentation, totalsRaw.free_bytes),
    cachedPages: totalsRaw.cached_pages,
    cachedBytes: totalsRaw.cached_bytes,
    pagesTaken: totalsRaw.pages_taken,
    pagesReturned: totalsRaw.pages_returned,
    reservedBytes: totalsRaw.reserved_bytes,
    arenas: totalsRaw.arenas,
    poisoned: totalsRaw.poisoned !== 0,
  };
  const settings = entry.tracker?.settings;
  return {
    id: entry.id,
    label: entry.label,
    state: entry.state,
    pageSize: entry.pageSize,
    metaBlockSize: lib().lmm_meta_block_size(),
    sites: settings !== undefined && settings.mode !== "none" ? { ...settings } : null,
    totals,
    families,
  };
}

/**
 * A heap's figures and leaks from its statistics alone, in O(families):
 * what a heap closed without stack tracking and without a report file
 * leaves in the process report (closing a heap with live blocks may be a
 * deliberate free-everything, which must stay cheap). Its live blocks are
 * counted by family but not read: none is split off as indirect, and the
 * fragmentation is measured against one structure per family.
 *
 * @param entry The heap's entry (the handle still valid).
 * @returns Its data, without blocks.
 */
export function summarizeHeap(entry: HeapEntry): HeapData {
  entry.quiesce();
  const { familyList, totalsRaw, familyRaw } = readFigures(entry);
  const fragmentation = familyRaw.map((raw, i): FragmentationReport => ({
    typicalRequest: Math.ceil(familyList[i].structSize / ALIGNMENT) * ALIGNMENT,
    holes: raw.free_blocks,
    tooSmallHoles: raw.soft_frag_blocks,
    tooSmallBytes: raw.soft_frag_bytes,
    external: raw.free_bytes === 0 ? 0 : raw.soft_frag_bytes / raw.free_bytes,
  }));
  const tally = { count: totalsRaw.occupied_blocks, bytes: totalsRaw.app_bytes };
  // Untyped blocks are leaks of "bytes", whatever size class holds them.
  const byUserFamily = new Map<number, { f: (typeof familyList)[number]; raw: RawStats }>();
  familyList.forEach((f, i) => {
    const id = f.classSize ? 0 : f.id;
    const raw = familyRaw[i];
    const seen = byUserFamily.get(id);
    if (seen === undefined) byUserFamily.set(id, { f: familyList[id], raw: { ...raw } });
    else {
      seen.raw.occupied_blocks += raw.occupied_blocks;
      seen.raw.app_bytes += raw.app_bytes;
    }
  });
  const live = [...byUserFamily.values()]
    .filter(({ raw }) => raw.occupied_blocks > 0)
    .sort((a, b) => b.raw.app_bytes - a.raw.app_bytes);
  return {
    heap: heapFields(entry, familyList, totalsRaw, familyRaw, fragmentation),
    pages: [],
    blocks: null,
    leaks: {
      blocks: tally.count,
      bytes: tally.bytes,
      direct: tally,
      indirect: { count: 0, bytes: 0 },
      unsampled: tally,
      byFamily: live.map(({ f, raw }) => ({
        family: f.name,
        count: raw.occupied_blocks,
        bytes: raw.app_bytes,
        indirect: { count: 0, bytes: 0 },
      })),
      byStack: live.map(({ f, raw }) => ({
        stackId: 0,
        family: f.name,
        kind: "direct",
        count: raw.occupied_blocks,
        bytes: raw.app_bytes,
        estimatedCount: raw.occupied_blocks,
        estimatedBytes: raw.app_bytes,
        examples: [],
      })),
    },
  };
}

/** The engine's page and block listings as spans and columns, in the engine's order. */
function columns(
  pageList: { bytes: Uint8Array; count: number },
  blockList: { bytes: Uint8Array; count: number },
): { pages: PageSpan[]; blocks: BlockColumns } {
  const pv = new DataView(pageList.bytes.buffer);
  const pages: PageSpan[] = [];
  for (let i = 0; i < pageList.count; i++) {
    const o = i * PageInfo.SIZE;
    pages.push({
      base: u64(pv, o + PageInfo.base),
      size: u64(pv, o + PageInfo.size),
      family: pv.getUint32(o + PageInfo.family, true),
      first: 0,
      count: 0,
    });
  }
  const index = new Map<number, number>();
  pages.forEach((page, i) => index.set(page.base, i));

  const bv = new DataView(blockList.bytes.buffer);
  const n = blockList.count;
  const pageOf = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const base = u64(bv, r * BlockRecord.SIZE + BlockRecord.page);
    const p = index.get(base);
    if (p === undefined) {
      throw new LmmError(
        "CORRUPTED",
        `report: a block names page 0x${base.toString(16)}, which lmm_pages did not list`,
        { status: Status.CORRUPTED },
      );
    }
    pageOf[r] = p;
    pages[p].count++;
  }
  let next = 0;
  for (const page of pages) {
    page.first = next;
    next += page.count;
  }
  const fill = pages.map((page) => page.first);
  const blocks: BlockColumns = {
    count: n,
    address: new Float64Array(n),
    size: new Float64Array(n),
    requested: new Float64Array(n),
    family: new Uint32Array(n),
    stack: new Uint32Array(n),
    kind: new Uint8Array(n),
  };
  for (let r = 0; r < n; r++) {
    const o = r * BlockRecord.SIZE;
    const i = fill[pageOf[r]]++;
    const free = (bv.getUint32(o + BlockRecord.flags, true) & BLOCK_FREE) !== 0;
    blocks.address[i] = u64(bv, o + BlockRecord.addr);
    blocks.size[i] = u64(bv, o + BlockRecord.size);
    blocks.requested[i] = free ? 0 : u64(bv, o + BlockRecord.requested);
    blocks.family[i] = bv.getUint32(o + BlockRecord.family, true);
    blocks.stack[i] = free ? 0 : bv.getUint32(o + BlockRecord.site, true);
  }
  return { pages, blocks };
}

/**
 * The live blocks in address order: their columns, their index in `blocks`,
 * and their data sizes.
 */
function liveColumns(
  blocks: BlockColumns,
  byAddress: PageSpan[],
  weights: Float64Array,
  count: number,
): { live: LiveBlocks; index: Int32Array; sizes: Float64Array } {
  const live: LiveBlocks = {
    count,
    address: new Float64Array(count),
    requested: new Float64Array(count),
    family: new Uint32Array(count),
    stack: new Uint32Array(count),
    weight: new Float64Array(count),
    kind: new Uint8Array(count),
  };
  const index = new Int32Array(count);
  const sizes = new Float64Array(count);
  let j = 0;
  for (const page of byAddress) {
    for (let i = page.first; i < page.first + page.count; i++) {
      if (blocks.requested[i] === 0) continue;
      live.address[j] = blocks.address[i];
      live.requested[j] = blocks.requested[i];
      live.family[j] = blocks.family[i];
      live.stack[j] = blocks.stack[i];
      live.weight[j] = weights[i];
      sizes[j] = blocks.size[i];
      index[j] = i;
      j++;
    }
  }
  return { live, index, sizes };
}

/** Reads a block's words through the `Heap` API. */
function heapReader(heap: Heap): (address: number, size: number) => Uint32Array | null {
  return (address) => {
    const bytes = heap.bytes(address);
    if (bytes.byteOffset % 4 !== 0) return new Uint32Array(bytes.slice().buffer);
    return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  };
}

/** Pages up to this size are viewed whole; blocks of larger pages one at a time. */
const PAGE_VIEW_MAX = 64 * 1024 * 1024;

/**
 * Reads a block's words through a view of its page (for a heap whose `Heap`
 * is gone). Blocks come in address order, so one page view serves many.
 */
function pageReader(pages: PageSpan[]): (address: number, size: number) => Uint32Array | null {
  let p = 0;
  let page: Uint32Array | null = null;
  const view = (address: number, bytes: number): Uint32Array | null => {
    const pointer = Deno.UnsafePointer.create(BigInt(address));
    return pointer === null
      ? null
      : new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(pointer, bytes));
  };
  return (address, size) => {
    while (p < pages.length && address >= pages[p].base + pages[p].size) {
      p++;
      page = null;
    }
    if (p === pages.length || address < pages[p].base) return null;
    const words = Math.floor(size / 4);
    if (pages[p].size > PAGE_VIEW_MAX) return view(address, words * 4);
    page ??= view(pages[p].base, pages[p].size);
    const offset = (address - pages[p].base) / 4;
    return page === null ? null : page.subarray(offset, offset + words);
  };
}
