//! A VM page (`Page`, an extern struct: its layout is part of the ABI): a run
//! of OS pages inside one of the heap's arenas, owned by one
//! family, opening with this 48-byte header and followed by the chain of meta
//! blocks that covers the rest of it.
//!
//! ## Basic Design
//! A regular page is the heap's VM page size and is aligned to it, so the
//! page of any address in it is `address & ~(page_size - 1)`. A request that
//! does not fit a regular page gets a *large* page sized to fit (rounded up to
//! the OS page), aligned to the VM page size too, holding exactly one block
//! whose header says size 0 (the page knows the size and the requested bytes).
//!
//! The header carries a keyed check like the meta blocks' (`seal.zig`) over
//! every field, so a damaged page header is found before the engine follows
//! it. The links that join pages into lists (a family's pages, the idle pages)
//! live outside the arena, in the heap's own metadata, where no stale write
//! through a view can reach them; the page keeps only its slot in its
//! family's list. Invariant: `size == header_size + Σ (Block.header_size +
//! data)` over the chain, and the chain tiles the page with no gap.

const std = @import("std");
const seal = @import("seal.zig");
const Block = @import("block.zig").Block;

pub const Page = extern struct {
    check: u32,
    /// Owning family id.
    family: u32,
    /// Bytes of the page.
    size: u64,
    /// Offset from the base below which memory may have been written since the
    /// kernel provided it; above it, memory is still the kernel's zero fill.
    dirty: u64,
    /// Large pages: the block's requested bytes. Regular pages: 0.
    requested: u64,
    /// Slot in the family's page list.
    index: u32,
    flags: u32,
    _reserved: u64 = 0,

    pub const header_size: usize = @sizeOf(Page);
    pub const flag_large: u32 = 1;
    pub const flag_idle: u32 = 2;

    comptime {
        std.debug.assert(header_size == 48);
        std.debug.assert((header_size + Block.header_size) % 16 == 0);
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

    pub inline fn isLarge(p: *const Page) bool {
        return p.flags & flag_large != 0;
    }

    pub inline fn isIdle(p: *const Page) bool {
        return p.flags & flag_idle != 0;
    }

    pub inline fn dirtyEnd(p: *const Page) usize {
        return p.base() + p.dirty;
    }

    /// Data bytes of the single block that covers an empty page of `size` bytes.
    pub inline fn capacity(size: usize) usize {
        return size - header_size - Block.header_size;
    }

    /// Data bytes of the page's block when it is large.
    pub inline fn largeSize(p: *const Page) usize {
        return capacity(p.size);
    }

    /// Writes a fresh header (then `sealWith`).
    pub fn init(p: *Page, family: u32, size: usize, dirty: usize, large: bool) void {
        p.* = .{ .check = 0, .family = family, .size = size, .dirty = dirty, .requested = 0, .index = 0, .flags = if (large) flag_large else 0 };
    }

    fn hash(p: *const Page, key: u32) u32 {
        var h = seal.start(key, p.base());
        inline for (.{ p.family, p.size, p.dirty, p.requested, p.index, p.flags, p._reserved }) |v| {
            if (@TypeOf(v) == u64) {
                h = seal.mix(h, @truncate(v));
                h = seal.mix(h, @truncate(v >> 32));
            } else h = seal.mix(h, v);
        }
        return seal.finish(h);
    }

    pub inline fn sealWith(p: *Page, key: u32) void {
        p.check = p.hash(key);
    }

    /// True when the header is intact.
    pub inline fn valid(p: *const Page, key: u32) bool {
        return p.check == p.hash(key);
    }

    /// True when the page holds one block and that block is free.
    pub inline fn isEmpty(p: *const Page) bool {
        const f = p.first();
        return f.isFree() and (p.isLarge() or f.endAddr() == p.end());
    }

    /// Raises the dirty mark to cover `[.., addr)`; true when it moved (reseal).
    pub inline fn markDirty(p: *Page, addr: usize) bool {
        const off = addr - p.base();
        if (off <= p.dirty) return false;
        p.dirty = off;
        return true;
    }
};

test "an empty page's single block tiles it exactly" {
    const size: usize = 4096;
    try std.testing.expectEqual(size, Page.header_size + Block.header_size + Page.capacity(size));
    try std.testing.expect(Page.capacity(size) % 16 == 0);
}

test "every field is covered by the check" {
    var buf: [64]u8 align(16) = undefined;
    const p: *Page = @ptrCast(&buf);
    p.init(3, 65536, 64, false);
    p.sealWith(9);
    try std.testing.expect(p.valid(9));
    inline for (.{ "family", "size", "dirty", "requested", "index", "flags", "_reserved" }) |f| {
        const old = @field(p, f);
        @field(p, f) ^= 1 << 5;
        try std.testing.expect(!p.valid(9));
        @field(p, f) = old;
        if (@TypeOf(old) == u64) {
            @field(p, f) ^= 1 << 40;
            try std.testing.expect(!p.valid(9));
            @field(p, f) = old;
        }
    }
    try std.testing.expect(p.valid(9));
}
