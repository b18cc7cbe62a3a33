//! The invariant walker: visits every page and block of a heap and verifies
//! everything the allocator relies on, recounting every statistic.
//!
//! Checked, per family: the page list's links, each page's magic, family and
//! page-table entries; in each page, the block chain's links, integrity checks
//! and contiguity (blocks tile the page exactly: page header + Σ (meta block +
//! data) == page size); no two adjacent free blocks; alignment; each free block
//! in the family's queue at its recorded index; heap order of the queue; the
//! requested bytes of each occupied block fit in it; its site id is known; and
//! the running counters equal the recount. Per heap: page-table size, the
//! empty-page cache, totals, and mmap − munmap == pages in use + cached.
//!
//! Cost: O(blocks + pages + families); it allocates nothing.

const std = @import("std");
const os = @import("os.zig");
const Heap = @import("Heap.zig");
const Block = @import("Block.zig");
const Page = @import("Page.zig");
const Family = @import("Family.zig");

pub const Error = error{Corrupted};

const Fail = struct {
    msg: []u8,

    fn say(f: Fail, comptime fmt: []const u8, args: anytype) Error {
        if (f.msg.len > 0) {
            const out = std.fmt.bufPrint(f.msg[0 .. f.msg.len - 1], fmt, args) catch f.msg[0 .. f.msg.len - 1];
            f.msg[out.len] = 0;
        }
        return error.Corrupted;
    }
};

/// Verifies every invariant of `h`. On failure writes a NUL-terminated reason
/// into `msg` (when it has room) and returns `error.Corrupted`.
pub fn run(h: *const Heap, msg: []u8) Error!void {
    const fail: Fail = .{ .msg = msg };
    if (msg.len > 0) msg[0] = 0;
    var pages: u64 = 0;
    var regular: u64 = 0;
    var app: u64 = 0;
    for (0..h.family_count) |i| {
        const f = h.family(@intCast(i)).?;
        if (f.id != i) return fail.say("family {d}: id {d} does not match its slot", .{ i, f.id });
        if (h.names.get(f.name()) != f.id) return fail.say("family {s}: not found under its name", .{f.name()});
        const r = try family(h, f, fail);
        pages += r.pages;
        regular += r.regular;
        app += f.counters.app_bytes;
    }
    if (h.names.count() != h.family_count) return fail.say("name index holds {d} names for {d} families", .{ h.names.count(), h.family_count });
    if (h.table.count != regular) return fail.say("page table holds {d} entries for {d} regular pages", .{ h.table.count, regular });
    if (h.table.large.items.len != pages - regular) return fail.say("page table holds {d} large pages, families {d}", .{ h.table.large.items.len, pages - regular });
    for (h.table.large.items, 0..) |r, i| {
        if (i > 0 and h.table.large.items[i - 1].end > r.base) return fail.say("large pages 0x{x} and 0x{x} out of order or overlapping", .{ h.table.large.items[i - 1].base, r.base });
    }
    if (app != h.app_bytes) return fail.say("heap app bytes {d}, families sum to {d}", .{ h.app_bytes, app });
    if (h.peak_app_bytes < h.app_bytes) return fail.say("heap peak {d} below current {d}", .{ h.peak_app_bytes, h.app_bytes });
    var idle: u32 = 0;
    var prev: ?*Page = null;
    var c = h.idle;
    while (c) |p| : (c = p.idle_next) {
        idle += 1;
        if (idle > h.cached) return fail.say("idle list longer than its count {d}", .{h.cached});
        if (h.pageOf(p.base()) != p) return fail.say("idle list reaches 0x{x}, which is not a page of this heap", .{p.base()});
        if (p.idle_prev != prev) return fail.say("idle page 0x{x} has a broken link", .{p.base()});
        if (!p.isLive() or !p.isEmpty() or p.size > Heap.max_idle_large) return fail.say("idle page 0x{x} is not empty or too large", .{p.base()});
        if (h.pageOf(p.base()) != p) return fail.say("idle page 0x{x} is missing from the page table", .{p.base()});
        prev = p;
    }
    if (idle != h.cached or idle > h.cache_limit) return fail.say("idle list holds {d}, count says {d}, limit {d}", .{ idle, h.cached, h.cache_limit });
    if (h.mmap_count - h.munmap_count != pages) return fail.say("mapped {d} - unmapped {d} != {d} pages", .{ h.mmap_count, h.munmap_count, pages });
}

const Recount = struct { pages: u64, regular: u64 };

fn family(h: *const Heap, f: *const Family, fail: Fail) Error!Recount {
    var n: Family.Counters = .{};
    var regular: u64 = 0;
    var prev: ?*Page = null;
    var it = f.pages;
    while (it) |p| : (it = p.next) {
        // A page pointer is looked up before it is followed: a damaged link
        // is reported, never dereferenced.
        if (h.pageOf(p.base()) != p) return fail.say("{s}: page list reaches 0x{x}, which is not a page of this heap", .{ f.name(), p.base() });
        if (p.prev != prev) return fail.say("{s}: page 0x{x} has a broken prev link", .{ f.name(), p.base() });
        prev = p;
        if (!p.isLive()) return fail.say("{s}: page 0x{x} has a bad magic", .{ f.name(), p.base() });
        if (p.family != f.id) return fail.say("{s}: page 0x{x} names family {d}", .{ f.name(), p.base(), p.family });
        if (p.base() % h.page_size != 0) return fail.say("{s}: page 0x{x} is not aligned to the VM page size", .{ f.name(), p.base() });
        if (p.size < h.page_size or p.size % os.os_page != 0) return fail.say("{s}: page 0x{x} has size {d}", .{ f.name(), p.base(), p.size });
        if (h.pageOf(p.base()) != p or h.pageOf(p.end() - 1) != p) return fail.say("{s}: page 0x{x} is missing from the page table", .{ f.name(), p.base() });
        if (h.isRegular(p)) regular += 1;
        n.pages += 1;
        n.bytes_mapped += p.size;
        try page(h, f, p, &n, fail);
        if (n.pages > f.counters.pages) return fail.say("{s}: page list longer than its count {d}", .{ f.name(), f.counters.pages });
    }
    if (f.queue.len != n.free_blocks) return fail.say("{s}: queue holds {d} blocks, pages have {d} free", .{ f.name(), f.queue.len, n.free_blocks });
    if (f.queue.firstViolation()) |i| return fail.say("{s}: free queue out of order at index {d}", .{ f.name(), i });
    const c = f.counters;
    inline for (.{ "pages", "bytes_mapped", "total_blocks", "free_blocks", "app_bytes", "occupied_bytes", "free_bytes", "hard_frag_bytes", "soft_frag_blocks", "soft_frag_bytes" }) |field| {
        if (@field(c, field) != @field(n, field)) return fail.say("{s}: counter " ++ field ++ " is {d}, recount gives {d}", .{ f.name(), @field(c, field), @field(n, field) });
    }
    if (c.peak_app_bytes < c.app_bytes) return fail.say("{s}: peak {d} below current {d}", .{ f.name(), c.peak_app_bytes, c.app_bytes });
    if (c.alloc_count - c.free_count != c.total_blocks - c.free_blocks) return fail.say("{s}: {d} allocs - {d} frees != {d} occupied blocks", .{ f.name(), c.alloc_count, c.free_count, c.total_blocks - c.free_blocks });
    return .{ .pages = n.pages, .regular = regular };
}

fn page(h: *const Heap, f: *const Family, p: *const Page, n: *Family.Counters, fail: Fail) Error!void {
    var expect = p.base() + Page.header_size;
    var prev: ?*Block = null;
    var prev_free = false;
    var blocks: u64 = 0;
    var it: ?*Block = p.first();
    while (it) |b| : (it = b.next) {
        const off = expect - p.base();
        if (@intFromPtr(b) != expect) return fail.say("{s}: page 0x{x}: block at offset {d} is not where the previous one ends", .{ f.name(), p.base(), @intFromPtr(b) - p.base() });
        if (expect + Block.header_size > p.end()) return fail.say("{s}: page 0x{x}: block at offset {d} runs past the page", .{ f.name(), p.base(), off });
        if (!b.valid(h.secret)) return fail.say("{s}: page 0x{x}: meta block at offset {d} fails its integrity check (overwritten?)", .{ f.name(), p.base(), off });
        if (b.prev != prev) return fail.say("{s}: page 0x{x}: block at offset {d} has a broken prev link", .{ f.name(), p.base(), off });
        if (b.size % Block.alignment != 0 or b.size < Block.min_data) return fail.say("{s}: page 0x{x}: block at offset {d} has size {d}", .{ f.name(), p.base(), off, b.size });
        if (b.endAddr() > p.end()) return fail.say("{s}: page 0x{x}: block at offset {d} ends past the page", .{ f.name(), p.base(), off });
        blocks += 1;
        n.total_blocks += 1;
        switch (b.state().?) {
            .free => {
                if (prev_free) return fail.say("{s}: page 0x{x}: free blocks at offset {d} and before it are not coalesced", .{ f.name(), p.base(), off });
                if (b.aux >= f.queue.len or f.queue.items[b.aux].block != b) return fail.say("{s}: page 0x{x}: free block at offset {d} is not in the queue at its index {d}", .{ f.name(), p.base(), off, b.aux });
                if (b.requested != 0) return fail.say("{s}: page 0x{x}: free block at offset {d} has requested bytes", .{ f.name(), p.base(), off });
                n.free_blocks += 1;
                n.free_bytes += b.size;
                if (b.size < f.struct_size) {
                    n.soft_frag_blocks += 1;
                    n.soft_frag_bytes += b.size;
                }
                prev_free = true;
            },
            .occupied => {
                if (b.requested == 0 or std.mem.alignForward(u64, b.requested, Block.alignment) > b.size) return fail.say("{s}: page 0x{x}: block at offset {d} holds {d} requested bytes in {d}", .{ f.name(), p.base(), off, b.requested, b.size });
                if (b.requested % f.struct_size != 0) return fail.say("{s}: page 0x{x}: block at offset {d}: {d} bytes is not whole structures of {d}", .{ f.name(), p.base(), off, b.requested, f.struct_size });
                if (b.aux >= h.sites.count()) return fail.say("{s}: page 0x{x}: block at offset {d} has unknown site {d}", .{ f.name(), p.base(), off, b.aux });
                if (b.endAddr() > p.dirty_end) return fail.say("{s}: page 0x{x}: block at offset {d} lies past the dirty mark", .{ f.name(), p.base(), off });
                n.occupied_bytes += b.size;
                n.app_bytes += b.requested;
                n.hard_frag_bytes += Family.slack(b);
                prev_free = false;
            },
            .dead => return fail.say("{s}: page 0x{x}: dead meta block at offset {d} is in the chain", .{ f.name(), p.base(), off }),
        }
        expect = b.endAddr();
        prev = b;
    }
    if (expect != p.end()) return fail.say("{s}: page 0x{x}: blocks cover {d} of {d} bytes", .{ f.name(), p.base(), expect - p.base(), p.size });
    const idle = h.isIdle(p);
    if (blocks == 1 and prev_free and !idle) return fail.say("{s}: page 0x{x} is empty but neither idle nor returned", .{ f.name(), p.base() });
    if (idle and !(blocks == 1 and prev_free)) return fail.say("{s}: page 0x{x} is idle but not empty", .{ f.name(), p.base() });
}

test "check passes on a fresh heap and names what broke" {
    const h = try Heap.create(.{});
    defer h.destroyFully();
    var msg: [200]u8 = undefined;
    try run(h, &msg);
    const p = try h.alloc(Heap.bytes_family, 64, 0);
    try run(h, &msg);
    h.family(0).?.counters.app_bytes += 1;
    try std.testing.expectError(error.Corrupted, run(h, &msg));
    try std.testing.expect(std.mem.indexOf(u8, std.mem.sliceTo(&msg, 0), "app_bytes") != null);
    h.family(0).?.counters.app_bytes -= 1;
    try run(h, &msg);
    try h.free(@intFromPtr(p));
}

test "check finds a free block missing from the queue" {
    const h = try Heap.create(.{});
    defer h.destroyFully();
    var msg: [200]u8 = undefined;
    const a = try h.alloc(Heap.bytes_family, 64, 0);
    const b = try h.alloc(Heap.bytes_family, 64, 0);
    try h.free(@intFromPtr(a));
    const blk = Block.fromData(@intFromPtr(a));
    const saved = blk.aux;
    blk.aux = 77;
    try std.testing.expectError(error.Corrupted, run(h, &msg));
    try std.testing.expect(std.mem.indexOf(u8, std.mem.sliceTo(&msg, 0), "queue") != null);
    blk.aux = saved;
    try run(h, &msg);
    try h.free(@intFromPtr(b));
}

test "check reports a damaged page link without following it" {
    const h = try Heap.create(.{});
    defer h.destroyFully();
    var msg: [200]u8 = undefined;
    const a = try h.alloc(Heap.bytes_family, 64, 0);
    const pg = h.pageOf(@intFromPtr(a)).?;
    pg.next = @ptrFromInt(0x12345000); // nothing is mapped there
    try std.testing.expectError(error.Corrupted, run(h, &msg));
    try std.testing.expect(std.mem.indexOf(u8, std.mem.sliceTo(&msg, 0), "not a page of this heap") != null);
    pg.next = null;
    try run(h, &msg);
    try h.free(@intFromPtr(a));
}

test "check with no room for a message still fails" {
    const h = try Heap.create(.{});
    defer h.destroyFully();
    h.app_bytes += 1;
    try std.testing.expectError(error.Corrupted, run(h, &.{}));
    h.app_bytes -= 1;
}
