/**
 * The text formats of the classic Linux Memory Manager API (`mm.c`'s
 * `mm_print_registered_page_families`, `mm_print_block_usage`,
 * `mm_print_memory_usage`), as pure functions of a heap's report. They
 * print what the C original printed, with LMM's own numbers:
 *
 * - `offset` is the offset of the block's data from its page's base;
 * - addresses are data addresses (what `xcalloc` returned), `(nil)` for none;
 * - `AppMemUsage` is the family's *app bytes*, the one meaning LMM gives
 *   that name everywhere (text, JSON `appBytes`, HTML): the bytes the
 *   program asked for and still holds, `units × struct size` summed over
 *   its live blocks. Rounding, kept remainders and meta blocks are not in it
 *   (the C original added each block's size and meta block here).
 *
 * The untyped family `"bytes"` is shown only when it holds pages (the original
 * had no such family). With `maskAddresses`, every address is written as
 * `P<page index>+0x<offset>`, which makes the output the same on every run.
 *
 * @module
 */

import type { FamilyReport, HeapReport, PageReport } from "./report_types.ts";

/**
 * Options of {@linkcode formatMemoryUsage}.
 *
 * @example One family, reproducible addresses
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import { formatMemoryUsage } from "@lmm/lmm/seed";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ pageSize: 4096 });
 * heap.register("emp_t", 36);
 * heap.alloc("emp_t");
 * const text = formatMemoryUsage(heap.report().heaps[0], { family: "emp_t", maskAddresses: true });
 * assert.match(text, /P0\+0x[0-9a-f]+ +Block 0 +ALLOCATED/);
 * ```
 */
export interface FormatOptions {
  /** Only this family (the original's `struct_name` argument). */
  family?: string;
  /** Write addresses as `P<page>+0x<offset>` so that output is reproducible. */
  maskAddresses?: boolean;
}

/**
 * `mm_print_registered_page_families()`: one line per family.
 *
 * @example Registered families
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import { formatRegisteredPageFamilies } from "@lmm/lmm/seed";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * heap.register("emp_t", 36);
 * const [report] = heap.report().heaps;
 * assert.equal(formatRegisteredPageFamilies(report), "Page Family : emp_t, Size = 36");
 * ```
 *
 * @param heap One heap of a report.
 * @returns The text, lines joined with `\n`, no trailing newline.
 */
export function formatRegisteredPageFamilies(heap: HeapReport): string {
  return shownFamilies(heap)
    .map((f) => `Page Family : ${f.name}, Size = ${f.structSize}`)
    .join("\n");
}

/**
 * `mm_print_block_usage()`: per family the total, free and
 * occupied block counts (TBC, FBC, OBC) and the app bytes (`AppMemUsage`).
 *
 * @example Block usage
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import { formatBlockUsage } from "@lmm/lmm/seed";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * heap.register("emp_t", 36);
 * heap.alloc("emp_t");
 * const [report] = heap.report().heaps;
 * assert.match(formatBlockUsage(report), /^emp_t +TBC : 2 +FBC : 1 +OBC : 1 +AppMemUsage : 36$/);
 * ```
 *
 * @param heap One heap of a report.
 * @returns The text, one line per family, no trailing newline.
 */
export function formatBlockUsage(heap: HeapReport): string {
  return shownFamilies(heap).map((family) => {
    let total = 0;
    let free = 0;
    for (const page of heap.pages) {
      if (page.family !== family.id) continue;
      for (const block of page.blocks) {
        total++;
        if (block.free) free++;
      }
    }
    return `${family.name.padEnd(20)}   TBC : ${String(total).padEnd(4)}    ` +
      `FBC : ${String(free).padEnd(4)}    OBC : ${
        String(total - free).padEnd(4)
      } AppMemUsage : ${family.appBytes}`;
  }).join("\n");
}

/**
 * `mm_print_memory_usage(struct_name)`: the page size, then per
 * family its pages with every block (address, number, state, size, offset,
 * neighbours), then the number of pages in use and the memory they take.
 *
 * @example Memory usage, reproducible
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import { formatMemoryUsage } from "@lmm/lmm/seed";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ pageSize: 4096 });
 * heap.register("emp_t", 36);
 * heap.alloc("emp_t");
 * const [report] = heap.report().heaps;
 * const text = formatMemoryUsage(report, { maskAddresses: true });
 * assert.match(text, /vm_page_family : emp_t, struct size = 36/);
 * assert.match(text, /# Of VM Pages in Use : 1 \(4096 Bytes\)/);
 * ```
 *
 * @param heap One heap of a report.
 * @param options `family` filter, `maskAddresses`.
 * @returns The text, no trailing newline.
 */
export function formatMemoryUsage(
  heap: HeapReport,
  options: FormatOptions = {},
): string {
  const lines: string[] = ["", `Page Size = ${heap.pageSize} Bytes`];
  const pageIndex = new Map<PageReport, number>();
  heap.pages.forEach((page, i) => pageIndex.set(page, i));
  const address = (page: PageReport | undefined, offset: number): string => {
    if (page === undefined) return "(nil)";
    if (options.maskAddresses) {
      const i = pageIndex.get(page);
      return offset === 0 ? `P${i}` : `P${i}+0x${offset.toString(16)}`;
    }
    return `0x${(parseInt(page.base, 16) + offset).toString(16)}`;
  };
  let pageCount = 0;
  let pageBytes = 0;
  for (const family of shownFamilies(heap)) {
    if (options.family !== undefined && family.name !== options.family) {
      continue;
    }
    lines.push(
      `vm_page_family : ${family.name}, struct size = ${family.structSize}`,
    );
    const pages = heap.pages.filter((p) => p.family === family.id);
    pages.forEach((page, i) => {
      pageCount++;
      pageBytes += page.size;
      lines.push(
        `\t\t next = ${address(pages[i + 1], 0)}, prev = ${address(pages[i - 1], 0)}`,
        `\t\t page family = ${family.name}`,
      );
      page.blocks.forEach((block, j) => {
        const prev = page.blocks[j - 1];
        const next = page.blocks[j + 1];
        lines.push(
          `\t\t\t${address(page, block.offset).padEnd(14)} Block ${String(j).padEnd(3)} ${
            block.free ? "F R E E D" : "ALLOCATED"
          }  block_size = ${String(block.size).padEnd(6)}  offset = ${
            String(block.offset).padEnd(6)
          }  prev = ${
            (prev === undefined ? "(nil)" : address(page, prev.offset)).padEnd(
              14,
            )
          }  next = ${next === undefined ? "(nil)" : address(page, next.offset)}`,
        );
      });
    });
    lines.push("");
  }
  lines.push(
    `# Of VM Pages in Use : ${pageCount} (${pageBytes} Bytes)`,
    `Total Memory being used by Memory Manager = ${pageBytes} Bytes`,
  );
  return lines.join("\n");
}

/** The families the classic formats show: all but an empty "bytes". */
function shownFamilies(heap: HeapReport): FamilyReport[] {
  return heap.families.filter((f) => f.id !== 0 || heap.pages.some((p) => p.family === 0));
}
