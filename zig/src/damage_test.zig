//! Damage and refusals, one case per test: the findings of issue 12 that are
//! about the engine (each failed on the engine before the arena rewrite), and
//! the bugs the corruption fuzzer (`corrupt_test.zig`) found after it.
//!
//! Three kinds of damage appear here:
//! - bytes that change a header: its keyed check fails, the heap is poisoned;
//! - bytes written back into a header from its own past (a stale write): the
//!   keyed check passes, so the engine must find the lie by comparing the
//!   header with what it keeps outside the arena (page lists, the idle list,
//!   the arenas' bitmaps) — and never crash on it;
//! - system calls that fail: a status, exact accounting, no panic.

const std = @import("std");
const testing = std.testing;
const os = @import("os.zig");
const Heap = @import("Heap.zig");
const Block = @import("block.zig").Block;
const Page = @import("page.zig").Page;
const check = @import("check.zig");
const introspect = @import("introspect.zig");

const bytes_family = Heap.bytes_family;

fn small(config: Heap.Config) !*Heap {
    var c = config;
    c.reserve = 1 << 20;
    c.front = false; // the worst-fit heap's own checks (the front tier has its own tests)
    return Heap.create(c);
}

fn done(h: *Heap) void {
    testing.expect(h.destroyFully()) catch unreachable;
}

fn pageOf(h: *const Heap, p: [*]u8) *Page {
    return @ptrFromInt(@intFromPtr(p) & ~(h.page_size - 1));
}

const expectValid = check.expectValid;

/// A copy of the `n` bytes at `at`, to write back later (a stale write).
fn Saved(comptime n: usize) type {
    return struct {
        at: [*]u8,
        bytes: [n]u8,

        fn take(at: anytype) @This() {
            const p: [*]u8 = @ptrCast(at);
            return .{ .at = p, .bytes = p[0..n].* };
        }

        fn restore(s: @This()) void {
            s.at[0..n].* = s.bytes;
        }
    };
}

fn expectPoisoned(h: *Heap, r: anytype) !void {
    try testing.expectError(error.Corrupted, r);
    try testing.expect(h.isPoisoned());
    try testing.expectError(error.Poisoned, h.alloc(bytes_family, 8, 0));
}

// ---------------------------------------------------------------- finding 1

test "finding 1: an overflow into the free tail, then alloc: Corrupted, then Poisoned, never a crash" {
    // 20 bytes past a 32-byte block whose successor is the page's free tail
    // (the issue's case; every length is in Heap.zig's tests).
    const h = try small(.{});
    defer done(h);
    const a = try h.alloc(bytes_family, 32, 0);
    @memset(a[32..52], 0xEE);
    try expectPoisoned(h, h.alloc(bytes_family, 100, 0));
    try testing.expectError(error.Poisoned, h.free(@intFromPtr(a)));
    try testing.expectError(error.Poisoned, h.realloc(@intFromPtr(a), 64));
    try testing.expectError(error.Poisoned, h.trim());
    const s = try introspect.stats(h, introspect.all_families);
    try testing.expectEqual(@as(u32, 1), s.poisoned);
    try testing.expectEqual(@as(u64, 32), s.app_bytes);
}

// ---------------------------------------------------------------- finding 2

test "finding 2: a page size x4 in a page header is Corrupted; the neighbouring page and the counters survive" {
    const h = try small(.{ .page_size = 4096, .page_cache = 0 });
    defer done(h);
    const other = try h.register("other_t", 8);
    const a = try h.alloc(bytes_family, 100, 0);
    const b = try h.alloc(other, 10, 0); // the next unit: another family's page
    try testing.expectEqual(@intFromPtr(pageOf(h, a)) + 4096, @intFromPtr(pageOf(h, b)));
    @memset(b[0..80], 0x5B);
    const before = try introspect.stats(h, introspect.all_families);
    pageOf(h, a).size *= 4;
    // Freeing the page's only block would give the page back: refused.
    try expectPoisoned(h, h.free(@intFromPtr(a)));
    const after = try introspect.stats(h, introspect.all_families);
    try testing.expectEqual(before.bytes_mapped, after.bytes_mapped);
    try testing.expectEqual(before.pages_returned, after.pages_returned);
    for (b[0..80]) |c| try testing.expectEqual(@as(u8, 0x5B), c);
    try testing.expectEqual(@as(?usize, 1), os.residentPages(@intFromPtr(pageOf(h, b)), 4096));
}

test "finding 2: a lowered dirty mark is Corrupted, not a block full of old data" {
    const h = try small(.{ .page_size = 4096 });
    defer done(h);
    _ = try h.alloc(bytes_family, 16, 0); // keeps the page
    const a = try h.alloc(bytes_family, 1000, 0);
    @memset(a[0..1000], 0xAA);
    try h.free(@intFromPtr(a));
    const page = pageOf(h, a);
    page.dirty = @intFromPtr(a) - page.base(); // "nothing written past a's start"
    try expectPoisoned(h, h.alloc(bytes_family, 1000, 0));
}

test "finding 2: a damaged idle page is Corrupted when it is reused, trimmed or counted" {
    for (0..3) |use| {
        const h = try small(.{ .page_size = 4096, .page_cache = 2 });
        defer done(h);
        const other = try h.register("other_t", 16);
        const a = try h.alloc(bytes_family, 3000, 0);
        const b = try h.alloc(bytes_family, 3000, 0);
        try h.free(@intFromPtr(b));
        try h.free(@intFromPtr(a)); // both pages are idle now, a's last
        for ([_][*]u8{ a, b }) |p| {
            const page = pageOf(h, p);
            try testing.expect(page.isIdle());
            page.size = std.math.maxInt(u64); // what was an idle-list link is a size now
        }
        const s = try introspect.stats(h, introspect.all_families); // reads no damaged header
        try testing.expectEqual(@as(u64, 2), s.cached_pages);
        try testing.expectEqual(@as(u64, 0), s.cached_bytes);
        switch (use) {
            0 => try expectPoisoned(h, h.alloc(other, 1, 0)), // another family takes the idle page
            1 => try expectPoisoned(h, h.trim()),
            else => try expectPoisoned(h, h.alloc(bytes_family, 100, 0)), // its own family
        }
    }
}

// ---------------------------------------------------------------- finding 3

fn failDecommit(_: [*]align(os.os_page) u8, _: usize) bool {
    return false;
}

fn failUnreserve(_: [*]align(os.os_page) u8, _: usize) bool {
    return false;
}

var reserves_left: usize = 0;

fn reserveCounted(len: usize, alignment: usize) ?[*]align(os.os_page) u8 {
    if (reserves_left == 0) return null;
    reserves_left -= 1;
    return os.Sys.real.reserve(len, alignment);
}

test "finding 3: pages whose memory the kernel keeps are counted as returned and as decommit failures, never a panic" {
    const sys: os.Sys = .{ .decommit = failDecommit };
    const h = try small(.{ .page_size = 4096, .page_cache = 0, .sys = &sys });
    defer done(h);
    var ptrs: [20][*]u8 = undefined;
    for (&ptrs) |*p| p.* = try h.alloc(bytes_family, 4000, 0);
    for (ptrs) |p| try h.free(@intFromPtr(p));
    const s = try introspect.stats(h, introspect.all_families);
    try testing.expectEqual(@as(u64, 0), s.pages);
    try testing.expectEqual(s.pages_taken, s.pages_returned);
    try testing.expectEqual(@as(u64, 40), s.decommit_failures); // 20 placed on old memory, 20 returned
    try expectValid(h);
}

test "finding 3: a large page whose arena cannot be unmapped stays reserved, counted, and is reused" {
    const sys: os.Sys = .{ .unreserve = failUnreserve };
    const h = try small(.{ .page_cache = 0, .sys = &sys });
    const p = try h.alloc(bytes_family, 3 << 20, 0); // more than the 1 MiB arena: an arena of its own
    try testing.expectEqual(@as(u32, 2), h.arena_count);
    try h.free(@intFromPtr(p));
    try testing.expectEqual(@as(u64, 1), h.decommit_failures);
    try testing.expectEqual(@as(u32, 2), h.arena_count); // kept, empty
    try expectValid(h);
    const q = try h.alloc(bytes_family, 3 << 20, 0);
    try testing.expectEqual(@intFromPtr(p), @intFromPtr(q));
    try testing.expectEqual(@as(u32, 2), h.arena_count);
    try h.free(@intFromPtr(q));
    try expectValid(h);
    var arenas: [Heap.max_arenas]Heap.Range = undefined;
    const n = h.arena_count;
    for (h.arenas[0..n], arenas[0..n]) |a, *r| r.* = .{ .base = a.base, .end = a.base + a.len };
    try testing.expect(!h.destroyFully()); // reported, not a panic
    for (arenas[0..n]) |r| try testing.expect(os.Sys.real.unreserve(@ptrFromInt(r.base), r.end - r.base));
}

test "finding 3: a refused reservation for a further arena is OutOfMemory and changes nothing" {
    reserves_left = 1; // the first arena only
    const sys: os.Sys = .{ .reserve = reserveCounted };
    const h = try Heap.create(.{ .page_size = 4096, .reserve = 16 * 4096, .sys = &sys });
    defer done(h);
    var ptrs: [15][*]u8 = undefined; // 16 units, the first a guard
    for (&ptrs) |*p| p.* = try h.alloc(bytes_family, 4000, 0);
    const before = try introspect.stats(h, introspect.all_families);
    try testing.expectError(error.OutOfMemory, h.alloc(bytes_family, 4000, 0));
    try testing.expectError(error.OutOfMemory, h.alloc(bytes_family, 1 << 20, 0));
    try testing.expectEqual(before, try introspect.stats(h, introspect.all_families));
    try testing.expect(!h.isPoisoned());
    try expectValid(h);
    for (ptrs) |p| try h.free(@intFromPtr(p));
    try expectValid(h);
}

// ---------------------------------------------------------------- found by the corruption fuzzer

test "a poisoned heap answers no question about an address (resolve reads the arena)" {
    const h = try small(.{});
    defer done(h);
    const a = try h.alloc(bytes_family, 32, 0);
    const b = try h.alloc(bytes_family, 32, 0);
    Block.fromData(@intFromPtr(b)).size_g ^= 1;
    try expectPoisoned(h, h.free(@intFromPtr(b)));
    try testing.expectError(error.Poisoned, h.resolve(@intFromPtr(a)));
    try testing.expectError(error.Poisoned, h.resolve(@intFromPtr(b)));
}

test "a damaged page header stays damaged when another page takes its slot in the family's list" {
    // Moving a page in its family's list rewrites its slot and reseals the
    // header: that must not make a damaged header pass its check.
    const h = try small(.{ .page_size = 4096, .page_cache = 0 });
    defer done(h);
    const x = try h.alloc(bytes_family, 3000, 0); // page 1
    const y = try h.alloc(bytes_family, 2000, 0); // page 2: [y][free]
    const a = try h.alloc(bytes_family, 1500, 0); // page 2: [y][a][free]
    try testing.expect(pageOf(h, x) != pageOf(h, y) and pageOf(h, y) == pageOf(h, a));
    @memset(a[0..1500], 0xAA);
    try h.free(@intFromPtr(a));
    const page = pageOf(h, a);
    page.dirty = @intFromPtr(a) - page.base(); // damage: a's old bytes would count as zeros
    try h.free(@intFromPtr(x)); // page 1 goes; page 2 moves into its slot
    try expectPoisoned(h, h.alloc(bytes_family, 1500, 0));
}

test "stale write: a page header from the time its page was idle is Corrupted, not a panic" {
    const h = try small(.{ .page_size = 4096, .page_cache = 2 });
    defer done(h);
    const a = try h.alloc(bytes_family, 100, 0);
    try h.free(@intFromPtr(a));
    const page = pageOf(h, a);
    const idle = Saved(Page.header_size).take(page);
    const b = try h.alloc(bytes_family, 100, 0); // the page is in use again
    try testing.expectEqual(@intFromPtr(a), @intFromPtr(b));
    idle.restore(); // "idle", with a valid check
    try testing.expect(page.valid(h.key) and page.isIdle());
    try expectPoisoned(h, h.alloc(bytes_family, 50, 0));
}

test "stale write: an idle page restored to 'in use' is not given back with a live block in it" {
    const h = try small(.{ .page_size = 4096, .page_cache = 2 });
    defer done(h);
    const a = try h.alloc(bytes_family, 100, 0);
    const page = pageOf(h, a);
    const in_use = Saved(Page.header_size).take(page);
    try h.free(@intFromPtr(a)); // idle
    in_use.restore(); // still in the idle list, but the header says "in use"
    const c = try h.alloc(bytes_family, 100, 0); // [c][free], the page not taken off the idle list
    const d = try h.alloc(bytes_family, 100, 0); // [c][d][free]
    try h.free(@intFromPtr(c)); // [free][d][free]: an "idle" page holding d
    @memset(d[0..100], 0xD0);
    try expectPoisoned(h, h.trim());
    for (d[0..100]) |byte| try testing.expectEqual(@as(u8, 0xD0), byte);
}

test "stale write: an idle page whose first meta block says it covers less than the page is Corrupted" {
    for (0..2) |use| {
        const h = try small(.{ .page_size = 4096, .page_cache = 2 });
        defer done(h);
        const other = try h.register("other_t", 16);
        const a = try h.alloc(bytes_family, 100, 0);
        const b = try h.alloc(bytes_family, 100, 0);
        try h.free(@intFromPtr(a)); // [free a][b][free]
        const small_free = Saved(Block.header_size).take(Block.fromData(@intFromPtr(a)));
        try h.free(@intFromPtr(b)); // one free block: the page is idle
        small_free.restore(); // a valid header for 112 bytes, not the page
        if (use == 0) try expectPoisoned(h, h.trim()) else try expectPoisoned(h, h.alloc(other, 1, 0));
    }
}

test "stale write: a large page header from the page's earlier life (4 units, now 2) is Corrupted" {
    const h = try small(.{ .page_size = 4096, .page_cache = 0 });
    defer done(h);
    const big = try h.alloc(bytes_family, 3 * 4096, 0); // 4 units
    const old = Saved(Page.header_size).take(pageOf(h, big));
    try h.free(@intFromPtr(big));
    const l = try h.alloc(bytes_family, 5000, 0); // 2 units, same place, same slot
    try testing.expectEqual(@intFromPtr(big), @intFromPtr(l));
    const other = try h.register("other_t", 8);
    const n = try h.alloc(other, 10, 0); // the unit after it
    try testing.expectEqual(@intFromPtr(pageOf(h, l)) + 2 * 4096, @intFromPtr(pageOf(h, n)));
    @memset(n[0..80], 0x4E);
    old.restore(); // a valid header saying 4 units
    try expectPoisoned(h, h.free(@intFromPtr(l)));
    for (n[0..80]) |byte| try testing.expectEqual(@as(u8, 0x4E), byte);
}

test "stale write: a meta block that uncounts more than was counted saturates the counters, never a panic" {
    const h = try small(.{});
    defer done(h);
    const a = try h.alloc(bytes_family, 104, 0); // 112 bytes, slack 8
    const old = Saved(Block.header_size).take(Block.fromData(@intFromPtr(a)));
    _ = try h.realloc(@intFromPtr(a), 100); // in place, slack 12: 100 counted
    old.restore(); // says 104 requested
    try h.free(@intFromPtr(a));
    try testing.expectEqual(@as(u64, 0), h.app_bytes);
    try testing.expectEqual(@as(u64, 0), h.family(bytes_family).?.counters.app_bytes);
    try expectValid(h);
}
