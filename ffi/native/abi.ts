/**
 * Byte layouts of the C ABI structs (`zig/include/lmm.h`), x86-64, natural C
 * alignment, little endian. The one place that knows an offset: everything
 * else reads structs through these constants.
 *
 * @module
 */

/** `LMM_ABI_VERSION`: the ABI this module is written against. */
export const ABI_VERSION = 1;
/** `LMM_NAME_MAX`: longest family name in bytes (no NUL). */
export const NAME_MAX = 63;
/** `LMM_MAX_BYTES`: largest single request, 2^46 bytes (64 TiB). */
export const MAX_BYTES = 2 ** 46;
/** `LMM_ALL_FAMILIES`: family filter meaning "every family". */
export const ALL_FAMILIES = 0xffff_ffff;
/** `LMM_BYTES_FAMILY`: id of the untyped family "bytes" (struct size 1). */
export const BYTES_FAMILY = 0;
/** `LMM_DEFAULT_PAGE_SIZE`: 64 KiB. */
export const DEFAULT_PAGE_SIZE = 64 * 1024;
/** `LMM_DEFAULT_PAGE_CACHE`. */
export const DEFAULT_PAGE_CACHE = 4;
/** `LMM_BLOCK_FREE`: record flag. */
export const BLOCK_FREE = 1;
/** `LMM_WALK_LIVE_ONLY`: `lmm_blocks` flag. */
export const WALK_LIVE_ONLY = 1;
/** `LMM_HEAP_NO_LOCK`: one thread at a time uses the heap; calls skip its lock. */
export const HEAP_NO_LOCK = 1;

/** `lmm_config_t` (24 bytes). */
export const Config = {
  SIZE: 24,
  size: 0, // u32
  version: 4, // u32
  page_size: 8, // u64
  page_cache: 16, // u32
  flags: 20, // u32
} as const;

/** `lmm_stats_t` (192 bytes): 4 × u32, then 22 × u64. */
export const Stats = {
  SIZE: 192,
  size: 0, // u32
  version: 4, // u32
  family: 8, // u32
  families: 12, // u32
  struct_size: 16, // u64 …
  pages: 24,
  bytes_mapped: 32,
  cached_pages: 40,
  cached_bytes: 48,
  total_blocks: 56,
  free_blocks: 64,
  occupied_blocks: 72,
  app_bytes: 80,
  peak_app_bytes: 88,
  occupied_bytes: 96,
  free_bytes: 104,
  header_bytes: 112,
  largest_free: 120,
  hard_frag_bytes: 128,
  soft_frag_blocks: 136,
  soft_frag_bytes: 144,
  alloc_count: 152,
  free_count: 160,
  realloc_count: 168,
  mmap_count: 176,
  munmap_count: 184,
} as const;

/** `lmm_family_info_t` (80 bytes). */
export const FamilyInfo = {
  SIZE: 80,
  id: 0, // u32
  name_len: 4, // u32
  struct_size: 8, // u64
  name: 16, // char[64], NUL-terminated
} as const;

/** `lmm_page_info_t` (48 bytes). */
export const PageInfo = {
  SIZE: 48,
  base: 0, // u64
  size: 8, // u64
  family: 16, // u32
  blocks: 20, // u32
  free_blocks: 24, // u32
  reserved: 28, // u32
  free_bytes: 32, // u64
  largest_free: 40, // u64
} as const;

/** `lmm_block_record_t` (48 bytes). */
export const BlockRecord = {
  SIZE: 48,
  page: 0, // u64
  addr: 8, // u64
  size: 16, // u64
  requested: 24, // u64
  family: 32, // u32
  site: 36, // u32
  flags: 40, // u32
  reserved: 44, // u32
} as const;

/** `lmm_block_info_t` (32 bytes). */
export const BlockInfo = {
  SIZE: 32,
  size: 0, // u64
  requested: 8, // u64
  units: 16, // u64
  family: 24, // u32
  site: 28, // u32
} as const;

/**
 * Reads a `uint64_t` as a number (exact below 2^53, which every count,
 * size and x86-64 user address is).
 */
export function u64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) +
    view.getUint32(offset + 4, true) * 0x1_0000_0000;
}
