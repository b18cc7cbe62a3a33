/**
 * The classic Linux Memory Manager API (`mm.h`/`uapi_mm.h` of the C
 * original) on one default heap per process: `mmInit`, `mmRegStruct`,
 * `xcalloc`, `xfree` and the three printing functions. Errors are
 * `LmmError`s instead of the original's `printf` + `NULL`/`assert`. The
 * `./seed` export (`seed.ts`) publishes them.
 *
 * @module
 */

import { formatBlockUsage, formatMemoryUsage, formatRegisteredPageFamilies } from "./format.ts";
import { type Family, Heap, type HeapOptions } from "./heap.ts";
import { heapReport } from "./report.ts";

/** The C original took VM pages of the system page size; so does the default heap. */
const SEED_PAGE_SIZE = 4096;
/** The C original gave an empty page back to the kernel at once: no page cache. */
const SEED_PAGE_CACHE = 0;

let defaultHeap: Heap | undefined;

/**
 * `mm_init()`: creates the default heap (4 KiB pages, like the C original's
 * `getpagesize()`, and no page cache: an empty page goes back to the kernel
 * at once, as in the original) unless it is open already, and returns it.
 * The other functions of this API call it themselves, so calling it is
 * optional.
 *
 * @example Start the default heap
 * ```ts
 * import { mmInit } from "@lmm/lmm/seed";
 * import assert from "node:assert/strict";
 *
 * const heap = mmInit();
 * assert.equal(heap.pageSize, 4096);
 * assert.equal(mmInit(), heap); // idempotent
 * ```
 *
 * @param options Heap options, used only when the heap is created.
 * @returns The default heap.
 */
export function mmInit(options: HeapOptions = {}): Heap {
  if (defaultHeap === undefined || defaultHeap.closed) {
    defaultHeap = new Heap({
      pageSize: SEED_PAGE_SIZE,
      pageCache: SEED_PAGE_CACHE,
      // The classic heap, block for block: no front caches or size classes.
      exact: true,
      label: "default",
      ...options,
    });
  }
  return defaultHeap;
}

/**
 * `MM_REG_STRUCT` / `mm_instantiate_new_page_family`: registers
 * a structure by name and size on the default heap.
 *
 * @example Register structures
 * ```ts
 * import { mmRegStruct } from "@lmm/lmm/seed";
 * import assert from "node:assert/strict";
 *
 * const family = mmRegStruct("seed_doc_emp_t", 36);
 * assert.equal(family.structSize, 36);
 * ```
 *
 * @param name Structure name (1–63 bytes, unique).
 * @param size `sizeof` the structure.
 * @returns The family.
 * @throws {LmmError} like `Heap.register`.
 */
export function mmRegStruct(name: string, size: number): Family {
  return mmInit().register(name, size);
}

/**
 * `xcalloc(struct_name, units)`: zeroed memory for `units`
 * structures of a registered family, from the default heap.
 *
 * @example Allocate and free
 * ```ts
 * import { mmRegStruct, xcalloc, xfree } from "@lmm/lmm/seed";
 *
 * mmRegStruct("seed_doc_student_t", 40);
 * const student = xcalloc("seed_doc_student_t", 1);
 * xfree(student);
 * ```
 *
 * @param name A registered structure name.
 * @param units How many structures (default 1).
 * @returns The block's address.
 * @throws {LmmError} like `Heap.alloc`.
 */
export function xcalloc(name: string, units: number = 1): number {
  return mmInit().alloc(name, units);
}

/**
 * `xfree(ptr)`: gives a block back to the default heap.
 *
 * @example Free twice is an error, not a crash
 * ```ts
 * import { LmmError, mmRegStruct, xcalloc, xfree } from "@lmm/lmm/seed";
 * import assert from "node:assert/strict";
 *
 * mmRegStruct("seed_doc_node_t", 16);
 * const p = xcalloc("seed_doc_node_t");
 * xfree(p);
 * assert.throws(() => xfree(p), LmmError);
 * ```
 *
 * @param address What `xcalloc` returned.
 * @throws {LmmError} like `Heap.free`.
 */
export function xfree(address: number): void {
  mmInit().free(address);
}

/**
 * `mm_print_memory_usage(struct_name)`: prints every page and
 * block of the default heap (or of one family) and the pages in use.
 *
 * @example Print the block map
 * ```ts
 * import { mmPrintMemoryUsage, mmRegStruct, xcalloc } from "@lmm/lmm/seed";
 *
 * mmRegStruct("seed_doc_item_t", 24);
 * xcalloc("seed_doc_item_t", 2);
 * mmPrintMemoryUsage("seed_doc_item_t");
 * ```
 *
 * @param name Only this structure's family.
 */
export function mmPrintMemoryUsage(name?: string): void {
  console.log(formatMemoryUsage(heapReport(mmInit()), { family: name }));
}

/**
 * `mm_print_block_usage()`: per family TBC, FBC, OBC and
 * AppMemUsage of the default heap.
 *
 * @example Print block counts
 * ```ts
 * import { mmPrintBlockUsage } from "@lmm/lmm/seed";
 *
 * mmPrintBlockUsage();
 * ```
 */
export function mmPrintBlockUsage(): void {
  console.log(formatBlockUsage(heapReport(mmInit())));
}

/**
 * `mm_print_registered_page_families()`.
 *
 * @example Print the families
 * ```ts
 * import { mmPrintRegisteredPageFamilies, mmRegStruct } from "@lmm/lmm/seed";
 *
 * mmRegStruct("seed_doc_car_t", 48);
 * mmPrintRegisteredPageFamilies(); // Page Family : seed_doc_car_t, Size = 48
 * ```
 */
export function mmPrintRegisteredPageFamilies(): void {
  console.log(formatRegisteredPageFamilies(heapReport(mmInit())));
}
