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
 * The native library loads lazily. From JSR, `await loadLibrary()` once
 * before the first heap: it opens the library the package carries for your
 * platform (x86_64 or aarch64 Linux), copying it into a cache the first time
 * and checking its SHA-256. `LMM_LIB` names a library of your own instead;
 * inside the repository the first `new Heap()` opens the build. Run with
 * `--allow-ffi`, plus `--allow-env`, `--allow-read`, `--allow-write` (the
 * cache) and `--allow-net=jsr.io` (the first fetch). When `LMM_REPORT`
 * names a file (`lmm run` sets it), every heap's live blocks are appended
 * there — a heap closed or collected with live blocks at once, the open ones
 * when the program ends or gets SIGINT/SIGTERM — with the allocation stacks
 * of a byte-weighted sample of them. In tests, {@linkcode assertNoLeaks} and
 * {@linkcode leakCheck} fail on leaks.
 *
 * The classic Linux Memory Manager API (`xcalloc`, `xfree`, `mmPrint*`) is
 * its own module: `@lmm/lmm/seed`. The `lmm` command is `@lmm/lmm/cli`.
 *
 * @example Structures, statistics, leaks
 * ```ts
 * import { Heap, loadLibrary } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * await loadLibrary();
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
  type HeapMemory,
  type HeapOptions,
  type HeapPage,
  type HeapStats,
  type LayoutFamily,
} from "./ffi/heap.ts";
export { LmmError, type LmmErrorCode, type LmmErrorOptions } from "./ffi/errors.ts";
export { STATUS } from "./ffi/native/abi.ts";
export type { Window } from "./ffi/arena.ts";
export {
  type ArrayType,
  type CDeclarationOptions,
  type CharType,
  type Decoded,
  type DecodeOptions,
  type FieldInput,
  type FieldType,
  type FieldValue,
  type Int64Type,
  Layout,
  LAYOUT_MAX_FIELDS,
  LAYOUT_MAX_NAME,
  LAYOUT_MAX_SIZE,
  type LayoutCarrier,
  type LayoutInput,
  type LayoutSpec,
  type LayoutValue,
  type Member,
  type ScalarInput,
  type ScalarType,
  type ScalarValue,
  type SpecOf,
} from "./ffi/layout.ts";
export {
  type AccessorOf,
  type ArrayAccessor,
  bindLayout,
  type BoundLayout,
  bufferMemory,
  type FieldAccessor,
  type Fields,
  type Int64Accessor,
  type Memory,
  type MemoryWindow,
  type ScalarAccessor,
  type StructAccessor,
  type UntypedAccessor,
} from "./ffi/accessors.ts";
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
  type LeakSample,
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
  SAMPLES_PER_SITE,
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
