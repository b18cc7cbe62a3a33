/**
 * Reports: {@linkcode report} of every heap of this isolate, and
 * {@linkcode writeReport} to a JSON Lines file. With `LMM_REPORT` set, the
 * library also writes the report there by itself (see `report/process.ts`):
 * heaps closed or collected with live blocks at once, the open ones when
 * the isolate ends or is interrupted by SIGINT or SIGTERM.
 *
 * @module
 */

import type { Heap } from "./heap.ts";
import { lib } from "./native/loader.ts";
import type { HeapReport, Report } from "./report_types.ts";
import { processReport, writeIsolateReport } from "./report/process.ts";

/**
 * The report of every heap of this isolate: the open ones with all their
 * blocks, then those closed or garbage-collected with live blocks (their
 * leaks, without their blocks).
 *
 * @example Report all heaps
 * ```ts
 * import { Heap, report } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using a = new Heap({ label: "a" });
 * {
 *   using b = new Heap({ label: "b" });
 *   b.allocBytes(8); // never freed: leaked when b is closed
 * }
 * const heaps = report().heaps;
 * assert.ok(heaps.some((h) => h.label === "a" && h.state === "open"));
 * assert.ok(heaps.some((h) => h.label === "b" && h.state === "closed" && h.leaks.blocks === 1));
 * ```
 *
 * @returns The report.
 */
export function report(): Report {
  return processReport();
}

/**
 * Writes the report of this isolate to `path` as JSON Lines (what
 * `lmm report` reads), atomically: a temporary file beside it, then a
 * rename, so that a reader never sees half a report.
 *
 * @example Write a report file
 * ```ts
 * import { Heap, writeReport } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * heap.allocBytes(16);
 * const path = Deno.makeTempFileSync({ suffix: ".jsonl" });
 * writeReport(path);
 * const records = Deno.readTextFileSync(path).trim().split("\n").map((l) => JSON.parse(l));
 * assert.equal(records[0].schema, "lmm-report");
 * assert.ok(records.some((r) => r.type === "heap"));
 * Deno.removeSync(path);
 * ```
 *
 * @param path Destination file.
 */
export function writeReport(path: string): void {
  writeIsolateReport(path);
}

/**
 * One open heap's part of a report (what the seed's print functions format).
 *
 * @param heap An open heap.
 * @returns Its report, with every page and block.
 */
export function heapReport(heap: Heap): HeapReport {
  return heap.report().heaps[0];
}

/**
 * Bytes of the meta block in front of every data block, as the loaded engine
 * was built (`lmm_meta_block_size`).
 *
 * @returns The meta block size of the loaded engine.
 */
export function metaBlockSize(): number {
  return lib().lmm_meta_block_size();
}
