/**
 * The symbol table of `liblmm.so`: every function of the C ABI
 * (`zig/include/lmm.h`), each parameter commented with its C type.
 *
 * Fast-path rules (see PERFORMANCE.md): no JS number ever goes into a 64-bit
 * parameter. The hot operations (alloc, free, realloc, size, family of) use
 * the `lmm_*_f64` variants, whose addresses and counts are doubles; the heap
 * handle is a `pointer`; output structs are `buffer`s (Uint8Array). The few
 * `u64` parameters left (`lmm_pages`/`lmm_blocks` capacity, `lmm_alloc`
 * units) take BigInt and are off the hot path.
 *
 * @module
 */

/** Every symbol of the C ABI, as `Deno.dlopen` wants it. */
export const symbols = {
  // ── Library ──────────────────────────────────────────────────────────────
  lmm_abi_version: {
    parameters: [],
    result: "u32", // uint32_t
  },
  lmm_meta_block_size: {
    parameters: [],
    result: "u32", // uint32_t
  },
  lmm_status_name: {
    parameters: [
      "i32", // int status
    ],
    result: "pointer", // const char *
  },
  lmm_status_message: {
    parameters: [
      "i32", // int status
    ],
    result: "pointer", // const char *
  },
  lmm_config_default: {
    parameters: [
      "buffer", // lmm_config_t *config
    ],
    result: "void",
  },

  // ── Heaps ────────────────────────────────────────────────────────────────
  lmm_heap_create: {
    parameters: [
      "buffer", // const lmm_config_t *config (NULL: defaults)
      "buffer", // lmm_heap_t **out
    ],
    result: "i32", // int status
  },
  lmm_heap_destroy: {
    parameters: [
      "pointer", // lmm_heap_t *heap
    ],
    result: "i32",
  },
  lmm_heap_release: {
    parameters: [
      "pointer", // lmm_heap_t *heap
    ],
    result: "i32", // int status
  },
  lmm_heap_trim: {
    parameters: [
      "pointer", // lmm_heap_t *heap
    ],
    result: "i32",
  },
  lmm_heap_info: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "buffer", // lmm_heap_info_t *out
    ],
    result: "i32",
  },
  lmm_heap_arenas: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "buffer", // lmm_arena_info_t *buf
      "u64", // uint64_t cap (BigInt)
      "buffer", // uint64_t *out_count
    ],
    result: "i32",
  },
  lmm_arena_unmap: {
    parameters: [
      "pointer", // void *base
      "u64", // uint64_t len (BigInt)
    ],
    result: "i32",
  },

  // ── Families ─────────────────────────────────────────────────────────────
  lmm_register: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "buffer", // const char *name
      "u32", // uint32_t name_len
      "u32", // uint32_t struct_size
      "buffer", // uint32_t *out_id
    ],
    result: "i32",
  },
  lmm_family_find: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "buffer", // const char *name
      "u32", // uint32_t name_len
      "buffer", // uint32_t *out_id
    ],
    result: "i32",
  },
  lmm_family_count: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "buffer", // uint32_t *out_count
    ],
    result: "i32",
  },
  lmm_family_info: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "u32", // uint32_t family
      "buffer", // lmm_family_info_t *out
    ],
    result: "i32",
  },

  // ── Allocation (pointer-shaped; the f64 variants below are the hot path) ─
  lmm_alloc: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "u32", // uint32_t family
      "u64", // uint64_t units (BigInt)
      "buffer", // void **out
    ],
    result: "i32",
  },
  lmm_alloc_site: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "u32", // uint32_t family
      "u64", // uint64_t units (BigInt)
      "u32", // uint32_t site
      "buffer", // void **out
    ],
    result: "i32",
  },
  lmm_free: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "pointer", // void *ptr
    ],
    result: "i32",
  },
  lmm_realloc: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "pointer", // void *ptr
      "u64", // uint64_t units (BigInt)
      "buffer", // void **out
    ],
    result: "i32",
  },
  lmm_validate: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "pointer", // const void *ptr
    ],
    result: "i32",
  },
  lmm_block_info: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "pointer", // const void *ptr
      "buffer", // lmm_block_info_t *out
    ],
    result: "i32",
  },

  // ── Allocation sites ─────────────────────────────────────────────────────
  lmm_site_register: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "buffer", // const char *text
      "u32", // uint32_t text_len
      "buffer", // uint32_t *out_id
    ],
    result: "i32",
  },
  lmm_site_text: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "u32", // uint32_t site
      "buffer", // char *buf
      "u32", // uint32_t cap
      "buffer", // uint32_t *out_len
    ],
    result: "i32",
  },

  // ── Introspection ────────────────────────────────────────────────────────
  lmm_stats: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "u32", // uint32_t family (LMM_ALL_FAMILIES for totals)
      "buffer", // lmm_stats_t *out
    ],
    result: "i32",
  },
  lmm_pages: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "u32", // uint32_t family
      "buffer", // lmm_page_info_t *buf (NULL when cap is 0)
      "u64", // uint64_t cap (BigInt)
      "buffer", // uint64_t *out_count
    ],
    result: "i32",
  },
  lmm_blocks: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "u32", // uint32_t family
      "u32", // uint32_t flags (LMM_WALK_LIVE_ONLY)
      "buffer", // lmm_block_record_t *buf (NULL when cap is 0)
      "u64", // uint64_t cap (BigInt)
      "buffer", // uint64_t *out_count
    ],
    result: "i32",
  },
  lmm_check: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "buffer", // char *msg
      "u32", // uint32_t cap
    ],
    result: "i32",
  },

  // ── FFI-shaped hot path: doubles for counts and addresses, -status on failure
  lmm_alloc_f64: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "u32", // uint32_t family
      "f64", // double units
      "u32", // uint32_t site
    ],
    result: "f64", // double address, or -status
  },
  lmm_free_f64: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "f64", // double addr
    ],
    result: "i32", // int32_t 0, or -status
  },
  lmm_realloc_f64: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "f64", // double addr
      "f64", // double units
    ],
    result: "f64", // double address, or -status
  },
  lmm_class_family_f64: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "f64", // double bytes
    ],
    result: "i32", // int32_t family id, or -status
  },

  // ── The front tier: the TypeScript cache in front of the heap ────────────
  lmm_front_flush: {
    parameters: [
      "pointer", // lmm_heap_t *heap
    ],
    result: "i32",
  },
  lmm_front_refill_f64: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "u32", // uint32_t family
      "buffer", // double *out_addrs
      "u32", // uint32_t cap
    ],
    result: "i32", // int32_t n, or -status
  },
  lmm_front_return_f64: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "u32", // uint32_t family
      "buffer", // const double *addrs
      "u32", // uint32_t n
    ],
    result: "i32",
  },
  lmm_front_settle: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "buffer", // const lmm_front_delta_t *deltas
      "u32", // uint32_t n
    ],
    result: "i32",
  },
  lmm_validate_f64: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "f64", // double addr
    ],
    result: "i32", // int32_t 0, or -status
  },
  lmm_size_f64: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "f64", // double addr
    ],
    result: "f64", // double requested bytes, or -status
  },
  lmm_family_of_f64: {
    parameters: [
      "pointer", // lmm_heap_t *heap
      "f64", // double addr
    ],
    result: "i32", // int32_t family id, or -status
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded library's functions. */
export type LmmSymbols = Deno.DynamicLibrary<typeof symbols>["symbols"];
