//! A page family: a structure registered by name and size, with its VM pages,
//! its free-block queue and its running statistics.
//!
//! ## Basic Design
//! Statistics are kept as running counters, changed in the same few places
//! where blocks change state (`addFree`, `removeFree`, `occupy`, `release`), so
//! that reading them is O(1) and the invariant walker can recount them from
//! the pages and compare. Soft internal fragmentation — a free block too small
//! for one structure of the family — is counted as blocks enter and leave the
//! queue.

const std = @import("std");
const Block = @import("Block.zig");
const Page = @import("Page.zig");
const FreeQueue = @import("FreeQueue.zig");

const Family = @This();

pub const name_max = 63;

id: u32,
name_len: u8,
name_buf: [name_max + 1]u8,
struct_size: u64,
/// Head of the doubly-linked list of the family's pages.
pages: ?*Page = null,
queue: FreeQueue = .{},
counters: Counters = .{},

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

pub fn init(id: u32, family_name: []const u8, struct_size: u64) Family {
    std.debug.assert(family_name.len <= name_max);
    var f: Family = .{ .id = id, .name_len = @intCast(family_name.len), .name_buf = undefined, .struct_size = struct_size };
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

/// Puts a free block into the queue (capacity reserved) and counts it.
pub fn addFree(f: *Family, b: *Block) void {
    f.queue.insert(b);
    f.counters.free_blocks += 1;
    f.countFree(b.size, .in);
}

/// Takes a free block out of the queue and the counts.
pub fn removeFree(f: *Family, b: *Block) void {
    f.queue.remove(b);
    f.counters.free_blocks -= 1;
    f.countFree(b.size, .out);
}

/// Puts free block `new` in the queue slot of free block `old`, which held
/// `old_size` bytes when it entered the queue (a split of the largest block,
/// or a merge: one sift instead of a remove and an insert).
pub fn replaceFree(f: *Family, old: *Block, old_size: u64, new: *Block) void {
    f.queue.replace(old, new);
    f.countFree(old_size, .out);
    f.countFree(new.size, .in);
}

/// Restores the queue and the counts after free block `b` (in the queue)
/// grew or shrank from `old` bytes.
pub fn resizeFree(f: *Family, b: *Block, old: u64) void {
    f.queue.update(b);
    f.countFree(old, .out);
    f.countFree(b.size, .in);
}

/// Bytes of an occupied block that a request of `requested` bytes leaves over
/// (remainders too small to split off: hard internal fragmentation).
pub inline fn slack(b: *const Block) u64 {
    return b.size - std.mem.alignForward(u64, b.requested, Block.alignment);
}

/// Counts a block that just became occupied.
pub fn countOccupied(f: *Family, b: *const Block) void {
    f.counters.occupied_bytes += b.size;
    f.counters.hard_frag_bytes += slack(b);
    f.counters.app_bytes += b.requested;
    f.counters.peak_app_bytes = @max(f.counters.peak_app_bytes, f.counters.app_bytes);
}

/// Uncounts a block that is about to stop being occupied.
pub fn uncountOccupied(f: *Family, b: *const Block) void {
    f.counters.occupied_bytes -= b.size;
    f.counters.hard_frag_bytes -= slack(b);
    f.counters.app_bytes -= b.requested;
}

pub fn linkPage(f: *Family, p: *Page) void {
    p.prev = null;
    p.next = f.pages;
    if (f.pages) |h| h.prev = p;
    f.pages = p;
    f.counters.pages += 1;
    f.counters.bytes_mapped += p.size;
}

pub fn unlinkPage(f: *Family, p: *Page) void {
    if (p.prev) |q| q.next = p.next else f.pages = p.next;
    if (p.next) |q| q.prev = p.prev;
    p.prev = null;
    p.next = null;
    f.counters.pages -= 1;
    f.counters.bytes_mapped -= p.size;
}

test "init keeps the name and zero counters" {
    const f = Family.init(3, "emp_t", 36);
    try std.testing.expectEqualStrings("emp_t", f.name());
    try std.testing.expectEqual(@as(u64, 0), f.counters.pages);
}
