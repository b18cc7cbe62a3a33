//! Address → VM page lookup for a heap.
//!
//! ## Basic Design
//! Regular VM pages are aligned to the heap's VM page size, so every address
//! inside one shares its page unit (address >> log2(VM page size)) with the
//! page base: an open-addressing hash table keyed by unit finds them in O(1).
//! Pages sized to fit a large request can span any number of units (a 64 TiB
//! request would need 2^30 entries), so they are kept apart, sorted by address
//! in `large`, and found by binary search when the hash table has no entry:
//! O(log L) for the few large pages, and only for addresses in them or for
//! addresses the heap does not own (error paths). Either way `free` can tell
//! whether an address belongs to the heap before it reads a single byte near
//! it — an address the heap never gave out must not be dereferenced.
//!
//! The hash table uses linear probing at load ≤ 1/2 with backward-shift
//! deletion: no tombstones, so a long run of map/unmap does not slow lookups.
//! Capacity is reserved before a page is mapped (`ensureUnusedCapacity`,
//! `ensureLargeCapacity`); adding and removing cannot fail.

const std = @import("std");

const PageTable = @This();

const Entry = struct { key: u64, value: usize };
const empty: u64 = std.math.maxInt(u64);

/// A large page: `[base, end)`.
pub const Range = struct { base: usize, end: usize };

entries: []Entry = &.{},
count: usize = 0,
/// Large pages, sorted by base, disjoint.
large: std.ArrayListUnmanaged(Range) = .{},

pub fn deinit(t: *PageTable, gpa: std.mem.Allocator) void {
    gpa.free(t.entries);
    t.large.deinit(gpa);
    t.* = .{};
}

pub fn ensureLargeCapacity(t: *PageTable, gpa: std.mem.Allocator) error{OutOfMemory}!void {
    try t.large.ensureUnusedCapacity(gpa, 1);
}

/// Index of the first large page whose base is above `addr`.
fn upperBound(t: *const PageTable, addr: usize) usize {
    var lo: usize = 0;
    var hi: usize = t.large.items.len;
    while (lo < hi) {
        const mid = lo + (hi - lo) / 2;
        if (t.large.items[mid].base <= addr) lo = mid + 1 else hi = mid;
    }
    return lo;
}

/// Enters a large page (capacity reserved).
pub fn putLarge(t: *PageTable, r: Range) void {
    const i = t.upperBound(r.base);
    std.debug.assert(i == 0 or t.large.items[i - 1].end <= r.base);
    t.large.insertAssumeCapacity(i, r);
}

pub fn removeLarge(t: *PageTable, base: usize) void {
    const i = t.upperBound(base) - 1;
    std.debug.assert(t.large.items[i].base == base);
    _ = t.large.orderedRemove(i);
}

/// The base of the large page holding `addr`, or null.
pub fn getLarge(t: *const PageTable, addr: usize) ?usize {
    const i = t.upperBound(addr);
    if (i == 0) return null;
    const r = t.large.items[i - 1];
    return if (addr < r.end) r.base else null;
}

inline fn slot(t: *const PageTable, key: u64) usize {
    const h = (key +% 1) *% 0x9E3779B97F4A7C15;
    return @intCast((h >> 32 ^ h) & (t.entries.len - 1));
}

/// Makes room for `n` more keys without passing a load of 1/2.
pub fn ensureUnusedCapacity(t: *PageTable, gpa: std.mem.Allocator, n: usize) error{OutOfMemory}!void {
    const need = t.count + n;
    if (need * 2 <= t.entries.len) return;
    var cap: usize = @max(t.entries.len, 64);
    while (need * 2 > cap) cap *= 2;
    const fresh = try gpa.alloc(Entry, cap);
    @memset(fresh, .{ .key = empty, .value = 0 });
    const old = t.entries;
    t.entries = fresh;
    t.count = 0;
    for (old) |e| if (e.key != empty) t.put(e.key, e.value);
    gpa.free(old);
}

/// Enters `key` (capacity must have been reserved; the key must be new).
pub fn put(t: *PageTable, key: u64, value: usize) void {
    std.debug.assert(key != empty and (t.count + 1) * 2 <= t.entries.len);
    var i = t.slot(key);
    while (t.entries[i].key != empty) : (i = (i + 1) & (t.entries.len - 1)) {
        std.debug.assert(t.entries[i].key != key);
    }
    t.entries[i] = .{ .key = key, .value = value };
    t.count += 1;
}

pub fn get(t: *const PageTable, key: u64) ?usize {
    if (t.count == 0) return null;
    var i = t.slot(key);
    while (true) : (i = (i + 1) & (t.entries.len - 1)) {
        const e = t.entries[i];
        if (e.key == key) return e.value;
        if (e.key == empty) return null;
    }
}

/// Removes `key`, which must be present.
pub fn remove(t: *PageTable, key: u64) void {
    const mask = t.entries.len - 1;
    var i = t.slot(key);
    while (t.entries[i].key != key) : (i = (i + 1) & mask) {
        std.debug.assert(t.entries[i].key != empty);
    }
    // Backward shift: pull later members of the probe run into the hole.
    var hole = i;
    var j = (i + 1) & mask;
    while (t.entries[j].key != empty) : (j = (j + 1) & mask) {
        const home = t.slot(t.entries[j].key);
        // Move j into the hole unless its home lies cyclically in (hole, j].
        const stays = if (hole <= j) (home > hole and home <= j) else (home > hole or home <= j);
        if (!stays) {
            t.entries[hole] = t.entries[j];
            hole = j;
        }
    }
    t.entries[hole] = .{ .key = empty, .value = 0 };
    t.count -= 1;
}

const testing = std.testing;

test "put, get and remove against a model under churn" {
    var t: PageTable = .{};
    defer t.deinit(testing.allocator);
    var model = std.AutoHashMap(u64, usize).init(testing.allocator);
    defer model.deinit();
    var prng = std.Random.DefaultPrng.init(3);
    const r = prng.random();
    for (0..20_000) |step| {
        const key = r.uintLessThan(u64, 512) * 977; // clustered keys collide often
        if (model.get(key)) |v| {
            try testing.expectEqual(v, t.get(key).?);
            t.remove(key);
            _ = model.remove(key);
        } else {
            try testing.expect(t.get(key) == null);
            try t.ensureUnusedCapacity(testing.allocator, 1);
            t.put(key, step);
            try model.put(key, step);
        }
        try testing.expectEqual(model.count(), t.count);
    }
    var it = model.iterator();
    while (it.next()) |e| try testing.expectEqual(e.value_ptr.*, t.get(e.key_ptr.*).?);
}

test "get on an empty table is null" {
    const t: PageTable = .{};
    try testing.expect(t.get(5) == null);
    try testing.expect(t.getLarge(5) == null);
}

test "large pages are found by any address inside them" {
    var t: PageTable = .{};
    defer t.deinit(testing.allocator);
    const ranges = [_]Range{ .{ .base = 0x30000, .end = 0x50000 }, .{ .base = 0x10000, .end = 0x20000 }, .{ .base = 0x90000, .end = 0x1090000 } };
    for (ranges) |r| {
        try t.ensureLargeCapacity(testing.allocator);
        t.putLarge(r);
    }
    try testing.expectEqual(@as(?usize, 0x10000), t.getLarge(0x10000));
    try testing.expectEqual(@as(?usize, 0x10000), t.getLarge(0x1ffff));
    try testing.expect(t.getLarge(0x20000) == null);
    try testing.expect(t.getLarge(0xffff) == null);
    try testing.expectEqual(@as(?usize, 0x30000), t.getLarge(0x4abcd));
    try testing.expectEqual(@as(?usize, 0x90000), t.getLarge(0x108ffff));
    try testing.expect(t.getLarge(0x1090000) == null);
    t.removeLarge(0x30000);
    try testing.expect(t.getLarge(0x4abcd) == null);
    try testing.expectEqual(@as(?usize, 0x90000), t.getLarge(0x90000));
}
