/*
 * lmm.h — the C ABI of LMM, a Linux heap memory manager.
 *
 * LMM takes VM pages from the kernel with mmap, keeps a doubly-linked chain of
 * meta blocks in each page guarding its data blocks (split on allocation,
 * coalesce on free), serves each request worst fit (the largest free block of
 * the family, from a max-heap), returns empty pages with munmap and accounts for
 * every byte by page family: a structure registered by name and size.
 *
 * Conventions
 * - Every function that can fail returns an `int` status: LMM_OK (0) or one of
 *   the LMM_E_* codes below. A failed call leaves the heap unchanged.
 * - Outputs go through pointer parameters, which may not be NULL unless said.
 * - Memory handed out is zeroed (calloc semantics) and 16-byte aligned.
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

#define LMM_ABI_VERSION 1u

/* Status codes. Stable numbers: they cross the FFI boundary. */
#define LMM_OK 0
#define LMM_E_NOMEM 1            /* the kernel refused memory (mmap failed)             */
#define LMM_E_BAD_HANDLE 2       /* NULL heap, or not a heap                           */
#define LMM_E_DESTROYED 3        /* the heap was destroyed                             */
#define LMM_E_UNKNOWN_FAMILY 4   /* no family with that id or name                     */
#define LMM_E_DUPLICATE_NAME 5   /* a family of that name is registered already        */
#define LMM_E_NAME_TOO_LONG 6    /* name longer than LMM_NAME_MAX bytes                */
#define LMM_E_BAD_NAME 7         /* empty name, or a NUL/control byte in it            */
#define LMM_E_ZERO_SIZE 8        /* structure size 0, or 0 units                       */
#define LMM_E_OVERFLOW 9         /* units x size overflows, or is beyond LMM_MAX_BYTES */
#define LMM_E_BAD_SIZE 10        /* a size/units double that is NaN, infinite, negative or fractional */
#define LMM_E_NOT_OWNED 11       /* the address is not a block this heap gave out      */
#define LMM_E_INTERIOR 12        /* the address points inside a live block, not at its start */
#define LMM_E_DOUBLE_FREE 13     /* the block at that address is free already (also: its page was
                                    returned to the kernel recently, one of the last 32)       */
#define LMM_E_CORRUPTED 14       /* a meta block failed its integrity check            */
#define LMM_E_BAD_CONFIG 15      /* page size not a power of two in [4 KiB, 1 GiB], or bad config header */
#define LMM_E_BUFFER_TOO_SMALL 16 /* output buffer too small; the needed count is still written */
#define LMM_E_INVALID_ARG 17     /* a NULL output pointer or another invalid argument  */
#define LMM_E_BAD_ADDRESS 18     /* an address double that is NaN, negative, fractional or >= 2^53 */
#define LMM_E_SITE_LIMIT 19      /* the heap's allocation-site table is full           */
#define LMM_STATUS_COUNT 20

#define LMM_NAME_MAX 63u                 /* longest family name in bytes (no NUL)    */
#define LMM_MAX_BYTES (1ull << 46)       /* largest single request: 64 TiB           */
#define LMM_ALL_FAMILIES 0xFFFFFFFFu     /* family filter meaning "every family"     */
#define LMM_BYTES_FAMILY 0u              /* the untyped family "bytes" (struct size 1) */
#define LMM_DEFAULT_PAGE_SIZE (64u * 1024u)
#define LMM_DEFAULT_PAGE_CACHE 4u
#define LMM_ALIGNMENT 16u
#define LMM_META_BLOCK_SIZE 48u   /* bytes of the meta block in front of every data block */
#define LMM_PAGE_HEADER_SIZE 64u  /* bytes at the start of every VM page                  */

typedef struct lmm_heap lmm_heap_t;

/* Heap configuration. Fill with lmm_config_default(), then change fields. */
typedef struct lmm_config {
    uint32_t size;       /* sizeof(lmm_config_t)                                            */
    uint32_t version;    /* LMM_ABI_VERSION                                                 */
    uint64_t page_size;  /* VM page size: power of two, 4 KiB..1 GiB; default 64 KiB        */
    uint32_t page_cache; /* empty VM pages kept idle for reuse (regular ones by any family, large
                            ones up to 32 MiB by their own); 0 = munmap at once       */
    uint32_t flags;      /* LMM_HEAP_* flags; 0 by default                                  */
} lmm_config_t;

/* lmm_config_t.flags: the caller guarantees that one thread at a time uses the
 * heap, so calls skip its lock (about 8 ns per alloc+free pair). */
#define LMM_HEAP_NO_LOCK 1u

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
    uint64_t mmap_count;        /* pages mapped since creation                         */
    uint64_t munmap_count;      /* pages returned since creation                       */
} lmm_stats_t;

typedef struct lmm_family_info {
    uint32_t id;
    uint32_t name_len;
    uint64_t struct_size;
    char name[LMM_NAME_MAX + 1]; /* NUL-terminated */
} lmm_family_info_t;

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
 * stale handle get LMM_E_DESTROYED instead of touching freed memory. */
int lmm_heap_create(const lmm_config_t *config /* NULL: defaults */, lmm_heap_t **out);
int lmm_heap_destroy(lmm_heap_t *heap);
/* Destroys the heap and returns its tombstone too: for callers that never use a
 * handle again after this call (the Deno module does so); any later call on the
 * handle is undefined behaviour. */
int lmm_heap_release(lmm_heap_t *heap);
int lmm_heap_trim(lmm_heap_t *heap); /* return cached empty pages to the kernel */

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
 * NUL-terminated reason into msg (if msg != NULL and cap > 0). */
int lmm_check(lmm_heap_t *heap, char *msg, uint32_t cap);

/* FFI-shaped variants: doubles for counts and addresses, failures as -status. */
double lmm_alloc_f64(lmm_heap_t *heap, uint32_t family, double units, uint32_t site);
int32_t lmm_free_f64(lmm_heap_t *heap, double addr);
double lmm_realloc_f64(lmm_heap_t *heap, double addr, double units);
int32_t lmm_validate_f64(lmm_heap_t *heap, double addr);
double lmm_size_f64(lmm_heap_t *heap, double addr);      /* bytes asked for (units x size), or -status */
int32_t lmm_family_of_f64(lmm_heap_t *heap, double addr); /* family id, or -status                 */

#ifdef __cplusplus
}
#endif
#endif /* LMM_H */
