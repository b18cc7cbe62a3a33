/**
 * Tests that fail on leaks: {@linkcode assertNoLeaks} checks a heap now,
 * {@linkcode leakCheck} wraps a test body with a fresh heap that must be
 * empty again when the body returns. The failure names each leak with its
 * allocation stack, direct leaks first, and shows the first blocks of a
 * family with a C layout decoded.
 *
 * @module
 */

import { Heap, type HeapOptions } from "../heap.ts";
import type { LeaksReport } from "../report_types.ts";
import { printable } from "./escape.ts";

/**
 * A heap has live blocks where none should be. `leaks` has them by family
 * and by stack.
 */
export class LeakError extends Error {
  /** The live blocks, as `heap.leaks()` gave them. */
  readonly leaks: LeaksReport;

  /**
   * Makes the error.
   *
   * @param message What leaked, and where.
   * @param leaks The leaks.
   */
  constructor(message: string, leaks: LeaksReport) {
    super(message);
    this.name = "LeakError";
    this.leaks = leaks;
  }
}

/** Options of {@linkcode assertNoLeaks}. */
export interface LeakAssertOptions {
  /** Stacks listed in the message, at most (default 10); the rest are summed up. */
  top?: number;
  /** Frames listed per stack, at most (default all that were recorded). */
  frames?: number;
}

/**
 * Throws a {@linkcode LeakError} when `heap` has live blocks, listing them by
 * stack (record stacks with `new Heap({ trackSites: true })`).
 *
 * @example A test that frees what it allocates passes
 * ```ts
 * import { assertNoLeaks, Heap, LeakError } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ trackSites: true });
 * const p = heap.allocBytes(64);
 * assert.throws(() => assertNoLeaks(heap), (e) => e instanceof LeakError && /64 B/.test(e.message));
 * heap.free(p);
 * assertNoLeaks(heap);
 * ```
 *
 * @param heap An open heap.
 * @param options How much of the leaks the message lists.
 * @throws {LeakError} When the heap has live blocks.
 */
export function assertNoLeaks(heap: Heap, options: LeakAssertOptions = {}): void {
  const leaks = heap.leaks();
  if (leaks.blocks === 0) return;
  throw new LeakError(leakMessage(heap, leaks, options), leaks);
}

function leakMessage(heap: Heap, leaks: LeaksReport, options: LeakAssertOptions): string {
  const top = options.top ?? 10;
  const name = `heap ${heap.id}${heap.label ? ` "${printable(heap.label)}"` : ""}`;
  const lines = [
    `${name} has ${count(leaks.blocks, "live block")} (${leaks.bytes} B): ` +
    `${leaks.direct.count} direct, ${leaks.indirect.count} indirect`,
  ];
  for (const site of leaks.bySite.slice(0, top)) {
    lines.push(
      `  ${site.kind}: ${site.bytes} B in ${count(site.count, "block")} · ${
        printable(site.family)
      }`,
    );
    const frames = site.stack.slice(0, options.frames ?? site.stack.length);
    if (frames.length === 0) {
      lines.push(
        heap.trackSites
          ? "    (no stack: not sampled)"
          : "    (no stack: create the heap with trackSites: true)",
      );
    }
    for (const frame of frames) lines.push(`    at ${printable(frame)}`);
    for (const sample of site.samples ?? []) {
      lines.push(
        `    leaked ${printable(site.family)} ${printable(sample.text)} at 0x${
          sample.address.toString(16)
        }`,
      );
    }
  }
  if (leaks.bySite.length > top) {
    const rest = leaks.bySite.slice(top);
    lines.push(
      `  … and ${count(rest.length, "more stack")} (${
        count(rest.reduce((n, s) => n + s.count, 0), "block")
      })`,
    );
  }
  return lines.join("\n");
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * Wraps a test body: it gets a fresh heap that records every allocation's
 * stack, and the test fails with a {@linkcode LeakError} if the body leaves
 * live blocks in it. The heap is closed afterwards either way.
 *
 * @example In a test file
 * ```ts
 * import { leakCheck } from "@lmm/lmm";
 *
 * const test = leakCheck((heap) => {
 *   const node = heap.register("node_t", 24);
 *   heap.free(heap.alloc(node));
 * });
 * await test(); // Deno.test("frees its nodes", test)
 * ```
 *
 * @param body The test body.
 * @param options Options of the heap (`trackSites` defaults to `"all"`).
 * @returns A test function for `Deno.test`.
 */
export function leakCheck(
  body: (heap: Heap) => void | Promise<void>,
  options: HeapOptions = {},
): () => Promise<void> {
  return async () => {
    const heap = new Heap({ trackSites: "all", label: "leakCheck", ...options });
    try {
      await body(heap);
      assertNoLeaks(heap);
    } finally {
      heap.close();
    }
  };
}
