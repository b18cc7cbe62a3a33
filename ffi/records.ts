/**
 * Reading what the C ABI writes: the `lmm_stats_t` struct into numbers, and
 * the "count, then fill" listings (`lmm_pages`, `lmm_blocks`).
 *
 * @module
 */

import { Status, statusError, unwrap } from "./errors.ts";
import { ABI_VERSION, FamilyInfo, Stats, STATS_U64 } from "./native/abi.ts";
import type { LmmSymbols } from "./native/symbols.ts";
import type { StatsFields } from "./report_types.ts";

export { STATS_U64 };

/**
 * Reads a `uint64_t` as a number (exact below 2^53, which every count,
 * size and x86-64 user address is).
 */
export function u64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) +
    view.getUint32(offset + 4, true) * 0x1_0000_0000;
}

/** `lmm_stats_t` as numbers, by C field name. */
export type RawStats = Record<
  (typeof STATS_U64)[number] | "families" | "alignment" | "poisoned",
  number
>;

/** The report's statistics fields from a raw `lmm_stats_t`. */
export function statsFields(raw: RawStats): StatsFields {
  return {
    pages: raw.pages,
    bytesMapped: raw.bytes_mapped,
    totalBlocks: raw.total_blocks,
    freeBlocks: raw.free_blocks,
    occupiedBlocks: raw.occupied_blocks,
    appBytes: raw.app_bytes,
    peakBytes: raw.peak_app_bytes,
    occupiedBytes: raw.occupied_bytes,
    freeBytes: raw.free_bytes,
    headerBytes: raw.header_bytes,
    largestFreeBlock: raw.largest_free,
    hardFragBytes: raw.hard_frag_bytes,
    softFragBlocks: raw.soft_frag_blocks,
    softFragBytes: raw.soft_frag_bytes,
    externalFragmentation: raw.free_bytes === 0 ? 0 : 1 - raw.largest_free / raw.free_bytes,
    allocCount: raw.alloc_count,
    freeCount: raw.free_count,
    reallocCount: raw.realloc_count,
  };
}

/**
 * Calls a "count, then fill" listing function of the C ABI: first with
 * capacity 0 to learn the count (LMM_E_BUFFER_TOO_SMALL writes it), then
 * with a buffer of that size; again if the count grew in between.
 */
export function listRecords(
  call: (
    buffer: Uint8Array | null,
    capacity: bigint,
    out: Uint8Array,
  ) => number,
  recordSize: number,
  context: string,
): { bytes: Uint8Array; count: number } {
  const out = new BigUint64Array(1);
  const outBytes = new Uint8Array(out.buffer);
  let bytes: Uint8Array | null = null;
  let capacity = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    const status = call(bytes, BigInt(capacity), outBytes);
    const count = Number(out[0]);
    if (status === 0 && count <= capacity) {
      return { bytes: bytes ?? new Uint8Array(0), count };
    }
    if (status !== 0 && status !== Status.BUFFER_TOO_SMALL) {
      unwrap(status, context);
    }
    capacity = count;
    bytes = new Uint8Array(count * recordSize);
  }
  throw statusError(Status.BUFFER_TOO_SMALL, context);
}

/**
 * Reads `lmm_stats` of one family (or `ALL_FAMILIES`) into numbers.
 *
 * @param S The library's symbols.
 * @param handle The heap.
 * @param family A family id or `ALL_FAMILIES`.
 * @param buffer A reusable `Stats.SIZE` buffer.
 * @returns The raw figures, by C field name.
 */
export function readStats(
  S: LmmSymbols,
  handle: Deno.PointerObject,
  family: number,
  buffer: Uint8Array = new Uint8Array(Stats.SIZE),
): RawStats {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  buffer.fill(0);
  view.setUint32(Stats.size, Stats.SIZE, true);
  view.setUint32(Stats.version, ABI_VERSION, true);
  unwrap(S.lmm_stats(handle, family, buffer), `stats(family ${family})`);
  const raw = {} as RawStats;
  for (const key of STATS_U64) raw[key] = u64(view, Stats[key]);
  raw.families = view.getUint32(Stats.families, true);
  raw.alignment = view.getUint32(Stats.alignment, true);
  raw.poisoned = view.getUint32(Stats.poisoned, true);
  return raw;
}

/**
 * The registered families of a heap, from the engine (`lmm_family_info`):
 * what a report needs when the `Heap` object itself is gone.
 *
 * @param S The library's symbols.
 * @param handle The heap.
 * @returns Id, name, struct size and size class (0: none) of each family, in id order.
 */
export function readFamilies(
  S: LmmSymbols,
  handle: Deno.PointerObject,
): { id: number; name: string; structSize: number; classSize: number }[] {
  const count = new Uint32Array(1);
  unwrap(S.lmm_family_count(handle, new Uint8Array(count.buffer)), "lmm_family_count");
  const info = new Uint8Array(FamilyInfo.SIZE);
  const view = new DataView(info.buffer);
  const families = [];
  for (let id = 0; id < count[0]; id++) {
    unwrap(S.lmm_family_info(handle, id, info), "lmm_family_info");
    const length = view.getUint32(FamilyInfo.name_len, true);
    families.push({
      id,
      name: new TextDecoder().decode(info.subarray(FamilyInfo.name, FamilyInfo.name + length)),
      structSize: u64(view, FamilyInfo.struct_size),
      classSize: view.getUint32(FamilyInfo.class_size, true),
    });
  }
  return families;
}
