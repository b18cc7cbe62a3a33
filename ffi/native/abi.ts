/**
 * The C ABI's numbers for the Deno module: status codes and messages,
 * constants, and the byte layout of every struct of `zig/include/lmm.h`
 * (x86-64 / aarch64, little endian).
 *
 * GENERATED from `zig/src/abi.zig` by `zig/src/gen_abi.zig` — do not edit;
 * `deno task gen-abi` rewrites it, and a test fails when it is stale.
 *
 * @module
 */

/** `LMM_ABI_VERSION`: the ABI this module is written against. */
export const ABI_VERSION = 2;
/** `LMM_NAME_MAX`: longest family name in bytes (no NUL). */
export const NAME_MAX = 63;
/** `LMM_MAX_BYTES`: largest single request: 64 TiB. */
export const MAX_BYTES = 70368744177664;
/** `LMM_ALL_FAMILIES`: family filter meaning every family. */
export const ALL_FAMILIES = 4294967295;
/** `LMM_BYTES_FAMILY`: the untyped family "bytes" (struct size 1). */
export const BYTES_FAMILY = 0;
/** `LMM_DEFAULT_PAGE_SIZE`: VM page size unless configured. */
export const DEFAULT_PAGE_SIZE = 65536;
/** `LMM_DEFAULT_PAGE_CACHE`: idle pages kept unless configured. */
export const DEFAULT_PAGE_CACHE = 4;
/** `LMM_DEFAULT_RESERVE`: address space of a heap's first arena. */
export const DEFAULT_RESERVE = 4294967296;
/** `LMM_MAX_ARENAS`: arenas one heap can have. */
export const MAX_ARENAS = 32;
/** `LMM_ALIGNMENT`: alignment of untyped blocks and of families whose size is a multiple of 16 (others: 8). */
export const ALIGNMENT = 16;
/** `LMM_GRANULE`: block sizes and positions are multiples of it. */
export const GRANULE = 8;
/** `LMM_META_BLOCK_SIZE`: bytes of the meta block in front of every data block. */
export const META_BLOCK_SIZE = 16;
/** `LMM_PAGE_HEADER_SIZE`: bytes at the start of every VM page. */
export const PAGE_HEADER_SIZE = 48;
/** `LMM_SITE_LIMIT`: allocation sites one heap can record. */
export const SITE_LIMIT = 2097152;
/** `LMM_HEAP_NO_LOCK`: lmm_config_t.flags: one thread at a time uses the heap; calls skip its lock. */
export const HEAP_NO_LOCK = 1;
/** `LMM_HEAP_KEEP_ARENAS`: lmm_config_t.flags: destroy leaves the arenas mapped for their owner to unmap. */
export const HEAP_KEEP_ARENAS = 2;
/** `LMM_HEAP_EXACT`: lmm_config_t.flags: the classic heap: no front caches, no size classes, no idle pages. */
export const HEAP_EXACT = 4;
/** `LMM_HEAP_NO_THREAD_CACHE`: lmm_config_t.flags: no per-thread caches: every call of a locked heap takes its lock. */
export const HEAP_NO_THREAD_CACHE = 8;
/** `LMM_BLOCK_CACHED`: lmm_block_record_t.flags: a free block waiting in a front cache. */
export const BLOCK_CACHED = 2;
/** `LMM_HELD_BIT`: meta block tail bit: a cached block the TypeScript tier handed out. */
export const HELD_BIT = 2097152;
/** `LMM_MAX_CLASS`: largest untyped request served by a size class. */
export const MAX_CLASS = 4096;
/** `LMM_BLOCK_FREE`: lmm_block_record_t.flags: the block is free. */
export const BLOCK_FREE = 1;
/** `LMM_WALK_LIVE_ONLY`: lmm_blocks() flag: list occupied blocks only. */
export const WALK_LIVE_ONLY = 1;
/** `LMM_PAGE_FAMILY_OFFSET`: offset of a page header's family id (u32). */
export const PAGE_FAMILY_OFFSET = 4;
/** `LMM_PAGE_REQUESTED_OFFSET`: offset of a large page's requested bytes (u64). */
export const PAGE_REQUESTED_OFFSET = 24;
/** `LMM_STATE_FREE`: meta block state: free. */
export const STATE_FREE = 1;
/** `LMM_STATE_OCCUPIED`: meta block state: occupied. */
export const STATE_OCCUPIED = 2;
/** `LMM_STATE_DEAD`: meta block state: merged away. */
export const STATE_DEAD = 3;
/** `LMM_STATE_CACHED`: meta block state: in a front cache (or held by the TypeScript tier). */
export const STATE_CACHED = 4;

/** Status codes by number: `[code, message]` (the code is the name without `LMM_E_`). */
export const STATUS = [
  ["OK", "success"], // 0
  ["NOMEM", "the kernel refused memory or address space"], // 1
  ["BAD_HANDLE", "not a heap handle"], // 2
  ["DESTROYED", "the heap was destroyed"], // 3
  ["UNKNOWN_FAMILY", "no page family with that id or name"], // 4
  ["DUPLICATE_NAME", "a page family of that name is registered already"], // 5
  ["NAME_TOO_LONG", "the name is longer than 63 bytes"], // 6
  ["BAD_NAME", "the name is empty or holds a control character"], // 7
  ["ZERO_SIZE", "a structure size or unit count of zero"], // 8
  ["OVERFLOW", "units x structure size is beyond the 64 TiB limit"], // 9
  ["BAD_SIZE", "a size or unit count that is not a whole positive number"], // 10
  ["NOT_OWNED", "the address is not a block this heap gave out"], // 11
  ["INTERIOR", "the address points inside a block, not at its start"], // 12
  ["DOUBLE_FREE", "the block at that address is free already"], // 13
  [
    "CORRUPTED",
    "a meta block or page header failed its integrity check: memory was overwritten (the heap is poisoned now)",
  ], // 14
  [
    "BAD_CONFIG",
    "a bad heap configuration: page size not a power of two from 4 KiB to 1 GiB, reserve above 64 TiB, an unknown flag, or a wrong size or version",
  ], // 15
  ["BUFFER_TOO_SMALL", "the output buffer is too small"], // 16
  ["INVALID_ARG", "an invalid argument (NULL output, unknown site or size)"], // 17
  ["BAD_ADDRESS", "an address that is not a whole number in [1, 2^53)"], // 18
  ["SITE_LIMIT", "the heap's allocation-site table is full"], // 19
  [
    "POISONED",
    "the heap found damage earlier and refuses to touch its memory (lmm_check says what)",
  ], // 20
  ["SYSCALL", "the kernel refused a system call (the heap's accounting is still exact)"], // 21
] as const;

/** Status numbers by code. */
export const Status = {
  OK: 0,
  NOMEM: 1,
  BAD_HANDLE: 2,
  DESTROYED: 3,
  UNKNOWN_FAMILY: 4,
  DUPLICATE_NAME: 5,
  NAME_TOO_LONG: 6,
  BAD_NAME: 7,
  ZERO_SIZE: 8,
  OVERFLOW: 9,
  BAD_SIZE: 10,
  NOT_OWNED: 11,
  INTERIOR: 12,
  DOUBLE_FREE: 13,
  CORRUPTED: 14,
  BAD_CONFIG: 15,
  BUFFER_TOO_SMALL: 16,
  INVALID_ARG: 17,
  BAD_ADDRESS: 18,
  SITE_LIMIT: 19,
  POISONED: 20,
  SYSCALL: 21,
} as const;

/** `lmm_config_t` (32 bytes): offsets of its fields. */
export const Config = {
  SIZE: 32,
  size: 0, // u32
  version: 4, // u32
  page_size: 8, // u64
  page_cache: 16, // u32
  flags: 20, // u32
  reserve: 24, // u64
} as const;

/** `lmm_stats_t` (224 bytes): offsets of its fields. */
export const Stats = {
  SIZE: 224,
  size: 0, // u32
  version: 4, // u32
  family: 8, // u32
  families: 12, // u32
  struct_size: 16, // u64
  pages: 24, // u64
  bytes_mapped: 32, // u64
  cached_pages: 40, // u64
  cached_bytes: 48, // u64
  total_blocks: 56, // u64
  free_blocks: 64, // u64
  occupied_blocks: 72, // u64
  app_bytes: 80, // u64
  peak_app_bytes: 88, // u64
  occupied_bytes: 96, // u64
  free_bytes: 104, // u64
  header_bytes: 112, // u64
  largest_free: 120, // u64
  hard_frag_bytes: 128, // u64
  soft_frag_blocks: 136, // u64
  soft_frag_bytes: 144, // u64
  alloc_count: 152, // u64
  free_count: 160, // u64
  realloc_count: 168, // u64
  pages_taken: 176, // u64
  pages_returned: 184, // u64
  reserved_bytes: 192, // u64
  arenas: 200, // u64
  decommit_failures: 208, // u64
  alignment: 216, // u32
  poisoned: 220, // u32
} as const;

/** `lmm_heap_info_t` (40 bytes): offsets of its fields. */
export const HeapInfo = {
  SIZE: 40,
  size: 0, // u32
  version: 4, // u32
  key: 8, // u32
  page_size: 12, // u32
  page_header_size: 16, // u32
  meta_block_size: 20, // u32
  arenas: 24, // u32
  flags: 28, // u32
  thread_caches: 32, // u32
  thread_cache_reclaims: 36, // u32
} as const;

/** `lmm_arena_info_t` (16 bytes): offsets of its fields. */
export const ArenaInfo = {
  SIZE: 16,
  base: 0, // u64
  len: 8, // u64
} as const;

/** `lmm_family_info_t` (96 bytes): offsets of its fields. */
export const FamilyInfo = {
  SIZE: 96,
  id: 0, // u32
  name_len: 4, // u32
  struct_size: 8, // u64
  unit: 16, // u32
  class_size: 20, // u32
  alignment: 24, // u32
  reserved: 28, // u32
  name: 32, // u8[64]
} as const;

/** `lmm_page_info_t` (48 bytes): offsets of its fields. */
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

/** `lmm_block_record_t` (48 bytes): offsets of its fields. */
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

/** `lmm_block_info_t` (32 bytes): offsets of its fields. */
export const BlockInfo = {
  SIZE: 32,
  size: 0, // u64
  requested: 8, // u64
  units: 16, // u64
  family: 24, // u32
  site: 28, // u32
} as const;

/** `lmm_front_delta_t` (56 bytes): offsets of its fields. */
export const FrontDelta = {
  SIZE: 56,
  family: 0, // u32
  _reserved: 4, // u32
  allocs: 8, // u64
  frees: 16, // u64
  net_size: 24, // u64
  net_app: 32, // u64
  net_hard: 40, // u64
  peak_app: 48, // u64
} as const;

/** The `uint64_t` fields of `lmm_stats_t`, in order. */
export const STATS_U64 = [
  "struct_size",
  "pages",
  "bytes_mapped",
  "cached_pages",
  "cached_bytes",
  "total_blocks",
  "free_blocks",
  "occupied_blocks",
  "app_bytes",
  "peak_app_bytes",
  "occupied_bytes",
  "free_bytes",
  "header_bytes",
  "largest_free",
  "hard_frag_bytes",
  "soft_frag_blocks",
  "soft_frag_bytes",
  "alloc_count",
  "free_count",
  "realloc_count",
  "pages_taken",
  "pages_returned",
  "reserved_bytes",
  "arenas",
  "decommit_failures",
] as const;
