/**
 * The classic Linux Memory Manager API on LMM: `mm_init`, `MM_REG_STRUCT`,
 * `XCALLOC`, `XFREE` and the three printing functions of the C original,
 * as {@linkcode mmInit}, {@linkcode mmRegStruct}, {@linkcode xcalloc},
 * {@linkcode xfree}, {@linkcode mmPrintMemoryUsage},
 * {@linkcode mmPrintBlockUsage} and {@linkcode mmPrintRegisteredPageFamilies},
 * on one default heap per process (4 KiB VM pages, every empty page given
 * back to the kernel at once, as the original did). The `format*` functions
 * return the same text from any heap's report.
 *
 * Errors are {@linkcode LmmError}s instead of the original's `printf` and
 * `NULL`. For everything else — several heaps, statistics as data, typed
 * field access, leak reports — use the main module, `@lmm/lmm`.
 *
 * From JSR, call `await loadLibrary()` once before the first call: it opens
 * the library the package carries for your platform.
 *
 * @example The classic walkthrough
 * ```ts
 * import { loadLibrary, mmPrintBlockUsage, mmRegStruct, xcalloc, xfree } from "@lmm/lmm/seed";
 *
 * await loadLibrary();
 * mmRegStruct("emp_t", 36);
 * const emp = xcalloc("emp_t", 2); // zeroed memory for two emp_t
 * mmPrintBlockUsage(); // emp_t   TBC : 2   FBC : 1   OBC : 1   AppMemUsage : 72
 * xfree(emp);
 * ```
 *
 * @module
 */

export {
  mmInit,
  mmPrintBlockUsage,
  mmPrintMemoryUsage,
  mmPrintRegisteredPageFamilies,
  mmRegStruct,
  xcalloc,
  xfree,
} from "./ffi/seed.ts";
export {
  formatBlockUsage,
  formatMemoryUsage,
  type FormatOptions,
  formatRegisteredPageFamilies,
} from "./ffi/format.ts";
export { loadLibrary } from "./ffi/native/loader.ts";
export { LmmError } from "./ffi/errors.ts";
// The types the functions above take and return (Heap, Family, HeapReport, …), for reference.
export type * from "./mod.ts";
