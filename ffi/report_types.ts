/**
 * The LMM report: one versioned JSON document with the statistics, the block
 * map and the live blocks (leaks) of every heap of a program. `heap.report()`
 * builds it, `LMM_REPORT` makes the library write it at exit, and the `lmm`
 * CLI renders it as text, JSON or HTML.
 *
 * Compatibility: readers accept `version` equal to {@link REPORT_VERSION};
 * a new field may be added without a version change, a field is never
 * renamed or removed without one.
 *
 * @module
 */

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
export const REPORT_VERSION = 1;

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
   * External fragmentation: 1 − largestFreeBlock / freeBytes (0 when nothing
   * is free). For heap totals: 1 − Σ (largest free block of each family) /
   * freeBytes, the free-bytes weighted mean of the families' figures, since
   * one family's free space never serves another.
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
export interface FamilyReport extends StatsFields {
  /** Family id (0 is the untyped family "bytes"). */
  id: number;
  /** Registered name. */
  name: string;
  /** Size of one structure in bytes. */
  structSize: number;
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
export interface TotalsReport extends StatsFields {
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
  /** Allocation site ("file:line"), or null. */
  site: string | null;
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
 * assert.deepEqual(report.heaps[0].leaks.byFamily, [{ family: "emp_t", count: 1, bytes: 72 }]);
 * ```
 */
export interface LeaksReport {
  /** Live (not freed) blocks. */
  blocks: number;
  /** Bytes the application asked for in them. */
  bytes: number;
  /** Per family: live blocks and bytes. */
  byFamily: { family: string; count: number; bytes: number }[];
  /** Per allocation site (only with `trackSites`; "unknown" otherwise). */
  bySite: { site: string; family: string; count: number; bytes: number }[];
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
  /** Heap number within the process, from 1. */
  id: number;
  /** Optional label given at creation. */
  label: string;
  /** VM page size in bytes. */
  pageSize: number;
  /** Whether allocation sites were recorded. */
  trackSites: boolean;
  /**
   * Bytes of the meta block in front of every data block (the seed's
   * `AppMemUsage` counts it with each occupied block).
   */
  metaBlockSize: number;
  /** Heap totals. */
  totals: TotalsReport;
  /** Per family, in id order. */
  families: FamilyReport[];
  /** Every VM page with its blocks. */
  pages: PageReport[];
  /** Live blocks. */
  leaks: LeaksReport;
}

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
  program: { pid: number; argv: string[]; runtime: string };
  /** The heaps that were open. */
  heaps: HeapReport[];
}
