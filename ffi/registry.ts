/**
 * The heaps open in this isolate, held weakly (an unreachable heap can still
 * be finalized), each with its {@linkcode HeapEntry}: what reports need to
 * know of a heap even after its `Heap` object is gone. Used to tell "an
 * address from another heap" from "never given out", and to report every
 * heap.
 *
 * @module
 */

import type { Heap } from "./heap.ts";
import type { HeapState } from "./report_types.ts";
import type { SiteTracker } from "./sites.ts";

/**
 * A heap as reports see it. The `Heap` keeps it, and so does its finalizer
 * (never the `Heap` itself), so a heap collected without `close()` can still
 * be reported through its handle before the handle is released.
 */
export interface HeapEntry {
  /** Heap number within this isolate, from 1. */
  readonly id: number;
  /** The label given at creation. */
  readonly label: string;
  /** VM page size. */
  readonly pageSize: number;
  /** The engine's heap; valid until the heap is released. */
  readonly handle: Deno.PointerObject;
  /** Its stack recorder, or null when sites are not tracked. */
  readonly tracker: SiteTracker | null;
  /** Open until closed or collected. */
  state: HeapState;
  /**
   * Makes what the engine says about the heap exact and coalesced before it
   * is read (the TypeScript tier settles and gives its blocks back); never
   * holds the `Heap` itself.
   */
  quiesce: () => void;
}

const open = new Map<number, { ref: WeakRef<Heap>; entry: HeapEntry }>();

/** Records an open heap. */
export function addHeap(heap: Heap, entry: HeapEntry): void {
  open.set(entry.id, { ref: new WeakRef(heap), entry });
}

/** Forgets a heap (closed or finalized). */
export function removeHeap(id: number): void {
  open.delete(id);
}

/**
 * The heaps open now, in creation order, with their entries.
 *
 * @returns Every heap not closed and not collected.
 */
export function openEntries(): { heap: Heap; entry: HeapEntry }[] {
  const heaps: { heap: Heap; entry: HeapEntry }[] = [];
  for (const [id, { ref, entry }] of open) {
    const heap = ref.deref();
    if (heap === undefined || heap.closed) open.delete(id);
    else heaps.push({ heap, entry });
  }
  return heaps;
}

/**
 * The heaps open now, in creation order.
 *
 * @returns Every heap not closed and not collected.
 */
export function openHeaps(): Heap[] {
  return openEntries().map(({ heap }) => heap);
}
