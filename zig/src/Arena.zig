//! An arena: one reserved range of a heap's address space, where its VM pages
//! live.
//!
//! ## Basic Design
//! A *shared* arena is cut into units of the heap's VM page size, aligned to
//! it. Two bitmaps, kept outside the arena, say which units belong to a page
//! (`used`) and which unit starts one (`starts`): a regular page takes one
//! unit, a large page a run of them. Units are taken lowest address first,
//! so a heap stays compact and its arena's untouched tail costs nothing; the
//! search starts at `hint`, below which every unit is taken.
//!
//! A request too big for the shared arenas gets a *dedicated* arena holding
//! just its page, with no bitmaps.
//!
//! A heap's first arena keeps its first unit unused (`guard`): code that
//! computes an offset from nonsense — the Deno module's accessors read a NaN
//! address as offset 0 — lands on memory that belongs to no page.
//!
//! The arena only places pages; committing and decommitting their memory is
//! the heap's business (`os.Sys`). The range itself stays mapped, readable
//! and writable, until the heap is destroyed — or, for a heap whose arenas
//! are kept (`keep`), until its owner unmaps them.
//!
//! | operation        | cost                                          |
//! |------------------|-----------------------------------------------|
//! | take one unit    | O(1) amortised (a word scan from `hint`)      |
//! | take n units     | O(units / 64) worst case (first fit)          |
//! | give back        | O(n / 64)                                     |
//! | page of an address | O(1) for a page start, O(page units / 64) inside a large page |

const std = @import("std");
const os = @import("os.zig");

const Arena = @This();

base: usize,
len: usize,
/// log2 of the unit (the heap's VM page size).
unit_shift: u6,
dedicated: bool,
/// Shared arenas: a bit per unit.
used: []u64 = &.{},
starts: []u64 = &.{},
used_units: usize = 0,
/// Every unit below it is used.
hint: usize = 0,
/// Units at the start that are never placed (0 or 1).
guard: usize = 0,

pub const Error = error{OutOfMemory};

/// Reserves `len` bytes (a multiple of the unit) aligned to the unit.
pub fn init(sys: *const os.Sys, gpa: std.mem.Allocator, len: usize, unit: usize, kind: enum { shared, guarded, dedicated }) Error!Arena {
    const dedicated = kind == .dedicated;
    std.debug.assert(std.math.isPowerOfTwo(unit) and len % unit == 0 and len > 0);
    var a: Arena = .{ .base = 0, .len = len, .unit_shift = @intCast(std.math.log2_int(usize, unit)), .dedicated = dedicated };
    if (!dedicated) {
        const words = (a.units() + 63) / 64;
        a.used = try gpa.alloc(u64, words);
        errdefer gpa.free(a.used);
        a.starts = try gpa.alloc(u64, words);
        @memset(a.used, 0);
        @memset(a.starts, 0);
        if (kind == .guarded) {
            a.guard = 1;
            a.used[0] = 1;
            a.used_units = 1;
            a.hint = 1;
        }
    }
    errdefer a.freeMaps(gpa);
    const mem = sys.reserve(len, unit) orelse return error.OutOfMemory;
    a.base = @intFromPtr(mem);
    return a;
}

fn freeMaps(a: *Arena, gpa: std.mem.Allocator) void {
    gpa.free(a.used);
    gpa.free(a.starts);
    a.used = &.{};
    a.starts = &.{};
}

/// Frees the bitmaps and, unless `keep`, unmaps the range. False when the
/// kernel refused to unmap it (the range then stays reserved).
pub fn deinit(a: *Arena, sys: *const os.Sys, gpa: std.mem.Allocator, keep: bool) bool {
    a.freeMaps(gpa);
    if (keep) return true;
    return sys.unreserve(@ptrFromInt(a.base), a.len);
}

pub inline fn units(a: *const Arena) usize {
    return a.len >> a.unit_shift;
}

pub inline fn contains(a: *const Arena, addr: usize) bool {
    return addr -% a.base < a.len;
}

inline fn bit(map: []const u64, i: usize) bool {
    return map[i / 64] >> @intCast(i % 64) & 1 != 0;
}

fn setRange(map: []u64, from: usize, n: usize, on: bool) void {
    var i = from;
    const stop = from + n;
    while (i < stop) {
        const w = i / 64;
        const lo: u6 = @intCast(i % 64);
        const count = @min(64 - @as(usize, lo), stop - i);
        const mask: u64 = if (count == 64) ~@as(u64, 0) else ((@as(u64, 1) << @intCast(count)) - 1) << lo;
        if (on) map[w] |= mask else map[w] &= ~mask;
        i += count;
    }
}

/// First unit at or after `from` whose `used` bit is `want`, or `units()`.
fn scan(a: *const Arena, from: usize, want: bool) usize {
    const n = a.units();
    var i = from;
    while (i < n) {
        const w = a.used[i / 64];
        const bits = (if (want) w else ~w) >> @intCast(i % 64);
        if (bits != 0) return @min(n, i + @ctz(bits));
        i = (i / 64 + 1) * 64;
    }
    return n;
}

/// Takes `n` consecutive units, lowest address first; returns the address of
/// the first, or null when no run is free.
pub fn take(a: *Arena, n: usize) ?usize {
    std.debug.assert(!a.dedicated and n > 0);
    var i = a.scan(a.hint, false);
    while (i + n <= a.units()) {
        const stop = a.scan(i, true);
        if (stop - i >= n) {
            setRange(a.used, i, n, true);
            setRange(a.starts, i, 1, true);
            a.used_units += n;
            if (i == a.hint) a.hint = i + n;
            return a.base + (i << a.unit_shift);
        }
        i = a.scan(stop, false);
    }
    return null;
}

/// Gives back the `n` units of the page at `addr`.
pub fn give(a: *Arena, addr: usize, n: usize) void {
    const i = (addr - a.base) >> a.unit_shift;
    std.debug.assert(bit(a.starts, i));
    setRange(a.used, i, n, false);
    setRange(a.starts, i, 1, false);
    a.used_units -= n;
    a.hint = @min(a.hint, i);
}

/// The base of the page that holds `addr` (inside this shared arena), or
/// null when no page holds it.
pub fn pageStart(a: *const Arena, addr: usize) ?usize {
    var i = (addr - a.base) >> a.unit_shift;
    if (!bit(a.used, i)) return null;
    while (true) {
        const w = a.starts[i / 64] & (~@as(u64, 0) >> @intCast(63 - i % 64));
        if (w != 0) return a.base + ((i / 64 * 64 + (63 - @clz(w))) << a.unit_shift);
        if (i < 64) return null;
        i = i / 64 * 64 - 1;
    }
}

/// Units of the page that starts at `addr`, or 0 when none starts there.
pub fn pageUnits(a: *const Arena, addr: usize) usize {
    const i = (addr - a.base) >> a.unit_shift;
    if (!bit(a.starts, i) or !bit(a.used, i)) return 0;
    // The page ends at the first unit after it that is unused or starts another.
    const n = a.units();
    var j = i + 1;
    while (j < n) {
        const w = j / 64;
        const stop = (~a.used[w] | a.starts[w]) >> @intCast(j % 64);
        if (stop != 0) return @min(n, j + @ctz(stop)) - i;
        j = (w + 1) * 64;
    }
    return n - i;
}

/// True when unit `i` starts a page (for the invariant walker).
pub fn startsPage(a: *const Arena, addr: usize) bool {
    const i = (addr - a.base) >> a.unit_shift;
    return bit(a.starts, i) and bit(a.used, i);
}

/// Units whose `used` bit is set (for the invariant walker).
pub fn countUsed(a: *const Arena) usize {
    var n: usize = 0;
    for (a.used) |w| n += @popCount(w);
    return n;
}

/// Units whose `starts` bit is set (for the invariant walker).
pub fn countStarts(a: *const Arena) usize {
    var n: usize = 0;
    for (a.starts) |w| n += @popCount(w);
    return n;
}

/// True when every unit below `hint` is used (for the invariant walker).
pub fn hintHolds(a: *const Arena) bool {
    return a.scan(0, false) >= a.hint;
}

const testing = std.testing;

test "units are taken lowest first and given back" {
    var a = try Arena.init(&os.Sys.real, testing.allocator, 200 * 4096, 4096, .shared);
    defer _ = a.deinit(&os.Sys.real, testing.allocator, false);
    const p0 = a.take(1).?;
    const p1 = a.take(3).?;
    const p2 = a.take(1).?;
    try testing.expectEqual(a.base, p0);
    try testing.expectEqual(a.base + 4096, p1);
    try testing.expectEqual(a.base + 4 * 4096, p2);
    try testing.expectEqual(p1, a.pageStart(p1 + 2 * 4096 + 100).?);
    a.give(p1, 3);
    try testing.expect(a.pageStart(p1 + 100) == null);
    try testing.expectEqual(a.base + 4096, a.take(2).?); // first fit in the hole
    try testing.expectEqual(a.base + 5 * 4096, a.take(2).?); // does not fit the 1-unit rest
    try testing.expectEqual(a.base + 3 * 4096, a.take(1).?);
    try testing.expect(a.hintHolds());
    try testing.expectEqual(a.countUsed(), a.used_units);
}

test "a full arena says so and a run across words is found" {
    var a = try Arena.init(&os.Sys.real, testing.allocator, 130 * 4096, 4096, .shared);
    defer _ = a.deinit(&os.Sys.real, testing.allocator, false);
    try testing.expect(a.take(131) == null);
    const big = a.take(100).?;
    try testing.expectEqual(big, a.pageStart(big + 99 * 4096).?);
    try testing.expect(a.take(31) == null);
    const rest = a.take(30).?;
    try testing.expect(a.take(1) == null);
    a.give(big, 100);
    try testing.expectEqual(a.base, a.take(70).?);
    try testing.expectEqual(a.base + 70 * 4096, a.take(30).?);
    a.give(rest, 30);
    try testing.expect(a.hintHolds());
    try testing.expectEqual(a.countUsed(), a.used_units);
}

test "pageStart finds the start of a large page many words back" {
    var a = try Arena.init(&os.Sys.real, testing.allocator, 1024 * 4096, 4096, .shared);
    defer _ = a.deinit(&os.Sys.real, testing.allocator, false);
    _ = a.take(3).?;
    const big = a.take(700).?;
    try testing.expectEqual(big, a.pageStart(big + 699 * 4096).?);
    try testing.expectEqual(big, a.pageStart(big).?);
    try testing.expect(a.pageStart(big + 700 * 4096) == null);
    try testing.expect(a.startsPage(big));
    try testing.expect(!a.startsPage(big + 4096));
    try testing.expectEqual(@as(usize, 700), a.pageUnits(big));
    try testing.expectEqual(@as(usize, 3), a.pageUnits(a.base));
    try testing.expectEqual(@as(usize, 0), a.pageUnits(big + 4096));
    try testing.expectEqual(@as(usize, 0), a.pageUnits(big + 700 * 4096));
    const last = a.take(1024 - 703).?;
    try testing.expectEqual(@as(usize, 1024 - 703), a.pageUnits(last));
}

fn failingReserve(_: usize, _: usize) ?[*]align(os.os_page) u8 {
    return null;
}

test "a refused reservation is OutOfMemory and leaks nothing" {
    const sys: os.Sys = .{ .reserve = failingReserve };
    try testing.expectError(error.OutOfMemory, Arena.init(&sys, testing.allocator, 64 * 4096, 4096, .shared));
    var failing = testing.FailingAllocator.init(testing.allocator, .{ .fail_index = 1 });
    try testing.expectError(error.OutOfMemory, Arena.init(&os.Sys.real, failing.allocator(), 64 * 4096, 4096, .shared));
}

test "a guarded arena never places its first unit" {
    var a = try Arena.init(&os.Sys.real, testing.allocator, 8 * 4096, 4096, .guarded);
    defer _ = a.deinit(&os.Sys.real, testing.allocator, false);
    try testing.expectEqual(a.base + 4096, a.take(1).?);
    try testing.expect(a.pageStart(a.base + 100) == null);
    try testing.expectEqual(a.base + 2 * 4096, a.take(6).?);
    try testing.expect(a.take(1) == null);
    try testing.expectEqual(a.countUsed(), a.used_units);
    try testing.expect(a.hintHolds());
}
