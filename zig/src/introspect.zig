//! Reading a heap without changing it: statistics per family and per heap,
//! and the page and block listings behind `mm_print_memory_usage`, block maps
//! and leak reports.
//!
//! Statistics are O(1) per family (running counters); heap totals are
//! O(families); listings are O(pages + blocks) and write into a caller's
//! buffer, always counting every record so that a too-small buffer tells the
//! caller how much to allocate.

const std = @import("std");
const abi = @import("abi.zig");
const Heap = @import("Heap.zig");
const Family = @import("Family.zig");
const Page = @import("page.zig").Page;
const Block = @import("block.zig").Block;

pub const all_families: u32 = std.math.maxInt(u32);

fn addFamily(s: *abi.Stats, f: *const Family) void {
    const c = f.counters;
    s.pages += c.pages;
    s.bytes_mapped += c.bytes_mapped;
    s.total_blocks += c.total_blocks;
    s.free_blocks += c.free_blocks;
    s.occupied_blocks += c.total_blocks - c.free_blocks;
    s.app_bytes += c.app_bytes;
    s.occupied_bytes += c.occupied_bytes;
    s.free_bytes += c.free_bytes;
    s.header_bytes += c.bytes_mapped - c.occupied_bytes - c.free_bytes;
    s.largest_free = @max(s.largest_free, f.queue.maxSize());
    s.hard_frag_bytes += c.hard_frag_bytes;
    s.soft_frag_blocks += c.soft_frag_blocks;
    s.soft_frag_bytes += c.soft_frag_bytes;
    s.alloc_count += c.alloc_count;
    s.free_count += c.free_count;
    s.realloc_count += c.realloc_count;
}

/// Statistics of family `id`, or of the whole heap for `all_families`.
/// Counters live outside the arenas, so a poisoned heap still answers.
pub fn stats(h: *const Heap, id: u32) error{UnknownFamily}!abi.Stats {
    var s: abi.Stats = .{ .family = id, .families = h.family_count };
    if (id == all_families) {
        for (0..h.family_count) |i| addFamily(&s, h.family(@intCast(i)).?);
        s.peak_app_bytes = h.peak_app_bytes;
        s.cached_pages = h.idle.items.len;
        for (h.idle.items) |p| s.cached_bytes += p.size;
        s.pages_taken = h.pages_taken;
        s.pages_returned = h.pages_returned;
        s.arenas = h.arena_count;
        for (h.arenas[0..h.arena_count]) |a| s.reserved_bytes += a.len;
        s.decommit_failures = h.decommit_failures;
        s.poisoned = @intFromBool(h.isPoisoned());
    } else {
        const f = h.family(id) orelse return error.UnknownFamily;
        addFamily(&s, f);
        s.struct_size = f.struct_size;
        s.alignment = f.alignment;
        s.peak_app_bytes = f.counters.peak_app_bytes;
    }
    return s;
}

pub const WalkError = error{ UnknownFamily, Corrupted, Poisoned };

/// Calls `visit(ctx, family, page)` for each page of family `id` (or all),
/// after verifying the page header.
fn eachPage(h: *Heap, id: u32, ctx: anytype, comptime visit: fn (@TypeOf(ctx), *Heap, *const Family, *const Page) WalkError!void) WalkError!void {
    try h.usable();
    if (id != all_families and h.family(id) == null) return error.UnknownFamily;
    for (0..h.family_count) |i| {
        if (id != all_families and i != id) continue;
        const f = h.family(@intCast(i)).?;
        // Newest first, as the classic listing prints them.
        var k = f.pages.items.len;
        while (k > 0) {
            k -= 1;
            const p = f.pages.items[k];
            if (!p.valid(h.key)) return h.poison("page header at 0x{x} fails its integrity check: memory was overwritten", .{p.base()});
            try visit(ctx, h, f, p);
        }
    }
}

/// One block of a page as the listings see it.
const Item = struct { addr: usize, size: u64, requested: u64, site: u32, free: bool, cached: bool = false };

/// Calls `each(ctx, item)` for every block of `p`, verifying each header.
fn eachBlock(h: *Heap, p: *const Page, ctx: anytype, comptime each: fn (@TypeOf(ctx), Item) void) WalkError!void {
    if (p.isLarge()) {
        const b = p.first();
        if (!b.valid(h.key)) return h.poison("meta block at 0x{x} fails its integrity check: memory was overwritten", .{@intFromPtr(b)});
        each(ctx, .{ .addr = b.dataAddr(), .size = p.largeSize(), .requested = p.requested, .site = b.site(), .free = b.isFree() });
        return;
    }
    var expect = p.base() + Page.header_size;
    var it: ?*Block = p.first();
    while (it) |b| : (it = b.next(p.end())) {
        if (@intFromPtr(b) != expect or !b.valid(h.key) or b.endAddr() > p.end())
            return h.poison("meta block at 0x{x} fails its integrity check: memory was overwritten", .{@intFromPtr(b)});
        // A cached block is free, unless the TypeScript tier handed it out.
        const cached = b.state().? == .cached;
        const free = b.isFree() or (cached and !b.isHeld());
        each(ctx, .{ .addr = b.dataAddr(), .size = b.size(), .requested = if (free) 0 else b.requested(), .site = if (free) 0 else b.site(), .free = free, .cached = cached and free });
        expect = b.endAddr();
    }
}

fn Sink(comptime T: type) type {
    return struct {
        buf: []T,
        count: u64 = 0,
        flags: u32 = 0,
        page: ?*const Page = null,
        family: u32 = 0,
        info: abi.PageInfo = undefined,

        fn push(s: *@This(), r: T) void {
            if (s.count < s.buf.len) s.buf[@intCast(s.count)] = r;
            s.count += 1;
        }
    };
}

fn tallyBlock(s: *Sink(abi.PageInfo), b: Item) void {
    s.info.blocks += 1;
    if (b.free) {
        s.info.free_blocks += 1;
        s.info.free_bytes += b.size;
        s.info.largest_free = @max(s.info.largest_free, b.size);
    }
}

fn visitPage(s: *Sink(abi.PageInfo), h: *Heap, _: *const Family, p: *const Page) WalkError!void {
    s.info = .{ .base = p.base(), .size = p.size, .family = p.family, .blocks = 0, .free_blocks = 0, .free_bytes = 0, .largest_free = 0 };
    try eachBlock(h, p, s, tallyBlock);
    s.push(s.info);
}

/// Lists the pages of family `id` (or all); returns how many there are, which
/// may exceed `buf.len` (then only the first `buf.len` are written).
pub fn pages(h: *Heap, id: u32, buf: []abi.PageInfo) WalkError!u64 {
    var s: Sink(abi.PageInfo) = .{ .buf = buf };
    try eachPage(h, id, &s, visitPage);
    return s.count;
}

fn recordBlock(s: *Sink(abi.BlockRecord), b: Item) void {
    if (b.free and s.flags & abi.walk_live_only != 0) return;
    s.push(.{
        .page = s.page.?.base(),
        .addr = b.addr,
        .size = b.size,
        .requested = b.requested,
        .family = s.family,
        .site = b.site,
        .flags = (if (b.free) abi.block_free else 0) | (if (b.cached) abi.block_cached else 0),
    });
}

fn visitBlocks(s: *Sink(abi.BlockRecord), h: *Heap, f: *const Family, p: *const Page) WalkError!void {
    s.page = p;
    s.family = f.id;
    try eachBlock(h, p, s, recordBlock);
}

/// Lists the blocks of family `id` (or all), page by page in address order;
/// `flags` may ask for occupied blocks only. Returns the full count.
pub fn blocks(h: *Heap, id: u32, flags: u32, buf: []abi.BlockRecord) WalkError!u64 {
    var s: Sink(abi.BlockRecord) = .{ .buf = buf, .flags = flags };
    try eachPage(h, id, &s, visitBlocks);
    return s.count;
}

test "stats add up across families and match the listings" {
    const h = try Heap.create(.{ .reserve = 1 << 20 });
    defer _ = h.destroyFully();
    const emp = try h.register("emp_t", 36);
    const stu = try h.register("student_t", 100);
    const a = try h.alloc(emp, 3, 0);
    _ = try h.alloc(emp, 1, 0);
    _ = try h.alloc(stu, 2, 0);
    try h.free(@intFromPtr(a));
    const e = try stats(h, emp);
    try std.testing.expectEqual(@as(u64, 36), e.app_bytes);
    try std.testing.expectEqual(@as(u64, 144), e.peak_app_bytes);
    try std.testing.expectEqual(e.total_blocks, e.free_blocks + e.occupied_blocks);
    const t = try stats(h, all_families);
    try std.testing.expectEqual(@as(u64, 236), t.app_bytes);
    try std.testing.expectEqual(t.bytes_mapped, t.header_bytes + t.occupied_bytes + t.free_bytes);
    try std.testing.expectEqual(@as(u32, 3), t.families);
    var recs: [16]abi.BlockRecord = undefined;
    const n = try blocks(h, all_families, 0, &recs);
    try std.testing.expectEqual(t.total_blocks, n);
    const live = try blocks(h, all_families, abi.walk_live_only, &recs);
    try std.testing.expectEqual(t.occupied_blocks, live);
    var pbuf: [1]abi.PageInfo = undefined;
    try std.testing.expectEqual(@as(u64, 2), try pages(h, all_families, &pbuf)); // counted past the buffer
    try std.testing.expectError(error.UnknownFamily, stats(h, 42));
    try std.testing.expectError(error.UnknownFamily, pages(h, 42, &pbuf));
}
