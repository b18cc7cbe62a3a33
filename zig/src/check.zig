//! The invariant walker: visits every page and block of a heap and verifies
//! everything the allocator relies on, recounting every statistic.
//!
//! Checked, per family: its page list (each page at the slot it records), each
//! page's keyed check, family, arena placement (a page start in a shared
//! arena, or the base of a dedicated one) and alignment; in each regular page,
//! the block chain's integrity checks, back links and contiguity (blocks tile
//! the page exactly: page header + Σ (meta block + data) == page size); no
//! two adjacent free blocks; alignment; each free block in the family's queue
//! at its recorded index; heap order of the queue; the requested bytes of
//! each occupied block fit in it and are whole structures; its site id is
//! known; everything handed out lies below the page's dirty mark; a large
//! page's one block; and the running counters equal the recount. Per heap:
//! the idle pages, the arenas' bitmaps against the pages placed in them,
//! totals, and pages taken − pages returned == pages.
//!
//! It follows nothing it has not verified first: page pointers come from the
//! lists outside the arena, headers are checked before their links are used.
//! A poisoned heap fails at once with the reason it was poisoned for.
//!
//! Cost: O(blocks + pages + families + arena units / 64); it allocates nothing.

const std = @import("std");
const os = @import("os.zig");
const Heap = @import("Heap.zig");
const Arena = @import("Arena.zig");
const Block = @import("block.zig").Block;
const Page = @import("page.zig").Page;
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

/// For tests: `run`, printing the walker's reason when it fails.
pub fn expectValid(h: *Heap) !void {
    var msg: [256]u8 = undefined;
    run(h, &msg) catch |e| {
        std.debug.print("check failed: {s}\n", .{std.mem.sliceTo(&msg, 0)});
        return e;
    };
}

/// Verifies every invariant of `h`. On failure writes a NUL-terminated reason
/// into `msg` (when it has room), poisons the heap and returns
/// `error.Corrupted`.
pub fn run(h: *Heap, msg: []u8) Error!void {
    const fail: Fail = .{ .msg = msg };
    if (msg.len > 0) msg[0] = 0;
    if (h.isPoisoned()) return fail.say("the heap is poisoned: {s}", .{h.poisonReason()});
    walk(h, fail) catch |e| {
        // Whatever broke, the heap must not be written into any more.
        h.poison("check: {s}", .{std.mem.sliceTo(msg, 0)}) catch {};
        return e;
    };
}

fn walk(h: *const Heap, fail: Fail) Error!void {
    var pages: u64 = 0;
    var app: u64 = 0;
    var idle: u64 = 0;
    var arena_units = [_]usize{0} ** Heap.max_arenas;
    var arena_pages = [_]usize{0} ** Heap.max_arenas;
    for (0..h.family_count) |i| {
        const f = h.family(@intCast(i)).?;
        if (f.id != i) return fail.say("family {d}: id {d} does not match its slot", .{ i, f.id });
        if (h.names.get(f.name()) != f.id) return fail.say("family {s}: not found under its name", .{f.name()});
        if (f.alignment != 8 and f.alignment != 16) return fail.say("family {s}: alignment {d}", .{ f.name(), f.alignment });
        const r = try family(h, f, fail, &arena_units, &arena_pages);
        pages += r.pages;
        idle += r.idle;
        app += f.counters.app_bytes;
    }
    if (h.names.count() != h.family_count) return fail.say("name index holds {d} names for {d} families", .{ h.names.count(), h.family_count });
    if (app != h.app_bytes) return fail.say("heap app bytes {d}, families sum to {d}", .{ h.app_bytes, app });
    if (h.peak_app_bytes < h.app_bytes) return fail.say("heap peak {d} below current {d}", .{ h.peak_app_bytes, h.app_bytes });
    for (h.idle.items) |p| {
        if (!p.isIdle()) return fail.say("idle list holds page 0x{x}, which is not marked idle", .{p.base()});
    }
    if (idle != h.idle.items.len) return fail.say("{d} pages are marked idle, the idle list holds {d}", .{ idle, h.idle.items.len });
    if (idle > h.cache_limit) return fail.say("{d} idle pages, limit {d}", .{ idle, h.cache_limit });
    for (h.arenas[0..h.arena_count], 0..) |*a, i| {
        if (a.base % h.page_size != 0 or a.len % h.page_size != 0) return fail.say("arena {d} at 0x{x} is not aligned to the page size", .{ i, a.base });
        if (a.dedicated) {
            if (a.used_units != arena_pages[i]) return fail.say("dedicated arena {d} says {d} pages, holds {d}", .{ i, a.used_units, arena_pages[i] });
            // Empty, it is unmapped at once — unless the kernel refused (counted).
            if (!h.keep_arenas and a.used_units == 0 and h.decommit_failures == 0) return fail.say("dedicated arena {d} is empty but still reserved", .{i});
            continue;
        }
        if (a.used_units != arena_units[i] + a.guard or a.countUsed() != a.used_units) return fail.say("arena {d}: {d} units counted, {d} in its bitmap, pages take {d} (+{d} guard)", .{ i, a.used_units, a.countUsed(), arena_units[i], a.guard });
        if (a.countStarts() != arena_pages[i]) return fail.say("arena {d}: {d} page starts in its bitmap, {d} pages", .{ i, a.countStarts(), arena_pages[i] });
        if (!a.hintHolds()) return fail.say("arena {d}: a unit below its hint {d} is free", .{ i, a.hint });
        if (i > 0) for (h.arenas[0..i]) |*b| if (b.base < a.base + a.len and a.base < b.base + b.len) return fail.say("arenas overlap at 0x{x}", .{a.base});
    }
    if (h.pages_taken -% h.pages_returned != pages) return fail.say("pages taken {d} - returned {d} != {d} pages", .{ h.pages_taken, h.pages_returned, pages });
}

const Recount = struct { pages: u64, idle: u64 };

fn family(h: *const Heap, f: *const Family, fail: Fail, arena_units: []usize, arena_pages: []usize) Error!Recount {
    var n: Family.Counters = .{};
    var idle: u64 = 0;
    var queued: u64 = 0;
    var cached: u64 = 0;
    if (f.unit != 0 and (!h.fronted or f.unit % f.alignment != 0)) return fail.say("{s}: front unit {d} in a heap without front caches, or misaligned", .{ f.name(), f.unit });
    if (f.cache.items.len > 0 and f.unit == 0) return fail.say("{s}: cached blocks without a front unit", .{f.name()});
    for (f.cache.items) |b| {
        const p: *const Page = @ptrFromInt(@intFromPtr(b) & ~(h.page_size - 1));
        if (!f.ownsPage(p) or p.isLarge() or !b.valid(h.key) or b.state().? != .cached or b.isHeld() or b.size() != f.unit)
            return fail.say("{s}: its front cache holds 0x{x}, not a cached block of its own", .{ f.name(), b.dataAddr() });
    }
    for (f.pages.items, 0..) |p, slot| {
        // A page pointer from the list is placed before it is read.
        const ai = for (h.arenas[0..h.arena_count], 0..) |*a, i| {
            if (a.contains(p.base())) break i;
        } else return fail.say("{s}: page list reaches 0x{x}, which is in no arena of this heap", .{ f.name(), p.base() });
        const a = &h.arenas[ai];
        if (p.base() % h.page_size != 0) return fail.say("{s}: page 0x{x} is not aligned to the VM page size", .{ f.name(), p.base() });
        if (a.dedicated) {
            if (p.base() != a.base) return fail.say("{s}: page 0x{x} is not at its dedicated arena's start", .{ f.name(), p.base() });
        } else if (!a.startsPage(p.base())) return fail.say("{s}: page 0x{x} is not a page start of its arena", .{ f.name(), p.base() });
        if (!p.valid(h.key)) return fail.say("{s}: page header 0x{x} fails its integrity check (overwritten?)", .{ f.name(), p.base() });
        if (p.index != slot) return fail.say("{s}: page 0x{x} says slot {d}, is at {d}", .{ f.name(), p.base(), p.index, slot });
        if (p.family != f.id) return fail.say("{s}: page 0x{x} names family {d}", .{ f.name(), p.base(), p.family });
        if (p.flags & ~(Page.flag_large | Page.flag_idle) != 0 or p._reserved != 0) return fail.say("{s}: page 0x{x} has unknown flags", .{ f.name(), p.base() });
        if (p.size % os.os_page != 0 or p.end() > a.base + a.len or p.size < Page.header_size + Block.header_size + 8) return fail.say("{s}: page 0x{x} has size {d}", .{ f.name(), p.base(), p.size });
        if (if (p.isLarge()) p.size <= h.page_size else p.size != h.page_size) return fail.say("{s}: {s} page 0x{x} has size {d}", .{ f.name(), if (p.isLarge()) "large" else "regular", p.base(), p.size });
        if (p.dirty > p.size) return fail.say("{s}: page 0x{x}: dirty mark {d} past its end", .{ f.name(), p.base(), p.dirty });
        arena_units[ai] += if (a.dedicated) 0 else std.mem.alignForward(usize, p.size, h.page_size) / h.page_size;
        arena_pages[ai] += 1;
        n.pages += 1;
        n.bytes_mapped += p.size;
        const empty = if (p.isLarge()) try large(h, f, p, &n, fail) else try page(h, f, p, &n, &queued, &cached, fail);
        if (p.isIdle()) {
            idle += 1;
            if (!empty) return fail.say("{s}: page 0x{x} is idle but not empty", .{ f.name(), p.base() });
            if (p.size > Heap.max_idle_large) return fail.say("{s}: idle page 0x{x} is too large", .{ f.name(), p.base() });
            if (std.mem.indexOfScalar(*Page, h.idle.items, p) == null) return fail.say("{s}: idle page 0x{x} is not in the idle list", .{ f.name(), p.base() });
        } else if (empty) return fail.say("{s}: page 0x{x} is empty but neither idle nor returned", .{ f.name(), p.base() });
    }
    if (f.queue.len != queued) return fail.say("{s}: queue holds {d} blocks, pages have {d} free", .{ f.name(), f.queue.len, queued });
    if (cached != f.cache.items.len + f.loaned) return fail.say("{s}: {d} cached blocks in its pages, its cache holds {d} and {d} are lent", .{ f.name(), cached, f.cache.items.len, f.loaned });
    if (f.queue.firstViolation()) |i| return fail.say("{s}: free queue out of order at index {d}", .{ f.name(), i });
    const c = f.counters;
    inline for (.{ "pages", "bytes_mapped", "total_blocks", "free_blocks", "app_bytes", "occupied_bytes", "free_bytes", "hard_frag_bytes", "soft_frag_blocks", "soft_frag_bytes" }) |field| {
        if (@field(c, field) != @field(n, field)) return fail.say("{s}: counter " ++ field ++ " is {d}, recount gives {d}", .{ f.name(), @field(c, field), @field(n, field) });
    }
    if (c.peak_app_bytes < c.app_bytes) return fail.say("{s}: peak {d} below current {d}", .{ f.name(), c.peak_app_bytes, c.app_bytes });
    if (c.alloc_count -% c.free_count != c.total_blocks -% c.free_blocks) return fail.say("{s}: {d} allocs - {d} frees != {d} occupied blocks", .{ f.name(), c.alloc_count, c.free_count, c.total_blocks -% c.free_blocks });
    return .{ .pages = n.pages, .idle = idle };
}

fn countFree(f: *const Family, n: *Family.Counters, size: u64) void {
    n.free_blocks += 1;
    n.free_bytes += size;
    if (size < f.struct_size) {
        n.soft_frag_blocks += 1;
        n.soft_frag_bytes += size;
    }
}

fn countOccupied(h: *const Heap, f: *const Family, p: *const Page, n: *Family.Counters, addr: usize, size: u64, requested: u64, site: u32, fail: Fail) Error!void {
    if (requested == 0 or std.mem.alignForward(u64, requested, f.alignment) > size) return fail.say("{s}: block 0x{x} holds {d} requested bytes in {d}", .{ f.name(), addr, requested, size });
    if (requested % f.struct_size != 0) return fail.say("{s}: block 0x{x}: {d} bytes is not whole structures of {d}", .{ f.name(), addr, requested, f.struct_size });
    if (site >= h.sites.count()) return fail.say("{s}: block 0x{x} has unknown site {d}", .{ f.name(), addr, site });
    if (addr + requested > p.dirtyEnd()) return fail.say("{s}: block 0x{x} lies past its page's dirty mark", .{ f.name(), addr });
    n.occupied_bytes += size;
    n.app_bytes += requested;
    n.hard_frag_bytes += f.hardFrag(size, requested);
}

/// The one block of a large page; returns whether the page is empty.
fn large(h: *const Heap, f: *const Family, p: *const Page, n: *Family.Counters, fail: Fail) Error!bool {
    const b = p.first();
    if (!b.valid(h.key)) return fail.say("{s}: large page 0x{x}: its meta block fails its integrity check (overwritten?)", .{ f.name(), p.base() });
    if (b.size_g != 0 or b.prevDistance() != 0) return fail.say("{s}: large page 0x{x}: its block has size {d}, back link {d}", .{ f.name(), p.base(), b.size(), b.prevDistance() });
    n.total_blocks += 1;
    switch (b.state().?) {
        .free => {
            if (p.requested != 0 or b.tail != 0) return fail.say("{s}: large page 0x{x}: free block with requested bytes", .{ f.name(), p.base() });
            countFree(f, n, p.largeSize());
            return true;
        },
        .occupied => {
            try countOccupied(h, f, p, n, b.dataAddr(), p.largeSize(), p.requested, b.site(), fail);
            if (b.slack() != 0) return fail.say("{s}: large page 0x{x}: block with slack {d}", .{ f.name(), p.base(), b.slack() });
            return false;
        },
        .dead, .cached => return fail.say("{s}: large page 0x{x}: block in state {s}", .{ f.name(), p.base(), @tagName(b.state().?) }),
    }
}

/// The chain of a regular page; returns whether the page is empty.
fn page(h: *const Heap, f: *const Family, p: *const Page, n: *Family.Counters, queued: *u64, cached: *u64, fail: Fail) Error!bool {
    if (p.requested != 0) return fail.say("{s}: page 0x{x}: a regular page with requested bytes", .{ f.name(), p.base() });
    var expect = p.base() + Page.header_size;
    var prev_distance: usize = 0;
    var prev_free = false;
    var blocks: u64 = 0;
    var it: ?*Block = p.first();
    while (it) |b| : (it = b.next(p.end())) {
        const off = expect - p.base();
        if (@intFromPtr(b) != expect) return fail.say("{s}: page 0x{x}: block at offset {d} is not where the previous one ends", .{ f.name(), p.base(), @intFromPtr(b) - p.base() });
        if (expect + Block.header_size > p.end()) return fail.say("{s}: page 0x{x}: block at offset {d} runs past the page", .{ f.name(), p.base(), off });
        if (!b.valid(h.key)) return fail.say("{s}: page 0x{x}: meta block at offset {d} fails its integrity check (overwritten?)", .{ f.name(), p.base(), off });
        if (b.prevDistance() != prev_distance) return fail.say("{s}: page 0x{x}: block at offset {d} has a broken back link", .{ f.name(), p.base(), off });
        if (b.size() % f.alignment != 0 or b.size() < f.alignment or b.dataAddr() % f.alignment != 0) return fail.say("{s}: page 0x{x}: block at offset {d} has size {d}", .{ f.name(), p.base(), off, b.size() });
        if (b.endAddr() > p.end()) return fail.say("{s}: page 0x{x}: block at offset {d} ends past the page", .{ f.name(), p.base(), off });
        blocks += 1;
        n.total_blocks += 1;
        switch (b.state().?) {
            .free => {
                if (prev_free) return fail.say("{s}: page 0x{x}: free blocks at offset {d} and before it are not coalesced", .{ f.name(), p.base(), off });
                if (!f.queue.holds(b)) return fail.say("{s}: page 0x{x}: free block at offset {d} is not in the queue at its index {d}", .{ f.name(), p.base(), off, b.queueIndex() });
                if (b.tail != 0) return fail.say("{s}: page 0x{x}: free block at offset {d} has a site or requested bytes", .{ f.name(), p.base(), off });
                if (b.dataAddr() + @sizeOf(u32) > p.dirtyEnd()) return fail.say("{s}: page 0x{x}: free block at offset {d} lies past the dirty mark", .{ f.name(), p.base(), off });
                countFree(f, n, b.size());
                queued.* += 1;
                prev_free = true;
            },
            .occupied => {
                try countOccupied(h, f, p, n, b.dataAddr(), b.size(), b.requested(), b.site(), fail);
                prev_free = false;
            },
            .cached => {
                // In a front cache (free) or handed out by the TypeScript tier (held).
                if (b.size() != f.unit) return fail.say("{s}: page 0x{x}: cached block at offset {d} of {d} bytes, the front unit is {d}", .{ f.name(), p.base(), off, b.size(), f.unit });
                if (b.site() != 0) return fail.say("{s}: page 0x{x}: cached block at offset {d} has a site", .{ f.name(), p.base(), off });
                if (b.endAddr() > p.dirtyEnd()) return fail.say("{s}: page 0x{x}: cached block at offset {d} lies past the dirty mark", .{ f.name(), p.base(), off });
                if (b.isHeld()) {
                    if (b.slack() >= b.size()) return fail.say("{s}: page 0x{x}: held block at offset {d} has slack {d}", .{ f.name(), p.base(), off, b.slack() });
                    try countOccupied(h, f, p, n, b.dataAddr(), b.size(), b.requested(), 0, fail);
                } else {
                    if (b.slack() != 0) return fail.say("{s}: page 0x{x}: cached block at offset {d} has slack", .{ f.name(), p.base(), off });
                    countFree(f, n, b.size());
                }
                cached.* += 1;
                prev_free = false;
            },
            .dead => return fail.say("{s}: page 0x{x}: dead meta block at offset {d} is in the chain", .{ f.name(), p.base(), off }),
        }
        expect = b.endAddr();
        prev_distance = Block.header_size + b.size();
    }
    if (expect != p.end()) return fail.say("{s}: page 0x{x}: blocks cover {d} of {d} bytes", .{ f.name(), p.base(), expect - p.base(), p.size });
    return blocks == 1 and prev_free;
}

test "check passes on a fresh heap and names what broke" {
    const h = try Heap.create(.{ .reserve = 1 << 20 });
    defer _ = h.destroyFully();
    var msg: [200]u8 = undefined;
    try run(h, &msg);
    _ = try h.alloc(Heap.bytes_family, 64, 0);
    try run(h, &msg);
    h.family(0).?.counters.app_bytes += 1;
    try std.testing.expectError(error.Corrupted, run(h, &msg));
    try std.testing.expect(std.mem.indexOf(u8, std.mem.sliceTo(&msg, 0), "app_bytes") != null);
    // A failed check poisons the heap: it stays failed with its first reason.
    h.family(0).?.counters.app_bytes -= 1;
    try std.testing.expectError(error.Corrupted, run(h, &msg));
    try std.testing.expect(std.mem.indexOf(u8, std.mem.sliceTo(&msg, 0), "poisoned") != null);
    try std.testing.expectError(error.Poisoned, h.alloc(Heap.bytes_family, 8, 0));
}

test "check finds a free block missing from the queue" {
    const h = try Heap.create(.{ .reserve = 1 << 20, .exact = true });
    defer _ = h.destroyFully();
    var msg: [200]u8 = undefined;
    const a = try h.alloc(Heap.bytes_family, 64, 0);
    _ = try h.alloc(Heap.bytes_family, 64, 0);
    try h.free(@intFromPtr(a));
    Block.fromData(@intFromPtr(a)).setQueueIndex(77);
    try std.testing.expectError(error.Corrupted, run(h, &msg));
    try std.testing.expect(std.mem.indexOf(u8, std.mem.sliceTo(&msg, 0), "queue") != null);
}

test "check finds a damaged page header" {
    const h = try Heap.create(.{ .reserve = 1 << 20 });
    defer _ = h.destroyFully();
    var msg: [200]u8 = undefined;
    const a = try h.alloc(Heap.bytes_family, 64, 0);
    const pg: *Page = @ptrFromInt(@intFromPtr(a) & ~(h.page_size - 1));
    pg.size *= 4;
    try std.testing.expectError(error.Corrupted, run(h, &msg));
    try std.testing.expect(std.mem.indexOf(u8, std.mem.sliceTo(&msg, 0), "page header") != null);
}

test "check with no room for a message still fails" {
    const h = try Heap.create(.{ .reserve = 1 << 20 });
    defer _ = h.destroyFully();
    h.app_bytes += 1;
    try std.testing.expectError(error.Corrupted, run(h, &.{}));
    h.app_bytes -= 1;
}
