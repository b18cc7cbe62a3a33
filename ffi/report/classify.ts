/**
 * Direct and indirect leaks, as valgrind and LeakSanitizer classify them.
 *
 * Every 8-byte aligned word of every live block is read as a possible
 * address. A word that points into another live block (at its start or
 * inside its data) is an edge from the block that holds it to the block it
 * points to. A block that no other live block points to is a **direct** leak;
 * every block reachable from a direct one through edges is **indirect**: it
 * would be freed along with the direct one, so fixing that one fixes both.
 * Blocks left over form cycles that nothing outside points to (a ring, a
 * doubly linked list whose head was dropped): in address order, the first
 * unvisited block of such a cycle counts as direct and what it reaches as
 * indirect — as valgrind does with its "clique leaders" — so every leak has a
 * direct block to blame.
 *
 * Cost: one pass over the words (a pointer-shaped word costs a binary search
 * over the block starts, others a compare or two), then one traversal of the
 * edges: O(words + edges × log blocks).
 *
 * @module
 */

/** Kind of a live block that no other live block points to. */
export const DIRECT = 1;
/** Kind of a live block that another live block points to. */
export const INDIRECT = 2;

const TWO_32 = 0x1_0000_0000;

/**
 * Classifies live blocks as {@link DIRECT} or {@link INDIRECT}.
 *
 * @example A list whose head was dropped
 * ```ts
 * import { classifyBlocks, DIRECT, INDIRECT } from "./classify.ts";
 * import assert from "node:assert/strict";
 *
 * // Three 16-byte blocks at 0x1000, 0x2000, 0x3000; the first points to the
 * // second, the second to the third (the low 32 bits of each word come first).
 * const words = [[0x2000, 0, 0, 0], [0x3000, 0, 0, 0], [0, 0, 0, 0]];
 * const kinds = classifyBlocks(
 *   new Float64Array([0x1000, 0x2000, 0x3000]),
 *   new Float64Array([16, 16, 16]),
 *   (i) => new Uint32Array(words[i]),
 * );
 * assert.deepEqual([...kinds], [DIRECT, INDIRECT, INDIRECT]);
 * ```
 *
 * @param starts Block data addresses, strictly ascending.
 * @param sizes Data bytes of each block (the words scanned, and the range
 *   that a pointer may point into).
 * @param words The block's data as 32-bit words, little endian (at least
 *   `sizes[i] / 4` of them), or null when it cannot be read (it then points
 *   nowhere).
 * @returns One kind per block.
 */
export function classifyBlocks(
  starts: Float64Array,
  sizes: Float64Array,
  words: (index: number) => Uint32Array | null,
): Uint8Array {
  const n = starts.length;
  const kinds = new Uint8Array(n);
  if (n === 0) return kinds;
  const edges = findEdges(starts, sizes, words);
  const pointedTo = new Uint8Array(n);
  for (let e = 0; e < edges.count; e++) pointedTo[edges.to[e]] = 1;
  const graph = adjacency(n, edges);
  const stack = new Int32Array(n);
  const visit = (root: number): void => {
    kinds[root] = DIRECT;
    let top = 0;
    stack[top++] = root;
    while (top > 0) {
      const v = stack[--top];
      for (let e = graph.offsets[v]; e < graph.offsets[v + 1]; e++) {
        const u = graph.targets[e];
        if (kinds[u] === 0) {
          kinds[u] = INDIRECT;
          stack[top++] = u;
        }
      }
    }
  };
  for (let i = 0; i < n; i++) if (pointedTo[i] === 0) visit(i);
  for (let i = 0; i < n; i++) if (kinds[i] === 0) visit(i);
  return kinds;
}

/** Edges found in the blocks' words, as two parallel arrays. */
interface Edges {
  from: Int32Array<ArrayBuffer>;
  to: Int32Array<ArrayBuffer>;
  count: number;
}

function findEdges(
  starts: Float64Array,
  sizes: Float64Array,
  words: (index: number) => Uint32Array | null,
): Edges {
  const n = starts.length;
  const low = starts[0];
  const high = starts[n - 1] + sizes[n - 1];
  const highWordMin = Math.floor(low / TWO_32);
  const highWordMax = Math.floor((high - 1) / TWO_32);
  let from = new Int32Array(1024);
  let to = new Int32Array(1024);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const w = words(i);
    if (w === null) continue;
    const end = Math.min(w.length, Math.floor(sizes[i] / 8) * 2);
    let last = -1;
    for (let k = 0; k + 1 < end; k += 2) {
      const hi = w[k + 1];
      if (hi < highWordMin || hi > highWordMax) continue;
      const value = hi * TWO_32 + w[k];
      if (value < low || value >= high) continue;
      const j = blockAt(starts, sizes, value);
      if (j < 0 || j === i || j === last) continue;
      last = j;
      if (count === from.length) {
        from = grow(from);
        to = grow(to);
      }
      from[count] = i;
      to[count] = j;
      count++;
    }
  }
  return { from, to, count };
}

/** The index of the block whose data holds `address`, or -1. */
function blockAt(starts: Float64Array, sizes: Float64Array, address: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid] <= address) lo = mid;
    else hi = mid - 1;
  }
  return starts[lo] <= address && address < starts[lo] + sizes[lo] ? lo : -1;
}

function grow(array: Int32Array): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

/** The edges as compressed rows: the targets of block v are targets[offsets[v] .. offsets[v + 1]). */
function adjacency(n: number, edges: Edges): { offsets: Int32Array; targets: Int32Array } {
  const offsets = new Int32Array(n + 1);
  for (let e = 0; e < edges.count; e++) offsets[edges.from[e] + 1]++;
  for (let v = 0; v < n; v++) offsets[v + 1] += offsets[v];
  const fill = offsets.slice(0, n);
  const targets = new Int32Array(edges.count);
  for (let e = 0; e < edges.count; e++) targets[fill[edges.from[e]]++] = edges.to[e];
  return { offsets, targets };
}
