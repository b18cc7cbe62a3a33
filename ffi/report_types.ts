/**
 * The LMM report: the statistics, the block map and the live blocks (leaks)
 * of every heap of a program, with the allocation stacks of those blocks.
 *
 * It exists in two forms. `heap.report()` and `report()` return it as one
 * object ({@link Report}). Files (`LMM_REPORT`, `lmm run --json`) hold it as
 * JSON Lines: one record per line ({@link ReportRecord}), written and read as
 * a stream so that millions of blocks never make one giant string. A file is
 * a sequence of *parts*, each opened by a `part` record and closed by an
 * `end` record; each isolate of a program (the main module, every Worker,
 * every test file of `deno test`) appends its own parts, so concatenated
 * parts are one report.
 *
 * Compatibility: readers accept `version` equal to {@link REPORT_VERSION};
 * a new field may be added without a version change, a field is never
 * renamed or removed without one.
 *
 * @module
 */

import type { Decoded } from "./layout.ts";
import type { SiteSettings, StackFrame } from "./sites.ts";
export type { SiteMode, SiteSettings, StackFrame } from "./sites.ts";

/**
 * The `schema` tag of every report document.
 *
 * @example Recognise a report
 * ```ts
 * import { Heap, REPORT_SCHEMA } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * assert.equal(heap.report().schema, REPORT_SCHEMA);
 * ```
 */
export const REPORT_SCHEMA = "lmm-report";
/**
 * The report format version this code writes and reads.
 *
 * @example Check the version
 * ```ts
 * import { Heap, REPORT_VERSION } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * assert.equal(heap.report().version, REPORT_VERSION);
 * ```
 */
export const REPORT_VERSION = 2;

/**
 * Statistics of one family or of a whole heap (all byte counts in bytes).
 *
 * @example Figures of a family
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ label: "r" });
 * heap.register("emp_t", 36);
 * heap.alloc("emp_t", 2);
 * const report = heap.report();
 * const emp = report.heaps[0].families[1];
 * assert.equal(emp.appBytes, 72);
 * assert.equal(emp.totalBlocks, emp.freeBlocks + emp.occupiedBlocks);
 * ```
 */
export interface StatsFields {
  /** VM pages held, idle ones (empty, kept for reuse) included. */
  pages: number;
  /** Bytes of those pages. */
  bytesMapped: number;
  /** TBC: data blocks in the pages. */
  totalBlocks: number;
  /** FBC: free blocks. */
  freeBlocks: number;
  /** OBC: occupied blocks. */
  occupiedBlocks: number;
  /** Bytes the application asked for (units × struct size). */
  appBytes: number;
  /** High-water mark of `appBytes`. */
  peakBytes: number;
  /** Data bytes of occupied blocks. */
  occupiedBytes: number;
  /** Data bytes of free blocks. */
  freeBytes: number;
  /** Page and meta block headers. */
  headerBytes: number;
  /** Largest free block: what the next allocation is carved from (worst fit). */
  largestFreeBlock: number;
  /** Remainders too small for a meta block, kept inside occupied blocks. */
  hardFragBytes: number;
  /** Free blocks too small for one structure of their family. */
  softFragBlocks: number;
  /** Bytes of those blocks. */
  softFragBytes: number;
  /**
   * The classic scatter figure: 1 − largestFreeBlock / freeBytes (0 when
   * nothing is free); for heap totals 1 − Σ (largest free block of each
   * family) / freeBytes. It counts every hole but the largest, even holes
   * that fit the family's structures: see `fragmentation.external` for the
   * figure that counts only unusable holes.
   */
  externalFragmentation: number;
  /** Successful allocations. */
  allocCount: number;
  /** Successful frees. */
  freeCount: number;
  /** Successful reallocs. */
  reallocCount: number;
}

/**
 * Statistics of one page family.
 *
 * @example A family in a report
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ label: "r" });
 * heap.register("emp_t", 36);
 * heap.alloc("emp_t", 2);
 * const report = heap.report();
 * assert.deepEqual(report.heaps[0].families.map((f) => f.name), ["bytes", "emp_t"]);
 * ```
 */
export interface FamilyReport extends FamilyStats {
  /** Holes measured against what this family asks for. */
  fragmentation: FragmentationReport;
}

/** A family's statistics, as `heap.stats()` gives them. */
export interface FamilyStats extends StatsFields {
  /** Family id (0 is the untyped family "bytes"). */
  id: number;
  /** Registered name. */
  name: string;
  /** Size of one structure in bytes. */
  structSize: number;
}

/**
 * Fragmentation that means something for a family: a free block (a hole)
 * that can hold the family's typical request is usable space; only holes
 * smaller than that are fragmentation.
 *
 * @example A single-size family whose holes all fit
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ label: "f", pageSize: 4096 });
 * const node = heap.register("node_t", 48);
 * const blocks = Array.from({ length: 20 }, () => heap.alloc(node));
 * for (let i = 0; i < 20; i += 2) heap.free(blocks[i]);
 * const [family] = heap.report().heaps[0].families.filter((f) => f.name === "node_t");
 * assert.ok(family.externalFragmentation > 0.05); // the classic figure counts the holes
 * assert.equal(family.fragmentation.external, 0); // but each of them fits a node_t
 * ```
 */
export interface FragmentationReport {
  /**
   * Bytes the holes are measured against: the median request of the
   * family's live blocks, or one structure when none is live; rounded up to
   * the 16-byte alignment (0 in heap totals).
   */
  typicalRequest: number;
  /** Free blocks (holes). */
  holes: number;
  /** Holes smaller than `typicalRequest`. */
  tooSmallHoles: number;
  /** Their bytes. */
  tooSmallBytes: number;
  /** External fragmentation: tooSmallBytes / freeBytes (0 when nothing is free). */
  external: number;
}

/**
 * Heap totals.
 *
 * @example Heap totals
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ label: "r" });
 * heap.register("emp_t", 36);
 * heap.alloc("emp_t", 2);
 * const report = heap.report();
 * assert.equal(report.heaps[0].totals.families, 2);
 * assert.equal(report.heaps[0].totals.pages, 1);
 * ```
 */
export interface TotalsReport extends TotalsStats {
  /** The families' fragmentation figures added up (`typicalRequest` is 0). */
  fragmentation: FragmentationReport;
}

/** A heap's totals, as `heap.stats()` gives them. */
export interface TotalsStats extends StatsFields {
  /** Registered families, "bytes" included. */
  families: number;
  /** Idle pages: empty, kept for reuse by any family (also counted in `pages`). */
  cachedPages: number;
  /** Their bytes. */
  cachedBytes: number;
  /** Pages placed since the heap was created. */
  pagesTaken: number;
  /** Pages given back to the kernel since the heap was created. */
  pagesReturned: number;
  /** Address space reserved for the heap's arenas (costs no memory by itself). */
  reservedBytes: number;
  /** Arenas reserved. */
  arenas: number;
  /**
   * The engine found damage (CORRUPTED) and refuses to touch the heap's
   * memory since (POISONED); statistics and reports still answer. Absent
   * in reports written before it existed.
   */
  poisoned?: boolean;
}

/**
 * One data block of a page, in address order.
 *
 * @example Blocks of a page
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ label: "r" });
 * heap.register("emp_t", 36);
 * heap.alloc("emp_t", 2);
 * const report = heap.report();
 * const [block] = report.heaps[0].pages[0].blocks;
 * assert.equal(block.requested, 72);
 * assert.equal(block.free, false);
 * ```
 */
export interface BlockReport {
  /** Offset of the data from the page base. */
  offset: number;
  /** Data bytes of the block. */
  size: number;
  /** Bytes asked for (0 when free). */
  requested: number;
  /** True when the block is free. */
  free: boolean;
  /** Allocation site: the `file:line` of its innermost stack frame, or null. */
  site: string | null;
  /** Its stack: a key of {@link Report.stacks}, 0 for none. */
  stack: number;
  /** For a live block: direct or indirect (see {@link LeaksReport}); null when free. */
  kind: LeakKind | null;
}

/**
 * One VM page with its blocks.
 *
 * @example Pages of a heap
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ label: "r" });
 * heap.register("emp_t", 36);
 * heap.alloc("emp_t", 2);
 * const report = heap.report();
 * const [page] = report.heaps[0].pages;
 * assert.match(page.base, /^0x[0-9a-f]+$/);
 * assert.equal(page.family, 1);
 * ```
 */
export interface PageReport {
  /** Page base address, hexadecimal ("0x7f..."). */
  base: string;
  /** Bytes mapped. */
  size: number;
  /** Family id owning the page. */
  family: number;
  /** Its blocks in address order. */
  blocks: BlockReport[];
}

/**
 * How a live block is held, as valgrind and LeakSanitizer classify leaks: a
 * block whose address (or an address inside it) is stored, in an 8-byte
 * aligned word, in another live block is `"indirect"` (it leaks because that
 * one does); the others are `"direct"`. In a cycle of blocks that nothing
 * else points to, the lowest address is counted direct.
 */
export type LeakKind = "direct" | "indirect";

/** A count of blocks and their requested bytes. */
export interface Tally {
  /** Blocks. */
  count: number;
  /** Bytes the application asked for in them. */
  bytes: number;
}

/**
 * Live blocks that share one stack, one family and one kind.
 *
 * @example Leaks grouped by stack
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ trackSites: "all" });
 * function makeNode() {
 *   return heap.allocBytes(24);
 * }
 * for (let i = 0; i < 2; i++) makeNode(); // one stack: the same line calls it twice
 * makeNode(); // another stack: another caller's line
 * const [site] = heap.leaks().bySite;
 * assert.equal(site.count, 2);
 * assert.equal(site.kind, "direct");
 * assert.match(site.stack[0], /^makeNode \(/);
 * ```
 */
export interface SiteLeak extends Tally {
  /** The innermost frame's `file:line`, or "unknown" for blocks without a stack. */
  site: string;
  /** The frames, innermost first, as text (`fn (file:line:col)`). */
  stack: string[];
  /** The stack's key in {@link Report.stacks} (0: none). */
  stackId: number;
  /** Family name. */
  family: string;
  /** Direct or indirect. */
  kind: LeakKind;
  /**
   * Blocks this group stands for: `count` when every allocation had its
   * stack recorded, else the sampling estimate Σ 1/p(size).
   */
  estimatedCount: number;
  /** Bytes this group stands for: Σ size/p(size) (= `bytes` without sampling). */
  estimatedBytes: number;
  /** Some of its blocks (at most {@link EXAMPLES_PER_SITE}): [address, requested bytes]. */
  examples: [number, number][];
  /**
   * For a family registered with a C layout: its first blocks (at most
   * {@link SAMPLES_PER_SITE}, in address order) with their fields decoded
   * from the heap's memory when the report was made. Absent for families
   * registered by size, for blocks that could not be read — a heap taken
   * by the garbage collector, a heap closed while neither stacks nor a
   * report file were asked for (its leaks are counted from its statistics,
   * no block is read) — and in reports written before samples existed.
   */
  samples?: LeakSample[];
}

/** Addresses kept per leak site as examples. */
export const EXAMPLES_PER_SITE = 20;

/** Blocks decoded per leak site of a layout family. */
export const SAMPLES_PER_SITE = 3;

/**
 * A leaked block of a family registered with a C layout, its fields
 * decoded when the report was made. A block of several structs
 * (`alloc(family, n)`) shows its first. Bounded: arrays show 8 elements,
 * strings 64 characters, and the whole block about 240 characters of text;
 * what is left out is said (`"… N more"` in an array, a string ending in
 * `…`, the key `"…"` with `"N more fields"` in a struct).
 *
 * @example The employee, leaked
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * const emp = heap.register("emp_t", { id: "u32", salary: "f64", name: "char[32]", boss: "pointer" });
 * const e = heap.alloc(emp);
 * emp.write(e, { id: 1001, salary: 5000.5, name: "Abhishek" });
 * const [sample] = heap.leaks().bySite[0].samples ?? [];
 * assert.equal(sample.address, e);
 * assert.deepEqual(sample.fields, { id: 1001, salary: 5000.5, name: "Abhishek", boss: "0x0" });
 * assert.equal(sample.text, '{ id: 1001, salary: 5000.5, name: "Abhishek", boss: 0x0 }');
 * ```
 */
export interface LeakSample {
  /** The block's address. */
  address: number;
  /**
   * Its fields as `Layout.decode` gives them: numbers, 64-bit integers as
   * decimal strings, pointers as `"0x…"`, `char[N]` as text (exact, control
   * characters included), arrays, nested objects.
   */
  fields: { [name: string]: Decoded };
  /**
   * The same on one line, as the text and HTML reports print it (after
   * escaping control characters): `{ id: 1001, name: "Ann", boss: 0x0 }` —
   * strings in double quotes with `"` and `\` escaped, numbers, 64-bit
   * integers and pointers bare.
   */
  text: string;
}

/**
 * Live blocks grouped by family and by allocation site.
 *
 * @example What is still allocated
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ label: "r" });
 * heap.register("emp_t", 36);
 * heap.alloc("emp_t", 2);
 * const report = heap.report();
 * assert.deepEqual(report.heaps[0].leaks.byFamily, [
 *   { family: "emp_t", count: 1, bytes: 72, indirect: { count: 0, bytes: 0 } },
 * ]);
 * ```
 */
export interface LeaksReport {
  /** Live (not freed) blocks. */
  blocks: number;
  /** Bytes the application asked for in them. */
  bytes: number;
  /** Blocks no other live block points to. */
  direct: Tally;
  /** Blocks that another live block points to. */
  indirect: Tally;
  /** Live blocks with no recorded stack (not sampled, or sites not tracked). */
  unsampled: Tally;
  /** Per family: live blocks and bytes, and how many of them are indirect; largest first. */
  byFamily: { family: string; count: number; bytes: number; indirect: Tally }[];
  /**
   * Per stack, family and kind: direct groups first, each kind largest
   * first. Blocks without a stack are one group per family and kind, site
   * "unknown".
   */
  bySite: SiteLeak[];
}

/**
 * One heap in a report.
 *
 * @example One heap of a report
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ label: "r" });
 * heap.register("emp_t", 36);
 * heap.alloc("emp_t", 2);
 * const report = heap.report();
 * assert.equal(report.heaps[0].label, "r");
 * assert.equal(report.heaps[0].pageSize, 65536);
 * ```
 */
export interface HeapReport {
  /** Heap number within its isolate, from 1. */
  id: number;
  /** Optional label given at creation. */
  label: string;
  /**
   * `"open"` at the time of the report; `"closed"` or `"collected"` (by the
   * garbage collector, without `close()`) with live blocks: those blocks
   * leaked at close.
   */
  state: HeapState;
  /** VM page size in bytes. */
  pageSize: number;
  /** Whether allocation stacks were recorded (all or sampled). */
  trackSites: boolean;
  /** How stacks were recorded (null: not at all). */
  sites: SiteSettings | null;
  /**
   * Bytes of the meta block in front of every data block (the seed's
   * `AppMemUsage` counts it with each occupied block).
   */
  metaBlockSize: number;
  /** Heap totals. */
  totals: TotalsReport;
  /** Per family, in id order. */
  families: FamilyReport[];
  /** Every VM page with its blocks (empty for a heap that was closed or collected). */
  pages: PageReport[];
  /** Live blocks. */
  leaks: LeaksReport;
}

/** Where a heap stood when it was reported. */
export type HeapState = "open" | "closed" | "collected";

/**
 * The whole document.
 *
 * @example Round-trip through JSON
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ label: "r" });
 * heap.register("emp_t", 36);
 * heap.alloc("emp_t", 2);
 * const report = heap.report();
 * const parsed = JSON.parse(JSON.stringify(report));
 * assert.equal(parsed.schema, "lmm-report");
 * assert.equal(parsed.heaps.length, 1);
 * ```
 */
export interface Report {
  /** Always {@link REPORT_SCHEMA}. */
  schema: typeof REPORT_SCHEMA;
  /** Always {@link REPORT_VERSION}. */
  version: number;
  /** ISO 8601 time the report was made. */
  generatedAt: string;
  /** The program that made it. */
  program: ProgramInfo;
  /** The heaps open now, then those closed or collected with live blocks. */
  heaps: HeapReport[];
  /** The stacks that blocks and leak sites name, by id; frames innermost first. */
  stacks: Record<number, StackFrame[]>;
}

/** The program (and isolate) that wrote a report or a part of one. */
export interface ProgramInfo {
  /** Process id. */
  pid: number;
  /** Main module and arguments. */
  argv: string[];
  /** For example "deno 2.9.6". */
  runtime: string;
  /** The isolate's main module: the program, a test file, or a Worker's script. */
  main: string | null;
  /** The Worker's name when the isolate is a Worker ("" for an unnamed one), else null. */
  worker: string | null;
}

// ── JSON Lines records ──────────────────────────────────────────────────────

/**
 * Why a part was written: `"exit"` the isolate ended (normally, through
 * `Deno.exit`, or at the end of a test file); `"error"` an uncaught error or
 * unhandled rejection is ending it; `"signal"` SIGINT or SIGTERM;
 * `"checkpoint"` a Worker's open heaps, written ahead of a possible
 * `terminate()`; `"close"` a heap was closed with live blocks; `"collect"` a
 * heap was garbage-collected with live blocks; `"write"` `writeReport()`.
 */
export type PartReason =
  | "exit"
  | "error"
  | "signal"
  | "checkpoint"
  | "close"
  | "collect"
  | "write";

/** Opens a part: who wrote it, when and why. */
export interface PartRecord {
  /** The record type. */
  type: "part";
  /** Always {@link REPORT_SCHEMA}. */
  schema: typeof REPORT_SCHEMA;
  /** The format version, {@link REPORT_VERSION}. */
  version: number;
  /** Isolate id, unique per isolate and process (`<pid>.<random>`). */
  isolate: string;
  /** Part number within the isolate, from 1; a later snapshot replaces an earlier one. */
  seq: number;
  /** Why it was written. */
  reason: PartReason;
  /** ISO 8601 time it was written. */
  generatedAt: string;
  /** The program and isolate that wrote it. */
  program: ProgramInfo;
}

/** A stack of the part's isolate (ids are per isolate). */
export interface StackRecord {
  /** The record type. */
  type: "stack";
  /** Its id, as blocks and leak groups name it. */
  id: number;
  /** Its frames, innermost first. */
  frames: StackFrame[];
}

/** A heap: everything but its blocks and leaks, which follow in `pages` and `leaks` records. */
export interface HeapRecord {
  /** The record type. */
  type: "heap";
  /** Heap number within its isolate. */
  id: number;
  /** Its label. */
  label: string;
  /** Open, or closed or collected with live blocks. */
  state: HeapState;
  /** VM page size. */
  pageSize: number;
  /** Bytes of a meta block. */
  metaBlockSize: number;
  /** How stacks were recorded (null: not at all). */
  sites: SiteSettings | null;
  /** Heap totals. */
  totals: TotalsReport;
  /** Per family, in id order. */
  families: FamilyReport[];
}

/**
 * One block of a `pages` record: offset from the page base, data size,
 * requested bytes (0: free), stack id (0: none), kind (0 free, 1 direct,
 * 2 indirect).
 */
export type BlockTuple = [number, number, number, number, number];

/**
 * VM pages of the heap named by `heap`, with their blocks. A page with many
 * blocks is split over several records: `first` is the index of its first
 * block in this record.
 */
export interface PagesRecord {
  /** The record type. */
  type: "pages";
  /** The heap's id. */
  heap: number;
  /** Pages: base (hexadecimal), size, family id, index of the first block here, blocks. */
  pages: { base: string; size: number; family: number; first: number; blocks: BlockTuple[] }[];
}

/** The leak summary of a heap, as in {@link LeaksReport} but with stack ids only. */
export interface LeaksRecord {
  /** The record type. */
  type: "leaks";
  /** The heap's id. */
  heap: number;
  /** Live blocks. */
  blocks: number;
  /** Bytes asked for in them. */
  bytes: number;
  /** Blocks no other live block points to. */
  direct: Tally;
  /** Blocks another live block points to. */
  indirect: Tally;
  /** Live blocks without a recorded stack. */
  unsampled: Tally;
  /** Per family. */
  byFamily: LeaksReport["byFamily"];
  /** Per stack, family and kind, direct first. */
  byStack: Omit<SiteLeak, "site" | "stack">[];
}

/**
 * Statistics of the isolate's open heaps sampled over time: each point is
 * [ms since `start`, app bytes, live blocks, bytes mapped].
 */
export interface TimelineRecord {
  /** The record type. */
  type: "timeline";
  /** ISO 8601 time of the first point's origin. */
  start: string;
  /** The points. */
  points: [number, number, number, number][];
}

/** Closes a part; a part without one was cut short (its writer was killed). */
export interface EndRecord {
  /** The record type. */
  type: "end";
  /** The part's number. */
  seq: number;
}

/** Any line of a report file. */
export type ReportRecord =
  | PartRecord
  | StackRecord
  | HeapRecord
  | PagesRecord
  | LeaksRecord
  | TimelineRecord
  | EndRecord;
