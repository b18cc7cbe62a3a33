//! A page family: a structure registered by name and size, with its VM pages,
//! its free-block queue and its running statistics.
//!
//! Its pages are listed here, outside the arena (each page records its slot),
//! so that no write into the arena can send the engine down a wrong link.
//! Blocks of a family are aligned to 16 bytes when its struct size is a
//! multiple of 16 (and for the untyped family "bytes", which serves `malloc`
//! semantics), else to 8: a C struct's size is a multiple of its alignment,
//! so a struct whose size is not a multiple of 16 never needs more than 8.
//!
//! ## Basic Design
//! Statistics are kept as running counters, changed in the same few places
//! where blocks change state (`addFree`, `removeFree`, `occupy`, `release`), so
//! that reading them is O(1) and the invariant walker can recount them from
//! the pages and compare. Soft internal fragmentation — a free block too small
//! for one structure of the family — is counted as blocks enter and leave the
//! queue.

const std = @import("std");
const Block = @import("block.zig").Block;
const Page = @import("page.zig").Page;
const FreeQueue = @import("FreeQueue.zig");

const Family = @This();

pub const name_max = 63;

id: u32,
name_len: u8,
name_buf: [name_max + 1]u8,
struct_size: u64,
/// Data alignment of its blocks: 8 or 16.
alignment: u32,
/// The family's pages; `Page.index` is a page's slot here.
pages: std.ArrayListUnmanaged(*Page) = .{},
queue: FreeQueue = .{},
counters: Counters = .{},
/// Block size the front tier serves for this family (0: none): one
/// structure for a typed family, the class size for a size class.
unit: u32 = 0,
/// A size class of untyped memory ("bytes/48"): its block size; 0 otherwise.
class_size: u32 = 0,
/// The front cache: freed blocks of `unit` bytes, state `cached` (see front.zig).
cache: std.ArrayListUnmanaged(*Block) = .{},
/// Cached blocks lent to the TypeScript tier (in its caches or held).
loaned: u64 = 0,

/// Running statistics (see lmm_stats_t for their meaning).
pub const Counters = struct {
    pages: u64 = 0,
    bytes_mapped: u64 = 0,
    total_blocks: u64 = 0,
    free_blocks: u64 = 0,
    app_bytes: u64 = 0,
    peak_app_bytes: u64 = 0,
    occupied_bytes: u64 = 0,
    free_bytes: u64 = 0,
    hard_frag_bytes: u64 = 0,
    soft_frag_blocks: u64 = 0,
    soft_frag_bytes: u64 = 0,
    alloc_count: u64 = 0,
    free_count: u64 = 0,
    realloc_count: u64 = 0,
};

/// The block alignment of a family of `struct_size` bytes (see the top).
pub fn alignmentFor(struct_size: u64, untyped: bool) u32 {
    return if (untyped or struct_size % 16 == 0) 16 else 8;
}

pub fn init(id: u32, family_name: []const u8, struct_size: u64, alignment: u32) Family {
    std.debug.assert(family_name.len <= name_max);
    var f: Family = .{ .id = id, .name_len = @intCast(family_name.len), .name_buf = undefined, .struct_size = struct_size, .alignment = alignment };
    @memset(&f.name_buf, 0);
    @memcpy(f.name_buf[0..family_name.len], family_name);
    return f;
}

pub fn name(f: *const Family) []const u8 {
    return f.name_buf[0..f.name_len];
}

/// Counts `size` bytes of free space in or out: free bytes, and soft
/// fragmentation when one structure of the family does not fit.
inline fn countFree(f: *Family, size: u64, comptime sign: enum { in, out }) void {
    const soft = size < f.struct_size;
    switch (sign) {
        .in => {
            f.counters.free_bytes += size;
            if (soft) {
                f.counters.soft_frag_blocks += 1;
                f.counters.soft_frag_bytes += size;
            }
        },
        .out => {
            f.counters.free_bytes -= size;
            if (soft) {
                f.counters.soft_frag_blocks -= 1;
                f.counters.soft_frag_bytes -= size;
            }
        },
    }
}

/// Counts a free block kept outside the queue (an idle large page's) in or out.
pub fn countLoose(f: *Family, size: u64, comptime sign: enum { in, out }) void {
    switch (sign) {
        .in => f.counters.free_blocks += 1,
        .out => f.counters.free_blocks -= 1,
    }
    f.countFree(size, if (sign == .in) .in else .out);
}

/// Puts a free block into the queue (capacity reserved) and counts it.
pub fn addFree(f: *Family, b: *Block) void {
    f.queue.insert(b);
    f.counters.free_blocks += 1;
    f.countFree(b.size(), .in);
}

/// Takes a free block out of the queue and the counts.
pub fn removeFree(f: *Family, b: *Block) void {
    f.queue.remove(b);
    f.counters.free_blocks -= 1;
    f.countFree(b.size(), .out);
}

/// Puts free block `new` in the queue slot of free block `old`, which held
/// `old_size` bytes when it entered the queue (a split of the largest block,
/// or a merge: one sift instead of a remove and an insert).
pub fn replaceFree(f: *Family, old: *Block, old_size: u64, new: *Block) void {
    f.queue.replace(old, new);
    f.countFree(old_size, .out);
    f.countFree(new.size(), .in);
}

/// Restores the queue and the counts after free block `b` (in the queue)
/// grew or shrank from `old` bytes.
pub fn resizeFree(f: *Family, b: *Block, old: u64) void {
    f.queue.update(b);
    f.countFree(old, .out);
    f.countFree(b.size(), .in);
}

/// Bytes of an occupied block of `size` data bytes that a request of
/// `requested` bytes leaves over beyond the alignment padding (remainders too
/// small to split off: hard internal fragmentation).
pub inline fn hardFrag(f: *const Family, size: u64, requested: u64) u64 {
    return size - std.mem.alignForward(u64, requested, f.alignment);
}

/// Counts a block of `size` data bytes that just became occupied.
pub fn countOccupied(f: *Family, size: u64, requested: u64) void {
    f.counters.occupied_bytes += size;
    f.counters.hard_frag_bytes += f.hardFrag(size, requested);
    f.counters.app_bytes += requested;
    f.counters.peak_app_bytes = @max(f.counters.peak_app_bytes, f.counters.app_bytes);
}

/// Uncounts a block that is about to stop being occupied.
pub fn uncountOccupied(f: *Family, size: u64, requested: u64) void {
    f.counters.occupied_bytes -= size;
    f.counters.hard_frag_bytes -= f.hardFrag(size, requested);
    f.counters.app_bytes -= requested;
}

/// Adds a page to the family (capacity reserved); the caller seals the page.
pub fn linkPage(f: *Family, p: *Page) void {
    p.index = @intCast(f.pages.items.len);
    f.pages.appendAssumeCapacity(p);
    f.counters.pages += 1;
    f.counters.bytes_mapped += p.size;
}

/// Removes a page; returns the page that moved into its slot (to be
/// resealed by the caller), if any.
pub fn unlinkPage(f: *Family, p: *Page) ?*Page {
    const i = p.index;
    std.debug.assert(f.pages.items[i] == p);
    _ = f.pages.swapRemove(i);
    f.counters.pages -= 1;
    f.counters.bytes_mapped -= p.size;
    if (i == f.pages.items.len) return null;
    const moved = f.pages.items[i];
    moved.index = i;
    return moved;
}

/// True when `p` is this family's page at the slot it records.
pub inline fn ownsPage(f: *const Family, p: *const Page) bool {
    return p.index < f.pages.items.len and f.pages.items[p.index] == p;
}

test "init keeps the name and zero counters" {
    const f = Family.init(3, "emp_t", 36, alignmentFor(36, false));
    try std.testing.expectEqual(@as(u32, 8), f.alignment);
    try std.testing.expectEqual(@as(u32, 16), alignmentFor(48, false));
    try std.testing.expectEqual(@as(u32, 16), alignmentFor(1, true));
    try std.testing.expectEqualStrings("emp_t", f.name());
    try std.testing.expectEqual(@as(u64, 0), f.counters.pages);
}
