//! A VM page: one `mmap` run owned by one family, opening with this 64-byte
//! header and followed by the chain of meta blocks that covers the rest of it.
//!
//! ## Basic Design
//! A regular page is the heap's VM page size and is aligned to it. A request
//! that cannot fit in a regular page gets a large page sized to fit (rounded
//! up to the OS page), still aligned to the VM page size. Invariant: `size == header_size + Σ (Block.header_size + b.size)`
//! over the chain, and the chain tiles the page with no gap.

const std = @import("std");
const Block = @import("Block.zig");

const Page = @This();

/// `live_magic` or `cached_magic`, xor'd with the page address.
magic: u64,
/// Bytes mapped.
size: u64,
/// Previous and next page of the family (or of the heap's cache).
prev: ?*Page,
next: ?*Page,
/// Owning family id.
family: u32,
_reserved: u32 = 0,
/// Highest address ever handed to the application or written by the
/// allocator; everything above it is still the kernel's zero fill.
dirty_end: u64,
/// Links in the heap's list of idle (empty, kept) pages.
idle_prev: ?*Page = null,
idle_next: ?*Page = null,

pub const header_size: usize = @sizeOf(Page);
const live_magic: u64 = 0x4C4D4D5041474531; // "LMMPAGE1"

comptime {
    std.debug.assert(header_size == 64);
    std.debug.assert(header_size % Block.alignment == 0);
}

pub inline fn base(p: *const Page) usize {
    return @intFromPtr(p);
}

pub inline fn end(p: *const Page) usize {
    return p.base() + p.size;
}

pub inline fn first(p: *const Page) *Block {
    return @ptrFromInt(p.base() + header_size);
}

/// Data bytes of the single free block that covers an empty page of `size` bytes.
pub inline fn capacity(size: usize) usize {
    return size - header_size - Block.header_size;
}

pub inline fn isLive(p: *const Page) bool {
    return p.magic == live_magic ^ p.base();
}

pub inline fn markLive(p: *Page) void {
    p.magic = live_magic ^ p.base();
}

/// True when the page holds one block and that block is free: the page is
/// idle (kept for reuse) or about to be returned.
pub inline fn isEmpty(p: *const Page) bool {
    const f = p.first();
    return f.next == null and f.isFree();
}

test "an empty page's single block tiles it exactly" {
    const size: usize = 4096;
    try std.testing.expectEqual(size, header_size + Block.header_size + capacity(size));
    try std.testing.expect((header_size + Block.header_size) % Block.alignment == 0);
}
