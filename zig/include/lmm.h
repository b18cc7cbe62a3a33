/*
 * lmm.h — the C ABI of LMM, a Linux heap memory manager.
 *
 * LMM reserves address space for each heap (an arena, mmap MAP_NORESERVE),
 * places VM pages in it, keeps a doubly-linked chain of 16-byte meta blocks in
 * each page guarding its data blocks (split on allocation, coalesce on free),
 * serves each request worst fit (the largest free block of the family, from a
 * max-heap), gives empty pages' memory back to the kernel (madvise DONTNEED)
 * and accounts for every byte by page family: a structure registered by name
 * and size.
 *
 * Conventions
 * - Every function that can fail returns an `int` status: LMM_OK (0) or one of
 *   the LMM_E_* codes below. A failed call leaves the heap unchanged.
 * - Outputs go through pointer parameters, which may not be NULL unless said.
 * - Memory handed out is zeroed (calloc semantics) and 16-byte aligned (blocks
 *   of a family whose struct size is not a multiple of 16: 8-byte aligned, all
 *   such a struct can need).
 * - Damage poisons a heap: once a meta block or page header fails its keyed
 *   check, the call returns LMM_E_CORRUPTED and every later call that would
 *   touch the heap's memory returns LMM_E_POISONED (lmm_check gives the reason);
 *   statistics stay readable and destroying the heap still frees everything.
 * - A heap is safe to share between threads: every call takes the heap's lock
 *   (unless it was created with LMM_HEAP_NO_LOCK).
 * - The *_f64 functions are the same operations shaped for FFI callers whose
 *   numbers are doubles (Deno/V8 keep a fast path for them): addresses travel
 *   as doubles (x86-64 user addresses are below 2^47, exact in a double) and a
 *   failure comes back as the negated status code.
 */
#ifndef LMM_H
#define LMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* BEGIN GENERATED from zig/src/abi.zig by `deno task gen-abi` — do not edit this block. */
#define LMM_ABI_VERSION 2u

/* Status codes. Stable numbers: they cross the FFI boundary. */
#define LMM_OK 0 /* success */
#define LMM_E_NOMEM 1 /* the kernel refused memory or address space */
#define LMM_E_BAD_HANDLE 2 /* not a heap handle */
#define LMM_E_DESTROYED 3 /* the heap was destroyed */
#define LMM_E_UNKNOWN_FAMILY 4 /* no page family with that id or name */
#define LMM_E_DUPLICATE_NAME 5 /* a page family of that name is registered already */
#define LMM_E_NAME_TOO_LONG 6 /* the name is longer than 63 bytes */
#define LMM_E_BAD_NAME 7 /* the name is empty or holds a control character */
#define LMM_E_ZERO_SIZE 8 /* a structure size or unit count of zero */
#define LMM_E_OVERFLOW 9 /* units x structure size is beyond the 64 TiB limit */
#define LMM_E_BAD_SIZE 10 /* a size or unit count that is not a whole positive number */
#define LMM_E_NOT_OWNED 11 /* the address is not a block this heap gave out */
#define LMM_E_INTERIOR 12 /* the address points inside a block, not at its start */
#define LMM_E_DOUBLE_FREE 13 /* the block at that address is free already */
#define LMM_E_CORRUPTED 14 /* a meta block or page header failed its integrity check: memory was overwritten (the heap is poisoned now) */
#define LMM_E_BAD_CONFIG 15 /* a bad heap configuration: page size not a power of two from 4 KiB to 1 GiB, reserve above 64 TiB, an unknown flag, or a wrong size or version */
#define LMM_E_BUFFER_TOO_SMALL 16 /* the output buffer is too small */
#define LMM_E_INVALID_ARG 17 /* an invalid argument (NULL output, unknown site or size) */
#define LMM_E_BAD_ADDRESS 18 /* an address that is not a whole number in [1, 2^53) */
#define LMM_E_SITE_LIMIT 19 /* the heap's allocation-site table is full */
#define LMM_E_POISONED 20 /* the heap found damage earlier and refuses to touch its memory (lmm_check says what) */
#define LMM_E_SYSCALL 21 /* the kernel refused a system call (the heap's accounting is still exact) */
#define LMM_STATUS_COUNT 22

#define LMM_NAME_MAX 63u /* longest family name in bytes (no NUL) */
#define LMM_MAX_BYTES 70368744177664ull /* largest single request: 64 TiB */
#define LMM_ALL_FAMILIES 4294967295u /* family filter meaning every family */
#define LMM_BYTES_FAMILY 0u /* the untyped family "bytes" (struct size 1) */
#define LMM_DEFAULT_PAGE_SIZE 65536u /* VM page size unless configured */
#define LMM_DEFAULT_PAGE_CACHE 4u /* idle pages kept unless configured */
#define LMM_DEFAULT_RESERVE 4294967296ull /* address space of a heap's first arena */
#define LMM_MAX_ARENAS 32u /* arenas one heap can have */
#define LMM_ALIGNMENT 16u /* alignment of untyped blocks and of families whose size is a multiple of 16 (others: 8) */
#define LMM_GRANULE 8u /* block sizes and positions are multiples of it */
#define LMM_META_BLOCK_SIZE 16u /* bytes of the meta block in front of every data block */
#define LMM_PAGE_HEADER_SIZE 48u /* bytes at the start of every VM page */
#define LMM_SITE_LIMIT 2097152u /* allocation sites one heap can record */
#define LMM_HEAP_NO_LOCK 1u /* lmm_config_t.flags: one thread at a time uses the heap; calls skip its lock */
#define LMM_HEAP_KEEP_ARENAS 2u /* lmm_config_t.flags: destroy leaves the arenas mapped for their owner to unmap */
#define LMM_HEAP_EXACT 4u /* lmm_config_t.flags: the classic heap: no front caches, no size classes, no idle pages */
#define LMM_HEAP_NO_THREAD_CACHE 8u /* lmm_config_t.flags: no per-thread caches: every call of a locked heap takes its lock */
#define LMM_BLOCK_CACHED 2u /* lmm_block_record_t.flags: a free block waiting in a front cache */
#define LMM_HELD_BIT 2097152u /* meta block tail bit: a cached block the TypeScript tier handed out */
#define LMM_MAX_CLASS 4096u /* largest untyped request served by a size class */
#define LMM_BLOCK_FREE 1u /* lmm_block_record_t.flags: the block is free */
#define LMM_WALK_LIVE_ONLY 1u /* lmm_blocks() flag: list occupied blocks only */
#define LMM_PAGE_FAMILY_OFFSET 4u /* offset of a page header's family id (u32) */
#define LMM_PAGE_REQUESTED_OFFSET 24u /* offset of a large page's requested bytes (u64) */
#define LMM_STATE_FREE 1u /* meta block state: free */
#define LMM_STATE_OCCUPIED 2u /* meta block state: occupied */
#define LMM_STATE_DEAD 3u /* meta block state: merged away */
#define LMM_STATE_CACHED 4u /* meta block state: in a front cache (or held by the TypeScript tier) */
/* END GENERATED */
typedef struct lmm_heap lmm_heap_t;

/* Heap configuration. Fill with lmm_config_default(), then change fields. */
typedef struct lmm_config {
    uint32_t size;       /* sizeof(lmm_config_t)                                            */
    uint32_t version;    /* LMM_ABI_VERSION                                                 */
    uint64_t page_size;  /* VM page size: power of two, 4 KiB..1 GiB; default 64 KiB        */
    uint32_t page_cache; /* empty VM pages kept idle for reuse (regular ones by any family, large
                            ones up to 32 MiB by their own); 0 = munmap at once       */
    uint32_t flags;      /* LMM_HEAP_* flags; 0 by default                                  */
    uint64_t reserve;    /* address space of the first arena (0: LMM_DEFAULT_RESERVE, 4 GiB);
                            costs no memory; when full the heap reserves another, twice as large */
} lmm_config_t;

/* Statistics of one family, or of the whole heap (family == LMM_ALL_FAMILIES).
 * The library fills every field, `size` and `version` included. */
typedef struct lmm_stats {
    uint32_t size;              /* sizeof(lmm_stats_t)                                 */
    uint32_t version;           /* LMM_ABI_VERSION                                     */
    uint32_t family;            /* family id, or LMM_ALL_FAMILIES for heap totals      */
    uint32_t families;          /* registered families (including "bytes")             */
    uint64_t struct_size;       /* family's structure size; 0 for heap totals          */
    uint64_t pages;             /* VM pages held, idle ones included                   */
    uint64_t bytes_mapped;      /* bytes of those pages                                */
    uint64_t cached_pages;      /* of those, empty pages kept idle for reuse (heap totals) */
    uint64_t cached_bytes;      /* their bytes                                         */
    uint64_t total_blocks;      /* TBC: data blocks in the pages                       */
    uint64_t free_blocks;       /* FBC                                                 */
    uint64_t occupied_blocks;   /* OBC                                                 */
    uint64_t app_bytes;         /* bytes the application asked for (units x size)      */
    uint64_t peak_app_bytes;    /* high-water mark of app_bytes                        */
    uint64_t occupied_bytes;    /* data bytes of occupied blocks (>= app_bytes)        */
    uint64_t free_bytes;        /* data bytes of free blocks                           */
    uint64_t header_bytes;      /* page and meta block headers                         */
    uint64_t largest_free;      /* largest free block (what the next alloc gets)       */
    uint64_t hard_frag_bytes;   /* remainders too small for a meta block, kept in occupied blocks */
    uint64_t soft_frag_blocks;  /* free blocks too small for one structure             */
    uint64_t soft_frag_bytes;   /* their bytes                                         */
    uint64_t alloc_count;       /* successful allocations (realloc that moves counts)  */
    uint64_t free_count;        /* successful frees                                    */
    uint64_t realloc_count;     /* successful reallocs                                 */
    uint64_t pages_taken;       /* pages placed since creation                         */
    uint64_t pages_returned;    /* pages given back since creation                     */
    uint64_t reserved_bytes;    /* address space of the heap's arenas (heap totals)    */
    uint64_t arenas;            /* arenas reserved (heap totals)                       */
    uint64_t decommit_failures; /* madvise refusals: memory that stayed resident (heap totals) */
    uint32_t alignment;         /* the family's block alignment (8 or 16); 0 for heap totals */
    uint32_t poisoned;          /* 1 when the heap found damage (heap totals)          */
} lmm_stats_t;

/* What a foreign-function caller needs to read the heap's memory itself. */
typedef struct lmm_heap_info {
    uint32_t size;              /* sizeof(lmm_heap_info_t)                             */
    uint32_t version;           /* LMM_ABI_VERSION                                     */
    uint32_t key;               /* key of the keyed checks of meta blocks and page headers */
    uint32_t page_size;
    uint32_t page_header_size;  /* LMM_PAGE_HEADER_SIZE                                */
    uint32_t meta_block_size;   /* LMM_META_BLOCK_SIZE                                 */
    uint32_t arenas;            /* arenas reserved now                                 */
    uint32_t flags;             /* the LMM_HEAP_* flags the heap was made with         */
    uint32_t thread_caches;     /* threads with a cache of this heap now (at most 64)  */
    uint32_t thread_cache_reclaims; /* caches taken back from threads that had exited  */
} lmm_heap_info_t;

/* One arena: a range of address space where the heap's pages live. It stays
 * mapped (readable, writable) for as long as the heap lives. */
typedef struct lmm_arena_info {
    uint64_t base;
    uint64_t len;
} lmm_arena_info_t;

typedef struct lmm_family_info {
    uint32_t id;
    uint32_t name_len;
    uint64_t struct_size;
    uint32_t unit;          /* block size its front cache serves (0: none)                   */
    uint32_t class_size;    /* a size class of untyped memory ("bytes/48"): its block size; 0 */
    uint32_t alignment;     /* of its blocks: 8 or 16                                        */
    uint32_t reserved;
    char name[LMM_NAME_MAX + 1]; /* NUL-terminated */
} lmm_family_info_t;

/* What a caller's own front cache did to one family since it last settled
 * (the Deno module's allocation fast path; see lmm_front_*). */
typedef struct lmm_front_delta {
    uint32_t family;
    uint32_t _reserved;
    uint64_t allocs;        /* blocks handed out (held bit set)                              */
    uint64_t frees;         /* blocks taken back (held bit cleared)                          */
    int64_t net_size;       /* net data bytes moved from free to occupied                    */
    int64_t net_app;        /* net requested bytes                                           */
    int64_t net_hard;       /* net hard fragmentation                                        */
    int64_t peak_app;       /* highest running net_app since the last settle (>= 0)          */
} lmm_front_delta_t;

/* One VM page, as lmm_pages() lists it. */
typedef struct lmm_page_info {
    uint64_t base;          /* address of the page                          */
    uint64_t size;          /* bytes mapped                                 */
    uint32_t family;
    uint32_t blocks;        /* data blocks in the page                      */
    uint32_t free_blocks;
    uint32_t reserved;
    uint64_t free_bytes;
    uint64_t largest_free;
} lmm_page_info_t;

#define LMM_BLOCK_FREE 1u       /* record flag: the block is free                    */
#define LMM_WALK_LIVE_ONLY 1u   /* lmm_blocks() flag: list occupied blocks only       */

/* One data block, as lmm_blocks() lists it, page by page in address order. */
typedef struct lmm_block_record {
    uint64_t page;          /* base address of its VM page                  */
    uint64_t addr;          /* address of the data (what alloc returned)    */
    uint64_t size;          /* data bytes of the block                      */
    uint64_t requested;     /* bytes asked for (0 when free)                */
    uint32_t family;
    uint32_t site;          /* allocation site id, 0 = none                 */
    uint32_t flags;         /* LMM_BLOCK_FREE                               */
    uint32_t reserved;
} lmm_block_record_t;

typedef struct lmm_block_info {
    uint64_t size;          /* usable data bytes                            */
    uint64_t requested;     /* bytes asked for                              */
    uint64_t units;         /* requested / struct size                      */
    uint32_t family;
    uint32_t site;
} lmm_block_info_t;

/* Library */
uint32_t lmm_abi_version(void);
uint32_t lmm_meta_block_size(void);  /* LMM_META_BLOCK_SIZE of this build  */
uint32_t lmm_page_header_size(void); /* LMM_PAGE_HEADER_SIZE of this build */
const char *lmm_status_name(int status);    /* "LMM_E_DOUBLE_FREE"; "LMM_E_UNKNOWN" past the table */
const char *lmm_status_message(int status); /* one sentence                                       */
void lmm_config_default(lmm_config_t *config);

/* Heaps. A destroyed heap keeps a small tombstone so that later calls on the
 * stale handle get LMM_E_DESTROYED instead of touching freed memory; calls
 * racing lmm_heap_destroy from other threads either complete before it or get
 * LMM_E_DESTROYED. Destroy unmaps the heap's arenas (LMM_E_SYSCALL if the
 * kernel refuses; the heap is destroyed all the same). */
int lmm_heap_create(const lmm_config_t *config /* NULL: defaults */, lmm_heap_t **out);
int lmm_heap_destroy(lmm_heap_t *heap);
/* Destroys the heap and returns its tombstone too (of a heap destroyed before:
 * the tombstone alone): for callers that never use a handle again after this
 * call (the Deno module does so); any later or concurrent call on the handle
 * is undefined behaviour. */
int lmm_heap_release(lmm_heap_t *heap);
int lmm_heap_trim(lmm_heap_t *heap); /* return cached empty pages to the kernel */
int lmm_heap_info(lmm_heap_t *heap, lmm_heap_info_t *out);
/* The heap's arenas (LMM_E_BUFFER_TOO_SMALL with *out_count set when cap is short). */
int lmm_heap_arenas(lmm_heap_t *heap, lmm_arena_info_t *buf, uint64_t cap, uint64_t *out_count);
/* Unmaps an arena left behind by a heap made with LMM_HEAP_KEEP_ARENAS, once
 * nothing refers to it any more (base and len as lmm_heap_arenas gave them). */
int lmm_arena_unmap(void *base, uint64_t len);

/* Families. Ids are dense: 0 is "bytes", then 1, 2, ... in registration order. */
int lmm_register(lmm_heap_t *heap, const char *name, uint32_t name_len, uint32_t struct_size, uint32_t *out_id);
int lmm_family_find(lmm_heap_t *heap, const char *name, uint32_t name_len, uint32_t *out_id);
int lmm_family_count(lmm_heap_t *heap, uint32_t *out_count);
int lmm_family_info(lmm_heap_t *heap, uint32_t family, lmm_family_info_t *out);

/* Allocation. Memory is zeroed; requested bytes = units x struct size. */
int lmm_alloc(lmm_heap_t *heap, uint32_t family, uint64_t units, void **out);
int lmm_alloc_site(lmm_heap_t *heap, uint32_t family, uint64_t units, uint32_t site, void **out);
int lmm_free(lmm_heap_t *heap, void *ptr);
/* Resize to `units` of the block's family; grown bytes are zeroed; *out may move. */
int lmm_realloc(lmm_heap_t *heap, void *ptr, uint64_t units, void **out);
/* LMM_OK when ptr is the start of a live block of this heap; else the status free() would give. */
int lmm_validate(lmm_heap_t *heap, const void *ptr);
int lmm_block_info(lmm_heap_t *heap, const void *ptr, lmm_block_info_t *out);

/* Allocation sites: a text (e.g. "file.ts:12") registered once, id stored per block. */
int lmm_site_register(lmm_heap_t *heap, const char *text, uint32_t text_len, uint32_t *out_id);
int lmm_site_text(lmm_heap_t *heap, uint32_t site, char *buf, uint32_t cap, uint32_t *out_len);

/* Introspection */
int lmm_stats(lmm_heap_t *heap, uint32_t family, lmm_stats_t *out);
int lmm_pages(lmm_heap_t *heap, uint32_t family, lmm_page_info_t *buf, uint64_t cap, uint64_t *out_count);
int lmm_blocks(lmm_heap_t *heap, uint32_t family, uint32_t flags, lmm_block_record_t *buf, uint64_t cap, uint64_t *out_count);
/* Walks every page and block and checks every invariant; on failure writes a
 * NUL-terminated reason into msg (if msg != NULL and cap > 0) and poisons the
 * heap. A poisoned heap answers LMM_E_POISONED with the reason it was poisoned for. */
int lmm_check(lmm_heap_t *heap, char *msg, uint32_t cap);

/* The front tier. A heap (unless LMM_HEAP_EXACT) keeps, per family, a cache of freed blocks of
 * one size (one structure; the class size of "bytes/N") and reuses them without a merge; cached
 * blocks count as free and are listed with LMM_BLOCK_CACHED. lmm_front_flush gives every cached
 * block back to worst fit (lmm_heap_trim does it too). The other three serve a caller that keeps
 * its own cache in front of the heap (the Deno module): refill lends cached blocks, the caller
 * hands one out by setting LMM_HELD_BIT (and the slack) in its meta block, takes it back by
 * clearing them, reports what it did with lmm_front_settle, and returns blocks with
 * lmm_front_return_f64. Held blocks are live for every reader; only their lender frees them. */
int lmm_front_flush(lmm_heap_t *heap);
int32_t lmm_front_refill_f64(lmm_heap_t *heap, uint32_t family, double *out_addrs, uint32_t cap); /* n, or -status */
int lmm_front_return_f64(lmm_heap_t *heap, uint32_t family, const double *addrs, uint32_t n);
int lmm_front_settle(lmm_heap_t *heap, const lmm_front_delta_t *deltas, uint32_t n);
/* The family that serves an untyped request of `bytes` (its size class, registered on first
 * use; 0 when none applies), or -status. A settle delta with family LMM_ALL_FAMILIES carries the
 * heap-wide peak of net requested bytes (its other fields 0). */
int32_t lmm_class_family_f64(lmm_heap_t *heap, double bytes);

/* FFI-shaped variants: doubles for counts and addresses, failures as -status. */
double lmm_alloc_f64(lmm_heap_t *heap, uint32_t family, double units, uint32_t site);
int32_t lmm_free_f64(lmm_heap_t *heap, double addr);
double lmm_realloc_f64(lmm_heap_t *heap, double addr, double units);
int32_t lmm_validate_f64(lmm_heap_t *heap, double addr);
double lmm_size_f64(lmm_heap_t *heap, double addr);      /* bytes asked for (units x size), or -status */
int32_t lmm_family_of_f64(lmm_heap_t *heap, double addr); /* family id, or -status                 */

/* BEGIN GENERATED layout checks from zig/src/abi.zig — do not edit this block. */
#ifdef __cplusplus
#define LMM_LAYOUT_CHECK(c, m) static_assert(c, m)
#else
#define LMM_LAYOUT_CHECK(c, m) _Static_assert(c, m)
#endif
LMM_LAYOUT_CHECK(sizeof(lmm_config_t) == 32, "lmm_config_t size");
LMM_LAYOUT_CHECK(offsetof(lmm_config_t, size) == 0, "lmm_config_t.size");
LMM_LAYOUT_CHECK(offsetof(lmm_config_t, version) == 4, "lmm_config_t.version");
LMM_LAYOUT_CHECK(offsetof(lmm_config_t, page_size) == 8, "lmm_config_t.page_size");
LMM_LAYOUT_CHECK(offsetof(lmm_config_t, page_cache) == 16, "lmm_config_t.page_cache");
LMM_LAYOUT_CHECK(offsetof(lmm_config_t, flags) == 20, "lmm_config_t.flags");
LMM_LAYOUT_CHECK(offsetof(lmm_config_t, reserve) == 24, "lmm_config_t.reserve");
LMM_LAYOUT_CHECK(sizeof(lmm_stats_t) == 224, "lmm_stats_t size");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, size) == 0, "lmm_stats_t.size");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, version) == 4, "lmm_stats_t.version");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, family) == 8, "lmm_stats_t.family");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, families) == 12, "lmm_stats_t.families");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, struct_size) == 16, "lmm_stats_t.struct_size");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, pages) == 24, "lmm_stats_t.pages");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, bytes_mapped) == 32, "lmm_stats_t.bytes_mapped");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, cached_pages) == 40, "lmm_stats_t.cached_pages");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, cached_bytes) == 48, "lmm_stats_t.cached_bytes");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, total_blocks) == 56, "lmm_stats_t.total_blocks");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, free_blocks) == 64, "lmm_stats_t.free_blocks");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, occupied_blocks) == 72, "lmm_stats_t.occupied_blocks");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, app_bytes) == 80, "lmm_stats_t.app_bytes");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, peak_app_bytes) == 88, "lmm_stats_t.peak_app_bytes");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, occupied_bytes) == 96, "lmm_stats_t.occupied_bytes");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, free_bytes) == 104, "lmm_stats_t.free_bytes");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, header_bytes) == 112, "lmm_stats_t.header_bytes");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, largest_free) == 120, "lmm_stats_t.largest_free");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, hard_frag_bytes) == 128, "lmm_stats_t.hard_frag_bytes");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, soft_frag_blocks) == 136, "lmm_stats_t.soft_frag_blocks");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, soft_frag_bytes) == 144, "lmm_stats_t.soft_frag_bytes");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, alloc_count) == 152, "lmm_stats_t.alloc_count");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, free_count) == 160, "lmm_stats_t.free_count");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, realloc_count) == 168, "lmm_stats_t.realloc_count");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, pages_taken) == 176, "lmm_stats_t.pages_taken");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, pages_returned) == 184, "lmm_stats_t.pages_returned");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, reserved_bytes) == 192, "lmm_stats_t.reserved_bytes");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, arenas) == 200, "lmm_stats_t.arenas");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, decommit_failures) == 208, "lmm_stats_t.decommit_failures");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, alignment) == 216, "lmm_stats_t.alignment");
LMM_LAYOUT_CHECK(offsetof(lmm_stats_t, poisoned) == 220, "lmm_stats_t.poisoned");
LMM_LAYOUT_CHECK(sizeof(lmm_heap_info_t) == 40, "lmm_heap_info_t size");
LMM_LAYOUT_CHECK(offsetof(lmm_heap_info_t, size) == 0, "lmm_heap_info_t.size");
LMM_LAYOUT_CHECK(offsetof(lmm_heap_info_t, version) == 4, "lmm_heap_info_t.version");
LMM_LAYOUT_CHECK(offsetof(lmm_heap_info_t, key) == 8, "lmm_heap_info_t.key");
LMM_LAYOUT_CHECK(offsetof(lmm_heap_info_t, page_size) == 12, "lmm_heap_info_t.page_size");
LMM_LAYOUT_CHECK(offsetof(lmm_heap_info_t, page_header_size) == 16, "lmm_heap_info_t.page_header_size");
LMM_LAYOUT_CHECK(offsetof(lmm_heap_info_t, meta_block_size) == 20, "lmm_heap_info_t.meta_block_size");
LMM_LAYOUT_CHECK(offsetof(lmm_heap_info_t, arenas) == 24, "lmm_heap_info_t.arenas");
LMM_LAYOUT_CHECK(offsetof(lmm_heap_info_t, flags) == 28, "lmm_heap_info_t.flags");
LMM_LAYOUT_CHECK(offsetof(lmm_heap_info_t, thread_caches) == 32, "lmm_heap_info_t.thread_caches");
LMM_LAYOUT_CHECK(offsetof(lmm_heap_info_t, thread_cache_reclaims) == 36, "lmm_heap_info_t.thread_cache_reclaims");
LMM_LAYOUT_CHECK(sizeof(lmm_arena_info_t) == 16, "lmm_arena_info_t size");
LMM_LAYOUT_CHECK(offsetof(lmm_arena_info_t, base) == 0, "lmm_arena_info_t.base");
LMM_LAYOUT_CHECK(offsetof(lmm_arena_info_t, len) == 8, "lmm_arena_info_t.len");
LMM_LAYOUT_CHECK(sizeof(lmm_family_info_t) == 96, "lmm_family_info_t size");
LMM_LAYOUT_CHECK(offsetof(lmm_family_info_t, id) == 0, "lmm_family_info_t.id");
LMM_LAYOUT_CHECK(offsetof(lmm_family_info_t, name_len) == 4, "lmm_family_info_t.name_len");
LMM_LAYOUT_CHECK(offsetof(lmm_family_info_t, struct_size) == 8, "lmm_family_info_t.struct_size");
LMM_LAYOUT_CHECK(offsetof(lmm_family_info_t, unit) == 16, "lmm_family_info_t.unit");
LMM_LAYOUT_CHECK(offsetof(lmm_family_info_t, class_size) == 20, "lmm_family_info_t.class_size");
LMM_LAYOUT_CHECK(offsetof(lmm_family_info_t, alignment) == 24, "lmm_family_info_t.alignment");
LMM_LAYOUT_CHECK(offsetof(lmm_family_info_t, reserved) == 28, "lmm_family_info_t.reserved");
LMM_LAYOUT_CHECK(offsetof(lmm_family_info_t, name) == 32, "lmm_family_info_t.name");
LMM_LAYOUT_CHECK(sizeof(lmm_page_info_t) == 48, "lmm_page_info_t size");
LMM_LAYOUT_CHECK(offsetof(lmm_page_info_t, base) == 0, "lmm_page_info_t.base");
LMM_LAYOUT_CHECK(offsetof(lmm_page_info_t, size) == 8, "lmm_page_info_t.size");
LMM_LAYOUT_CHECK(offsetof(lmm_page_info_t, family) == 16, "lmm_page_info_t.family");
LMM_LAYOUT_CHECK(offsetof(lmm_page_info_t, blocks) == 20, "lmm_page_info_t.blocks");
LMM_LAYOUT_CHECK(offsetof(lmm_page_info_t, free_blocks) == 24, "lmm_page_info_t.free_blocks");
LMM_LAYOUT_CHECK(offsetof(lmm_page_info_t, reserved) == 28, "lmm_page_info_t.reserved");
LMM_LAYOUT_CHECK(offsetof(lmm_page_info_t, free_bytes) == 32, "lmm_page_info_t.free_bytes");
LMM_LAYOUT_CHECK(offsetof(lmm_page_info_t, largest_free) == 40, "lmm_page_info_t.largest_free");
LMM_LAYOUT_CHECK(sizeof(lmm_block_record_t) == 48, "lmm_block_record_t size");
LMM_LAYOUT_CHECK(offsetof(lmm_block_record_t, page) == 0, "lmm_block_record_t.page");
LMM_LAYOUT_CHECK(offsetof(lmm_block_record_t, addr) == 8, "lmm_block_record_t.addr");
LMM_LAYOUT_CHECK(offsetof(lmm_block_record_t, size) == 16, "lmm_block_record_t.size");
LMM_LAYOUT_CHECK(offsetof(lmm_block_record_t, requested) == 24, "lmm_block_record_t.requested");
LMM_LAYOUT_CHECK(offsetof(lmm_block_record_t, family) == 32, "lmm_block_record_t.family");
LMM_LAYOUT_CHECK(offsetof(lmm_block_record_t, site) == 36, "lmm_block_record_t.site");
LMM_LAYOUT_CHECK(offsetof(lmm_block_record_t, flags) == 40, "lmm_block_record_t.flags");
LMM_LAYOUT_CHECK(offsetof(lmm_block_record_t, reserved) == 44, "lmm_block_record_t.reserved");
LMM_LAYOUT_CHECK(sizeof(lmm_block_info_t) == 32, "lmm_block_info_t size");
LMM_LAYOUT_CHECK(offsetof(lmm_block_info_t, size) == 0, "lmm_block_info_t.size");
LMM_LAYOUT_CHECK(offsetof(lmm_block_info_t, requested) == 8, "lmm_block_info_t.requested");
LMM_LAYOUT_CHECK(offsetof(lmm_block_info_t, units) == 16, "lmm_block_info_t.units");
LMM_LAYOUT_CHECK(offsetof(lmm_block_info_t, family) == 24, "lmm_block_info_t.family");
LMM_LAYOUT_CHECK(offsetof(lmm_block_info_t, site) == 28, "lmm_block_info_t.site");
LMM_LAYOUT_CHECK(sizeof(lmm_front_delta_t) == 56, "lmm_front_delta_t size");
LMM_LAYOUT_CHECK(offsetof(lmm_front_delta_t, family) == 0, "lmm_front_delta_t.family");
LMM_LAYOUT_CHECK(offsetof(lmm_front_delta_t, _reserved) == 4, "lmm_front_delta_t._reserved");
LMM_LAYOUT_CHECK(offsetof(lmm_front_delta_t, allocs) == 8, "lmm_front_delta_t.allocs");
LMM_LAYOUT_CHECK(offsetof(lmm_front_delta_t, frees) == 16, "lmm_front_delta_t.frees");
LMM_LAYOUT_CHECK(offsetof(lmm_front_delta_t, net_size) == 24, "lmm_front_delta_t.net_size");
LMM_LAYOUT_CHECK(offsetof(lmm_front_delta_t, net_app) == 32, "lmm_front_delta_t.net_app");
LMM_LAYOUT_CHECK(offsetof(lmm_front_delta_t, net_hard) == 40, "lmm_front_delta_t.net_hard");
LMM_LAYOUT_CHECK(offsetof(lmm_front_delta_t, peak_app) == 48, "lmm_front_delta_t.peak_app");
/* END GENERATED */
#ifdef __cplusplus
}
#endif
#endif /* LMM_H */
