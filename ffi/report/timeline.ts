/**
 * The heap-size timeline of an isolate: app bytes, live blocks and bytes
 * mapped, summed over its open heaps, sampled while the program runs.
 *
 * Samples come from an unreferenced timer (it never keeps a program alive)
 * and, for programs that allocate without yielding to the event loop, from
 * the allocation path (every 1024th tracked allocation looks at the clock).
 * At most {@link MAX_POINTS} points are kept: when they are full, every
 * other one is dropped and the spacing doubles, so a run of any length keeps
 * an even picture of itself at a bounded cost.
 *
 * @module
 */

import { ALL_FAMILIES, Stats } from "../native/abi.ts";
import { lib } from "../native/loader.ts";
import { readStats } from "../records.ts";
import { openEntries } from "../registry.ts";
import type { TimelineRecord } from "../report_types.ts";

/** Points kept at most. */
export const MAX_POINTS = 512;
/** First spacing between samples, in ms. */
const FIRST_SPACING = 25;

/** A timeline: points of [ms since start, app bytes, live blocks, bytes mapped]. */
export class Timeline {
  readonly #startedAt = Date.now();
  readonly #origin = performance.now();
  #spacing = FIRST_SPACING;
  #last = -Infinity;
  readonly #points: [number, number, number, number][] = [];

  /** The spacing between points now, in ms. */
  get spacing(): number {
    return this.#spacing;
  }

  /**
   * Adds a point if the spacing has passed since the last one.
   *
   * @param measure Reads the current figures: [app bytes, live blocks, bytes mapped].
   * @param force Add it even if the spacing has not passed.
   */
  tick(measure: () => [number, number, number], force = false): void {
    const t = performance.now() - this.#origin;
    if (!force && t - this.#last < this.#spacing) return;
    this.#last = t;
    this.#points.push([Math.round(t), ...measure()]);
    if (this.#points.length > MAX_POINTS) {
      let kept = 0;
      for (let i = 0; i < this.#points.length; i += 2) this.#points[kept++] = this.#points[i];
      this.#points.length = kept;
      this.#spacing *= 2;
    }
  }

  /**
   * The record to write.
   *
   * @returns The timeline record.
   */
  record(): TimelineRecord {
    return {
      type: "timeline",
      start: new Date(this.#startedAt).toISOString(),
      points: this.#points.map((p) => [...p]),
    };
  }
}

/** The figures of this isolate's open heaps, summed. */
export function measureOpenHeaps(): [number, number, number] {
  const S = lib();
  let app = 0;
  let blocks = 0;
  let mapped = 0;
  for (const { entry } of openEntries()) {
    const raw = readStats(S, entry.handle, ALL_FAMILIES, buffer);
    app += raw.app_bytes;
    blocks += raw.occupied_blocks;
    mapped += raw.bytes_mapped;
  }
  return [app, blocks, mapped];
}

const buffer = new Uint8Array(Stats.SIZE);
