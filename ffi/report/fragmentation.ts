/**
 * Fragmentation per family, measured against what the family asks for.
 *
 * A family's free blocks (holes) only ever serve that family. A hole that
 * can hold the family's typical request is usable space, however many holes
 * there are; only holes smaller than that request are fragmentation. The
 * typical request is the median request of the family's live blocks (one
 * structure when none is live), rounded up to the 16-byte alignment that
 * blocks are carved at. For a family that always asks for one structure,
 * a hole is fragmentation exactly when it cannot hold one structure.
 *
 * @module
 */

import type { FragmentationReport } from "../report_types.ts";

/** Blocks are carved at this alignment: a request occupies a multiple of it. */
export const ALIGNMENT = 16;

/** Collects one family's holes and live requests, then computes its figures. */
export class FragmentationCounter {
  readonly #structSize: number;
  readonly #requests = new Map<number, number>();
  #live = 0;
  readonly #holes: number[] = [];

  /** @param structSize The family's structure size. */
  constructor(structSize: number) {
    this.#structSize = structSize;
  }

  /**
   * Counts a live block.
   *
   * @param requested Bytes it was asked for.
   */
  live(requested: number): void {
    this.#requests.set(requested, (this.#requests.get(requested) ?? 0) + 1);
    this.#live++;
  }

  /**
   * Counts a free block.
   *
   * @param size Its data bytes.
   */
  hole(size: number): void {
    this.#holes.push(size);
  }

  /** The median live request rounded up to the alignment, or one structure's. */
  typicalRequest(): number {
    let median = this.#structSize;
    if (this.#live > 0) {
      const sizes = [...this.#requests.keys()].sort((a, b) => a - b);
      let seen = 0;
      for (const size of sizes) {
        seen += this.#requests.get(size)!;
        if (2 * seen >= this.#live) {
          median = size;
          break;
        }
      }
    }
    return Math.ceil(median / ALIGNMENT) * ALIGNMENT;
  }

  /**
   * The family's figures.
   *
   * @example Holes that fit are not fragmentation
   * ```ts
   * import { FragmentationCounter } from "./fragmentation.ts";
   * import assert from "node:assert/strict";
   *
   * const f = new FragmentationCounter(48);
   * for (let i = 0; i < 10; i++) f.live(48);
   * for (let i = 0; i < 9; i++) f.hole(48); // holes left by frees: each fits one more
   * f.hole(16); // a remainder too small for one structure
   * const report = f.report();
   * assert.equal(report.typicalRequest, 48);
   * assert.equal(report.tooSmallHoles, 1);
   * assert.equal(report.external, 16 / (9 * 48 + 16));
   * ```
   *
   * @returns Typical request, holes, holes too small, and their share of the free bytes.
   */
  report(): FragmentationReport {
    const typical = this.typicalRequest();
    let free = 0;
    let tooSmallHoles = 0;
    let tooSmallBytes = 0;
    for (const size of this.#holes) {
      free += size;
      if (size < typical) {
        tooSmallHoles++;
        tooSmallBytes += size;
      }
    }
    return {
      typicalRequest: typical,
      holes: this.#holes.length,
      tooSmallHoles,
      tooSmallBytes,
      external: free === 0 ? 0 : tooSmallBytes / free,
    };
  }
}

/**
 * The heap's figures: the families' added up.
 *
 * @param families Each family's figures.
 * @param freeBytes The heap's free bytes.
 * @returns The totals (`typicalRequest` 0).
 */
export function totalFragmentation(
  families: readonly FragmentationReport[],
  freeBytes: number,
): FragmentationReport {
  let holes = 0;
  let tooSmallHoles = 0;
  let tooSmallBytes = 0;
  for (const f of families) {
    holes += f.holes;
    tooSmallHoles += f.tooSmallHoles;
    tooSmallBytes += f.tooSmallBytes;
  }
  return {
    typicalRequest: 0,
    holes,
    tooSmallHoles,
    tooSmallBytes,
    external: freeBytes === 0 ? 0 : tooSmallBytes / freeBytes,
  };
}
