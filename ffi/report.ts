/**
 * Reports: the versioned JSON document of `report_types.ts`, built from the
 * public API of each open heap, and the `LMM_REPORT` exit hook that writes
 * it (atomically: temp file + rename) when the program ends: normally,
 * through `Deno.exit`, or by an uncaught error.
 *
 * @module
 */

import { envGet } from "./env.ts";
import { hex } from "./errors.ts";
import type { Heap } from "./heap.ts";
import { lib } from "./native/loader.ts";
import { openHeaps } from "./registry.ts";
import { type HeapReport, type Report, REPORT_SCHEMA, REPORT_VERSION } from "./report_types.ts";

/**
 * The report of every open heap.
 *
 * @example Report all heaps
 * ```ts
 * import { Heap, report } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using a = new Heap({ label: "a" });
 * using b = new Heap({ label: "b" });
 * const labels = report().heaps.map((h) => h.label);
 * assert.ok(labels.includes("a") && labels.includes("b"));
 * ```
 *
 * @returns A report with every heap that is open now.
 */
export function report(): Report {
  return buildReport(openHeaps());
}

/**
 * Writes a report as JSON to `path` atomically (a temporary file next to
 * it, then a rename), so that a reader never sees half a report.
 *
 * @example Write a report file
 * ```ts
 * import { Heap, writeReport } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * const path = Deno.makeTempFileSync({ suffix: ".json" });
 * writeReport(path);
 * assert.equal(JSON.parse(Deno.readTextFileSync(path)).schema, "lmm-report");
 * Deno.removeSync(path);
 * ```
 *
 * @param path Destination file.
 * @param document The report (default: {@linkcode report} of every open heap).
 */
export function writeReport(path: string, document: Report = report()): void {
  const temp = `${path}.${Deno.pid}.tmp`;
  try {
    Deno.writeTextFileSync(temp, JSON.stringify(document) + "\n");
    Deno.renameSync(temp, path);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch { /* never created */ }
    throw error;
  }
}

/** Builds the report document of the given heaps. */
export function buildReport(heaps: readonly Heap[]): Report {
  return {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    generatedAt: new Date().toISOString(),
    program: programInfo(),
    heaps: heaps.map(heapReport),
  };
}

/** One heap's part of the report. */
export function heapReport(heap: Heap): HeapReport {
  const { totals, families } = heap.stats();
  return {
    id: heap.id,
    label: heap.label,
    pageSize: heap.pageSize,
    trackSites: heap.trackSites,
    metaBlockSize: metaBlockSize(),
    totals,
    families,
    pages: heap.blocks().map((page) => ({
      base: hex(page.base),
      size: page.size,
      family: page.family.id,
      blocks: page.blocks.map((block) => ({
        offset: block.offset,
        size: block.size,
        requested: block.requested,
        free: block.free,
        site: block.site,
      })),
    })),
    leaks: heap.leaks(),
  };
}

function programInfo(): Report["program"] {
  let main = "";
  try {
    main = Deno.mainModule;
  } catch { /* not permitted */ }
  return {
    pid: Deno.pid,
    argv: main === "" ? [...Deno.args] : [main, ...Deno.args],
    runtime: `deno ${Deno.version.deno}`,
  };
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

let armed = false;

/**
 * Makes sure that the `LMM_REPORT` exit hook is installed (called by the
 * first `new Heap()`; nothing is installed at import). The report is written
 * on `unload` (a normal end or `Deno.exit`), and also when an uncaught
 * exception or an unhandled rejection is about to end the program, which
 * skips `unload`; if the program survives such an event (a handler called
 * `preventDefault()`), the report of its real end overwrites that one.
 */
export function armExitReport(): void {
  if (armed) return;
  armed = true;
  globalThis.addEventListener("unload", writeExitReport);
  globalThis.addEventListener("error", writeUnlessHandled);
  globalThis.addEventListener("unhandledrejection", writeUnlessHandled);
}

function writeUnlessHandled(event: Event): void {
  if (!event.defaultPrevented) writeExitReport();
}

/** Writes the report of every open heap to `LMM_REPORT`, if set. */
function writeExitReport(): void {
  const path = envGet("LMM_REPORT");
  if (path === undefined) return;
  try {
    writeReport(path);
  } catch (error) {
    console.error(
      `lmm: could not write the report to ${path} (LMM_REPORT): ${(error as Error).message}`,
    );
  }
}
