//! Address → VM page lookup for a heap: an open-addressing hash table keyed by
//! page unit (address >> log2(VM page size)).
//!
//! ## Basic Design
//! VM pages are aligned to the heap's VM page size, so every address inside a
//! page of one unit shares its unit number with the page base. A page sized to
//! fit a large request spans several units and is entered once per unit. This
//! lets `free` tell in O(1) whether an address belongs to the heap at all
//! before it reads a single byte near it — an address the heap never gave out
//! must not be dereferenced.
//!
//! Linear probing at load ≤ 1/2 with backward-shift deletion: no tombstones, so
//! a long run of map/unmap does not slow lookups. Capacity is reserved before
//! a page is mapped (`ensureUnusedCapacity`); `put` and `remove` cannot fail.

const std = @import("std");

const PageTable = @This();

const Entry = struct { key: u64, value: usize };
const empty: u64 = std.math.maxInt(u64);

entries: []Entry = &.{},
count: usize = 0,

pub fn deinit(t: *PageTable, gpa: std.mem.Allocator) void {
    gpa.free(t.entries);
    t.* = .{};
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
}
