/**
 * LMM — a Linux heap memory manager for Deno: native memory with
 * deterministic free, per-structure accounting and leak detection.
 *
 * A {@linkcode Heap} takes VM pages from the kernel, carves them into blocks
 * served worst fit per *page family* (a structure registered by name and
 * size), and accounts for every byte. Addresses are plain numbers; look at
 * a block through {@linkcode Heap.prototype.bytes} or
 * {@linkcode Heap.prototype.view}, hand it to other FFI libraries with
 * {@linkcode Heap.prototype.pointer}. Bad input — a double free, an address
 * from elsewhere, a NaN size — throws an {@linkcode LmmError} with a stable
 * `code` and leaves the heap intact.
 *
 * The native library loads lazily on the first `new Heap()`: from `LMM_LIB`,
 * else the repository build (`deno task build`), else the download cache
 * (`await loadLibrary()` downloads it). Run with `--allow-ffi` (plus
 * `--allow-env`/`--allow-read`/`--allow-net` for those steps). When
 * `LMM_REPORT` names a file (`lmm run` sets it), every heap's live blocks
 * are appended there — a heap closed or collected with live blocks at once,
 * the open ones when the program ends or gets SIGINT/SIGTERM — with the
 * allocation stacks of a byte-weighted sample of them. In tests,
 * {@linkcode assertNoLeaks} and {@linkcode leakCheck} fail on leaks.
 *
 * The seed's C API is here too, on a default heap: {@linkcode mmInit},
 * {@linkcode mmRegStruct}, {@linkcode xcalloc}, {@linkcode xfree} and the
 * `mmPrint*` functions with the seed's output formats.
 *
 * @example Structures, statistics, leaks
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ trackSites: true });
 * const emp = heap.register("emp_t", 36);
 * const a = heap.alloc(emp, 2); // zeroed, like xcalloc
 * const b = heap.alloc("emp_t");
 * heap.view(a).setUint32(0, 1001, true);
 * heap.free(b);
 * assert.equal(heap.stats().families[emp.id].occupiedBlocks, 1);
 * assert.equal(heap.leaks().byFamily[0].bytes, 72);
 * heap.check();
 * ```
 *
 * @module
 */

export {
  type BlockInfo,
  type Family,
  Heap,
  type HeapBlock,
  type HeapOptions,
  type HeapPage,
  type HeapStats,
} from "./ffi/heap.ts";
export { LmmError, type LmmErrorCode, type LmmErrorOptions } from "./ffi/errors.ts";
export {
  type LibraryInfo,
  libraryInfo,
  type LibrarySource,
  loadLibrary,
  type LoadOptions,
} from "./ffi/native/loader.ts";
export { report, writeReport } from "./ffi/report.ts";
export {
  assertNoLeaks,
  type LeakAssertOptions,
  leakCheck,
  LeakError,
} from "./ffi/report/assert.ts";
export {
  type BlockReport,
  type BlockTuple,
  type EndRecord,
  EXAMPLES_PER_SITE,
  type FamilyReport,
  type FamilyStats,
  type FragmentationReport,
  type HeapRecord,
  type HeapReport,
  type HeapState,
  type LeakKind,
  type LeaksRecord,
  type LeaksReport,
  type PageReport,
  type PagesRecord,
  type PartReason,
  type PartRecord,
  type ProgramInfo,
  type Report,
  REPORT_SCHEMA,
  REPORT_VERSION,
  type ReportRecord,
  type SiteLeak,
  type SiteMode,
  type SiteSettings,
  type StackFrame,
  type StackRecord,
  type StatsFields,
  type Tally,
  type TimelineRecord,
  type TotalsReport,
  type TotalsStats,
} from "./ffi/report_types.ts";
export {
  formatBlockUsage,
  formatMemoryUsage,
  type FormatOptions,
  formatRegisteredPageFamilies,
} from "./ffi/format.ts";
export {
  mmInit,
  mmPrintBlockUsage,
  mmPrintMemoryUsage,
  mmPrintRegisteredPageFamilies,
  mmRegStruct,
  xcalloc,
  xfree,
} from "./ffi/seed.ts";
