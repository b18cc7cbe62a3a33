/**
 * The heaps open in this process, held weakly (an unreachable heap can still
 * be finalized). Used to tell "an address from another heap" from "never
 * given out", and to report every open heap.
 *
 * @module
 */

import type { Heap } from "./heap.ts";

const open = new Map<number, WeakRef<Heap>>();

/** Records an open heap under its process-wide id. */
export function addHeap(id: number, heap: Heap): void {
  open.set(id, new WeakRef(heap));
}

/** Forgets a heap (closed or finalized). */
export function removeHeap(id: number): void {
  open.delete(id);
}

/**
 * The heaps open now, in creation order.
 *
 * @returns Every heap not closed and not collected.
 */
export function openHeaps(): Heap[] {
  const heaps: Heap[] = [];
  for (const [id, ref] of open) {
    const heap = ref.deref();
    if (heap === undefined || heap.closed) open.delete(id);
    else heaps.push(heap);
  }
  return heaps;
}
