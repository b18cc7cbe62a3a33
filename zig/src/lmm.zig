//! LMM — a Linux heap memory manager. This is the library's root: it exports
//! the C ABI (`c_api.zig`, declared in `include/lmm.h`) and, under `zig build
//! test`, pulls in every file's tests.
//!
//! Map of the engine, one concept per file:
//! - `os.zig`: mmap/munmap, aligned mappings.
//! - `seal.zig`: the keyed check of headers (shared with the Deno module).
//! - `block.zig`: the 16-byte meta block.
//! - `page.zig`: the VM page header.
//! - `Arena.zig`: reserved address space, where pages are placed.
//! - `FreeQueue.zig`: the per-family max-heap of free blocks (worst fit).
//! - `Family.zig`: a registered structure and its running statistics.
//! - `Sites.zig`: interned allocation sites.
//! - `Heap.zig`: allocation, free, realloc, page life cycle.
//! - `introspect.zig`: statistics and page/block listings.
//! - `check.zig`: the invariant walker.
//! - `abi.zig`, `c_api.zig`: the C ABI's types and functions.

comptime {
    _ = @import("c_api.zig");
}

test {
    _ = @import("os.zig");
    _ = @import("block.zig");
    _ = @import("page.zig");
    _ = @import("FreeQueue.zig");
    _ = @import("Family.zig");
    _ = @import("Sites.zig");
    _ = @import("Heap.zig");
    _ = @import("front.zig");
    _ = @import("introspect.zig");
    _ = @import("check.zig");
    _ = @import("abi.zig");
    _ = @import("c_api.zig");
    _ = @import("fuzz_test.zig");
}
