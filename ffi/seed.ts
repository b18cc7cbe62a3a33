/**
 * The seed's API (the Linux Memory Manager course, `mm.h`/`uapi_mm.h`) on
 * one default heap per process: `mmInit`, `mmRegStruct`, `xcalloc`,
 * `xfree` and the three printing functions. Errors are `LmmError`s instead
 * of the seed's `printf` + `NULL`/`assert`.
 *
 * @module
 */

import { formatBlockUsage, formatMemoryUsage, formatRegisteredPageFamilies } from "./format.ts";
import { type Family, Heap, type HeapOptions } from "./heap.ts";
import { heapReport } from "./report.ts";

/** The seed took VM pages of the system page size; so does the default heap. */
const SEED_PAGE_SIZE = 4096;
/** The seed gave an empty page back to the kernel at once: no page cache. */
const SEED_PAGE_CACHE = 0;

let defaultHeap: Heap | undefined;

/**
 * The seed's `mm_init()`: creates the default heap (4 KiB pages, like the
 * seed's `getpagesize()`, and no page cache: an empty page goes back to the
 * kernel at once, as in the seed) unless it is open already, and returns it. The
 * other seed functions call it themselves, so calling it is optional.
 *
 * @example Start the default heap
 * ```ts
 * import { mmInit } from "@lmm/lmm";
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
      label: "default",
      ...options,
    });
  }
  return defaultHeap;
}

/**
 * The seed's `MM_REG_STRUCT` / `mm_instantiate_new_page_family`: registers
 * a structure by name and size on the default heap.
 *
 * @example Register structures
 * ```ts
 * import { mmRegStruct } from "@lmm/lmm";
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
 * The seed's `xcalloc(struct_name, units)`: zeroed memory for `units`
 * structures of a registered family, from the default heap.
 *
 * @example Allocate and free
 * ```ts
 * import { mmRegStruct, xcalloc, xfree } from "@lmm/lmm";
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
 * The seed's `xfree(ptr)`: gives a block back to the default heap.
 *
 * @example Free twice is an error, not a crash
 * ```ts
 * import { LmmError, mmRegStruct, xcalloc, xfree } from "@lmm/lmm";
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
 * The seed's `mm_print_memory_usage(struct_name)`: prints every page and
 * block of the default heap (or of one family) and the pages in use.
 *
 * @example Print the block map
 * ```ts
 * import { mmPrintMemoryUsage, mmRegStruct, xcalloc } from "@lmm/lmm";
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
 * The seed's `mm_print_block_usage()`: per family TBC, FBC, OBC and
 * AppMemUsage of the default heap.
 *
 * @example Print block counts
 * ```ts
 * import { mmPrintBlockUsage } from "@lmm/lmm";
 *
 * mmPrintBlockUsage();
 * ```
 */
export function mmPrintBlockUsage(): void {
  console.log(formatBlockUsage(heapReport(mmInit())));
}

/**
 * The seed's `mm_print_registered_page_families()`.
 *
 * @example Print the families
 * ```ts
 * import { mmPrintRegisteredPageFamilies, mmRegStruct } from "@lmm/lmm";
 *
 * mmRegStruct("seed_doc_car_t", 48);
 * mmPrintRegisteredPageFamilies(); // Page Family : seed_doc_car_t, Size = 48
 * ```
 */
export function mmPrintRegisteredPageFamilies(): void {
  console.log(formatRegisteredPageFamilies(heapReport(mmInit())));
}
