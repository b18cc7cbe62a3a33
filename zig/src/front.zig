//! The front tier: caches of freed blocks in front of the worst-fit heap,
//! and size classes for untyped memory.
//!
//! ## Basic Design
//! Worst fit with coalescing is the heap's policy, and it costs: every free
//! verifies both neighbours, merges and re-sifts the free queue; every
//! allocation splits the largest block. Production allocators put a cache of
//! recently freed blocks in front of their bins; LMM does the same, per
//! family, for one block size (`Family.unit`: one structure of a typed
//! family, or the class size of a size class):
//! - **free** of a block of exactly that size puts it on the family's cache,
//!   a bounded LIFO (`cacheCap`), in state `cached`: no neighbour is read,
//!   nothing merges. It counts as free from that moment (statistics stay
//!   exact); it is simply not in the free queue and not coalesced.
//! - **alloc** of that size pops the newest cached block, zeroes it and hands
//!   it out; only an empty cache falls through to worst fit.
//! - **flush** gives cached blocks back to worst fit (coalescing them): half
//!   of a full cache before a push, all of them on `trim`, before listings and
//!   statistics (so that the free blocks they show are coalesced), and on
//!   demand.
//!
//! **Size classes** (`classes`): an untyped request (family 0, `malloc`-like)
//! of up to `max_class` bytes goes to the family of its class, "bytes/48" and
//! so on, registered on first use. Steps of 16 B up to 128 B (where small
//! objects live and rounding would waste the most), then four per power of
//! two up to 4 KiB (rounding wastes under 25 %, 12.5 % on average, as
//! jemalloc's spacing does). Requests of one class share pages, so worst fit
//! inside a class no longer cuts large free blocks into odd sizes (the churn
//! that held 1.65× glibc's memory). Larger requests stay exact-size worst fit.
//!
//! **The TypeScript tier**: the Deno module keeps its own caches of blocks
//! and serves alloc/free without a native call. `refill` hands it `cached`
//! blocks (counted as free); it flips a block's `held` bit and slack, which
//! the keyed check leaves out for cached blocks (`block.zig`), when it hands
//! one out or takes it back, and reports what it did in batches (`settle`);
//! `giveBack` returns blocks it does not need. A held block is live for every
//! reader (listings, `validate`, `blockInfo`) but only the module frees it.
//!
//! **Exact mode** (`Heap.Config.exact`): no caches, no classes, no idle
//! pages: the classic worst-fit heap, block for block.

const std = @import("std");
const Heap = @import("Heap.zig");
const Family = @import("Family.zig");
const Block = @import("block.zig").Block;
const Page = @import("page.zig").Page;

const Error = Heap.Error;
const gpa = Heap.gpa;

/// The size classes of untyped memory, in bytes.
pub const classes = [_]u32{
    16,   32,   48,   64,   80,   96,   112,  128,
    160,  192,  224,  256,  320,  384,  448,  512,
    640,  768,  896,  1024, 1280, 1536, 1792, 2048,
    2560, 3072, 3584, 4096,
};
pub const max_class: u32 = classes[classes.len - 1];
/// Largest structure a typed family's front cache serves.
pub const max_unit: u32 = 4096;

comptime {
    for (classes, 0..) |c, i| {
        std.debug.assert(c % 16 == 0);
        if (i > 0) std.debug.assert(c > classes[i - 1] and c - classes[i - 1] <= Block.max_slack + 1);
    }
}

/// The class of an untyped request of `bytes`, or null above `max_class`.
pub inline fn classOf(bytes: u64) ?usize {
    if (bytes > max_class) return null;
    return class_of_granule[@intCast((bytes + 15) / 16)];
}

/// Class of a request of up to 16·i bytes (every class is a multiple of 16).
const class_of_granule = blk: {
    var t: [max_class / 16 + 1]u8 = undefined;
    var c: usize = 0;
    for (&t, 0..) |*e, i| {
        while (classes[c] < i * 16) c += 1;
        e.* = c;
    }
    break :blk t;
};

/// Blocks a family's cache holds at most: 64 KiB of them, 16 to 1024.
pub fn cacheCap(unit: u32) usize {
    return std.math.clamp((64 * 1024) / unit, 16, 1024);
}

/// The front-tier block size of a typed family of `struct_size` bytes (0: none).
pub fn unitFor(struct_size: u64, alignment: u32, page_size: usize) u32 {
    const u = std.mem.alignForward(u64, struct_size, alignment);
    return if (u <= max_unit and u <= Page.capacity(page_size)) @intCast(u) else 0;
}

/// The family of class `c`, registered on first use.
pub fn classFamily(h: *Heap, c: usize) Error!*Family {
    if (h.classes[c] != 0) return h.family(h.classes[c]).?;
    var buf: [16]u8 = undefined;
    const name = std.fmt.bufPrint(&buf, "bytes/{d}", .{classes[c]}) catch unreachable;
    const id = try h.registerWith(name, 1, classes[c]);
    h.classes[c] = id;
    return h.family(id).?;
}

/// The regular page of a block of `f`, checked against the family's own
/// list (kept outside the arena) — cheaper than the page's keyed check,
/// which the slow paths make.
fn pageOf(h: *Heap, f: *const Family, b: *const Block) Error!*Page {
    const page: *Page = @ptrFromInt(@intFromPtr(b) & ~(h.page_size - 1));
    if (page.family != f.id or !f.ownsPage(page) or page.isLarge() or page.size != h.page_size)
        return h.poison("cached block 0x{x} of {s} is not in a page of its family", .{ b.dataAddr(), f.name() });
    return page;
}

/// Verifies a cached block of `f` (not held) before it is used.
fn expectCached(h: *Heap, f: *const Family, b: *const Block) Error!*Page {
    const page = try pageOf(h, f, b);
    if (!b.valid(h.key) or b.state().? != .cached or b.isHeld() or b.size() != f.unit)
        return h.poison("cached block 0x{x} of {s} fails its integrity check: memory was overwritten", .{ b.dataAddr(), f.name() });
    return page;
}

/// Hands out the newest cached block of `f` for `requested` bytes, zeroed;
/// null when the cache is empty.
pub fn take(h: *Heap, f: *Family, requested: u64, site: u32) Error!?[*]u8 {
    const b = f.cache.getLastOrNull() orelse return null;
    const page = try expectCached(h, f, b);
    _ = f.cache.pop();
    f.countLoose(b.size(), .out);
    // A cached block was handed out before, so the page's dirty mark lies
    // past it; lower is damage (the page header is not verified here, and
    // raising the mark would reseal the damage as valid).
    if (page.dirty < b.endAddr() - page.base())
        return h.poison("page 0x{x} says nothing was written where its cached block 0x{x} lies", .{ page.base(), b.dataAddr() });
    @memset(b.data()[0..b.size()], 0);
    h.markOccupied(f, page, b, requested, site);
    f.counters.alloc_count += 1;
    return b.data();
}

/// Puts a freed block of `f.unit` bytes (resolved, so verified) on the
/// family's cache. False when it cannot (no room and no memory to make
/// room): the caller frees it the worst-fit way.
pub fn put(h: *Heap, r: Heap.Found) Error!bool {
    const f = r.family;
    if (f.cache.items.len >= cacheCap(f.unit)) try flush(h, f, cacheCap(f.unit) / 2);
    f.cache.ensureUnusedCapacity(gpa, 1) catch return false;
    h.unmarkOccupied(f, r.size(), r.requested());
    f.counters.free_count += 1;
    f.countLoose(r.size(), .in);
    r.block.setUse(0, 0);
    r.block.setState(.cached);
    r.block.sealWith(h.key);
    f.cache.appendAssumeCapacity(r.block);
    return true;
}

/// Gives the oldest cached blocks of `f` back to worst fit until `keep` are left.
pub fn flush(h: *Heap, f: *Family, keep: usize) Error!void {
    if (f.cache.items.len <= keep) return;
    const n = f.cache.items.len - keep;
    try f.queue.ensureUnusedCapacity(gpa, n);
    // Verify everything first: a damaged block poisons before anything moves.
    for (f.cache.items[0..n]) |b| {
        const page = try expectCached(h, f, b);
        try h.checkNeighbours(.{ .page = page, .block = b, .family = f });
    }
    for (f.cache.items[0..n]) |b| {
        f.countLoose(b.size(), .out);
        h.insertFree(f, pageOfUnchecked(h, b), b);
    }
    std.mem.copyForwards(*Block, f.cache.items[0..keep], f.cache.items[n..]);
    f.cache.shrinkRetainingCapacity(keep);
}

inline fn pageOfUnchecked(h: *const Heap, b: *const Block) *Page {
    return @ptrFromInt(@intFromPtr(b) & ~(h.page_size - 1));
}

/// Flushes every family's cache.
pub fn flushAll(h: *Heap) Error!void {
    for (0..h.family_count) |i| {
        const f = h.family(@intCast(i)).?;
        if (f.cache.items.len > 0) try flush(h, f, 0);
    }
}

// ---------------------------------------------------------------- the TypeScript tier

/// Hands up to `out.len` cached blocks of `f`'s unit size to the TypeScript
/// tier (from the cache first, then worst fit); writes their addresses and
/// returns how many. Counted as free, state `cached`, not held.
pub fn refill(h: *Heap, f: *Family, out: []f64) Error!usize {
    var buf: [64]*Block = undefined;
    var n: usize = 0;
    while (n < out.len) {
        const want = @min(buf.len, out.len - n);
        const got = try lend(h, f, buf[0..want], n > 0);
        for (buf[0..got], out[n..][0..got]) |b, *o| o.* = @floatFromInt(b.dataAddr());
        n += got;
        if (got < want) break;
    }
    return n;
}

/// Lends up to `out.len` blocks of `f.unit` bytes to a cache outside the
/// engine (the TypeScript tier's or a thread's, `tcache.zig`): from the
/// family's cache first, then worst fit. Returns how many; running out of
/// memory after some (or when `partial_ok`) ends the batch early.
pub fn lend(h: *Heap, f: *Family, out: []*Block, partial_ok: bool) Error!usize {
    if (f.unit == 0) return error.InvalidArg;
    try f.queue.ensureUnusedCapacity(gpa, 1);
    var n: usize = 0;
    while (n < out.len) : (n += 1) {
        if (f.cache.getLastOrNull()) |b| {
            _ = try expectCached(h, f, b);
            _ = f.cache.pop();
            f.loaned += 1;
            out[n] = b;
            continue;
        }
        const c = h.carve(f, f.unit) catch |e| {
            if ((n > 0 or partial_ok) and e == error.OutOfMemory) break;
            return e;
        };
        if (c.block.size() != f.unit) {
            // An unsplittable remainder made it larger: not a unit block.
            h.insertFree(f, c.page, c.block);
            break;
        }
        c.block.setUse(0, 0);
        c.block.setState(.cached);
        c.block.sealWith(h.key);
        // The borrower writes all of it (zeroing on its alloc).
        if (c.page.markDirty(c.block.endAddr())) c.page.sealWith(h.key);
        f.countLoose(c.block.size(), .in);
        f.loaned += 1;
        out[n] = c.block;
    }
    return n;
}

/// Takes back blocks the TypeScript tier holds in its cache (cached, not
/// held) into worst fit. Every address is verified before any moves.
pub fn giveBack(h: *Heap, f: *Family, addrs: []const f64) Error!void {
    if (addrs.len > f.loaned) return error.InvalidArg;
    for (addrs) |x| _ = try cachedAt(h, f, x);
    try takeBack(h, f, f64, addrs, true);
}

/// Takes back lent blocks of `f` (cached, not held), given as `*Block` or
/// as data addresses in `f64`, into worst fit. All of them are verified
/// (the same block twice is an error) before any moves. Without
/// `count_out` the blocks stay counted as free blocks until the caller
/// uncounts them (`Family.uncountLoose`): a thread cache does that when it
/// settles, as the blocks may still count as occupied until then.
pub fn takeBack(h: *Heap, f: *Family, comptime T: type, items: []const T, comptime count_out: bool) Error!void {
    if (items.len > f.loaned) return error.InvalidArg;
    try f.queue.ensureUnusedCapacity(gpa, items.len);
    // The held bit (outside a cached block's seal) marks the blocks seen.
    for (items, 0..) |x, i| {
        const b = blockOf(T, x);
        const bad: ?Error = if (b.isHeld()) error.InvalidArg else blk: {
            const page = expectCached(h, f, b) catch |e| break :blk e;
            h.checkNeighbours(.{ .page = page, .block = b, .family = f }) catch |e| break :blk e;
            break :blk null;
        };
        if (bad) |e| {
            for (items[0..i]) |y| blockOf(T, y).tail = 0;
            return e;
        }
        b.tail = Block.held_bit;
    }
    for (items) |x| {
        const b = blockOf(T, x);
        if (count_out) f.countLoose(b.size(), .out);
        f.loaned -= 1;
        h.insertFree(f, pageOfUnchecked(h, b), b);
    }
}

inline fn blockOf(comptime T: type, x: T) *Block {
    return if (T == f64) Block.fromData(@intFromFloat(x)) else x;
}

fn cachedAt(h: *Heap, f: *const Family, x: f64) Error!*Block {
    if (!(x >= 1 and x < 9007199254740992.0) or @floor(x) != x) return error.InvalidArg;
    const addr: usize = @intFromFloat(x);
    const a = h.arenaOf(addr) orelse return error.InvalidArg;
    if (addr % 8 != 0 or addr - a.base < Page.header_size + Block.header_size) return error.InvalidArg;
    const b = Block.fromData(addr);
    if (!b.valid(h.key) or b.state().? != .cached or b.isHeld()) return error.InvalidArg;
    _ = try expectCached(h, f, b);
    return b;
}

/// What the TypeScript tier did to one family since it last settled:
/// blocks handed out and taken back, and the sums the counters need.
pub const Delta = extern struct {
    family: u32,
    _reserved: u32 = 0,
    /// Blocks handed out (cached → held) and taken back (held → cached).
    allocs: u64,
    frees: u64,
    /// Net data bytes, requested bytes and hard fragmentation moved from
    /// free to occupied (negative: the other way).
    net_size: i64,
    net_app: i64,
    net_hard: i64,
    /// Highest running `net_app` reached since the last settle (≥ 0).
    peak_app: i64,
};

/// Family id of the delta that carries the heap-wide peak: its `peak_app` is
/// the highest running total of every family's `net_app` since the last
/// settle (the other fields are 0).
pub const all_families: u32 = std.math.maxInt(u32);

/// Applies the TypeScript tier's counts. Nothing changes unless all of them
/// are consistent with the family's counters.
pub fn settle(h: *Heap, deltas: []const Delta) Error!void {
    var heap_peak: ?u64 = null;
    for (deltas) |d| {
        if (d.family == all_families) {
            if (d.peak_app < 0 or d.allocs != 0 or d.frees != 0 or d.net_size != 0 or d.net_app != 0 or d.net_hard != 0) return error.InvalidArg;
            heap_peak = @intCast(d.peak_app);
            continue;
        }
        const f = h.family(d.family) orelse return error.UnknownFamily;
        const c = f.counters;
        const net_blocks = @as(i64, @intCast(d.allocs)) - @as(i64, @intCast(d.frees));
        if (d.peak_app < 0 or d.peak_app < d.net_app or
            !fits(c.free_blocks, -net_blocks) or !fits(c.free_bytes, -d.net_size) or
            !fits(c.occupied_bytes, d.net_size) or !fits(c.app_bytes, d.net_app) or
            !fits(c.hard_frag_bytes, d.net_hard) or !fits(h.app_bytes, d.net_app))
            return error.InvalidArg;
    }
    const app_before = h.app_bytes;
    for (deltas) |d| {
        if (d.family == all_families) continue;
        const f = h.family(d.family).?;
        const c = &f.counters;
        const net_blocks = @as(i64, @intCast(d.allocs)) - @as(i64, @intCast(d.frees));
        c.peak_app_bytes = @max(c.peak_app_bytes, c.app_bytes + @as(u64, @intCast(d.peak_app)));
        if (heap_peak == null) h.peak_app_bytes = @max(h.peak_app_bytes, h.app_bytes + @as(u64, @intCast(d.peak_app)));
        c.free_blocks = add(c.free_blocks, -net_blocks);
        c.free_bytes = add(c.free_bytes, -d.net_size);
        c.occupied_bytes = add(c.occupied_bytes, d.net_size);
        c.app_bytes = add(c.app_bytes, d.net_app);
        c.hard_frag_bytes = add(c.hard_frag_bytes, d.net_hard);
        h.app_bytes = add(h.app_bytes, d.net_app);
        c.alloc_count += d.allocs;
        c.free_count += d.frees;
    }
    if (heap_peak) |p| h.peak_app_bytes = @max(h.peak_app_bytes, app_before + p);
}

fn fits(x: u64, d: i64) bool {
    return if (d >= 0) x <= std.math.maxInt(u64) - @as(u64, @intCast(d)) else x >= @as(u64, @intCast(-d));
}

fn add(x: u64, d: i64) u64 {
    return if (d >= 0) x + @as(u64, @intCast(d)) else x - @as(u64, @intCast(-d));
}

// ---------------------------------------------------------------- tests

const testing = std.testing;
const check = @import("check.zig");

const expectValid = check.expectValid;

test "classes: the smallest class that holds a request" {
    try testing.expectEqual(@as(?usize, 0), classOf(1));
    try testing.expectEqual(@as(?usize, 0), classOf(16));
    try testing.expectEqual(@as(?usize, 1), classOf(17));
    try testing.expectEqual(@as(?usize, 7), classOf(128));
    try testing.expectEqual(@as(?usize, 8), classOf(129));
    try testing.expectEqual(@as(?usize, classes.len - 1), classOf(4096));
    try testing.expectEqual(@as(?usize, null), classOf(4097));
    for (1..4097) |n| {
        const c = classOf(n).?;
        try testing.expect(classes[c] >= n and (c == 0 or classes[c - 1] < n));
    }
}

test "a freed unit block is reused at once, without a merge, and counts as free" {
    const h = try Heap.create(.{ .reserve = 1 << 20 });
    defer _ = h.destroyFully();
    const emp = try h.register("emp_t", 40);
    const a = try h.alloc(emp, 1, 0);
    const keep = try h.alloc(emp, 1, 0);
    @memset(a[0..40], 0xAA);
    try h.free(@intFromPtr(a));
    const f = h.family(emp).?;
    try testing.expectEqual(@as(usize, 1), f.cache.items.len);
    try testing.expectEqual(@as(u64, 0), f.counters.app_bytes - 40);
    try expectValid(h);
    try testing.expectError(error.DoubleFree, h.free(@intFromPtr(a)));
    const b = try h.alloc(emp, 1, 0);
    try testing.expectEqual(a, b);
    for (b[0..40]) |c| try testing.expectEqual(@as(u8, 0), c);
    try expectValid(h);
    try h.free(@intFromPtr(b));
    try h.free(@intFromPtr(keep));
    try h.trim(); // flushes: everything merges and the page goes
    try testing.expectEqual(@as(u64, 0), f.counters.pages);
    try expectValid(h);
}

test "a full cache gives its oldest half back to worst fit" {
    const h = try Heap.create(.{ .reserve = 1 << 20 });
    defer _ = h.destroyFully();
    const t = try h.register("t", 1024); // cap 64
    const f = h.family(t).?;
    var ptrs: [100][*]u8 = undefined;
    for (&ptrs) |*p| p.* = try h.alloc(t, 1, 0);
    for (ptrs) |p| {
        try h.free(@intFromPtr(p));
        try expectValid(h);
    }
    try testing.expect(f.cache.items.len <= cacheCap(f.unit));
    try testing.expect(f.cache.items.len >= cacheCap(f.unit) / 2);
    try flushAll(h);
    try testing.expectEqual(@as(usize, 0), f.cache.items.len);
    try expectValid(h);
}

test "untyped requests go to their size class; large ones stay worst fit" {
    const h = try Heap.create(.{ .reserve = 1 << 20 });
    defer _ = h.destroyFully();
    const a = try h.alloc(Heap.bytes_family, 33, 0);
    const r = try h.resolve(@intFromPtr(a));
    try testing.expectEqualStrings("bytes/48", r.family.name());
    try testing.expectEqual(@as(usize, 48), r.size());
    try testing.expectEqual(@as(u64, 33), r.requested());
    const big = try h.alloc(Heap.bytes_family, 5000, 0);
    try testing.expectEqual(Heap.bytes_family, (try h.resolve(@intFromPtr(big))).family.id);
    try h.free(@intFromPtr(a));
    try h.free(@intFromPtr(big));
    try expectValid(h);
}

test "exact mode: no cache, no class, no idle page" {
    const h = try Heap.create(.{ .reserve = 1 << 20, .exact = true });
    defer _ = h.destroyFully();
    const a = try h.alloc(Heap.bytes_family, 33, 0);
    try testing.expectEqual(Heap.bytes_family, (try h.resolve(@intFromPtr(a))).family.id);
    try h.free(@intFromPtr(a));
    try testing.expectEqual(@as(u32, 1), h.family_count);
    try testing.expectEqual(@as(u64, 0), h.family(0).?.counters.pages);
    try expectValid(h);
}

test "the TypeScript tier: refill, hold, settle, give back" {
    const h = try Heap.create(.{ .reserve = 1 << 20, .lock = false });
    defer _ = h.destroyFully();
    const id = try h.register("rec_t", 24);
    const f = h.family(id).?;
    var out: [10]f64 = undefined;
    try testing.expectEqual(@as(usize, 10), try refill(h, f, &out));
    try testing.expectEqual(@as(u64, 10), f.counters.free_blocks - 1); // + the page's rest
    try expectValid(h);
    // Hand out three the way the module does: held bit and slack, no new seal.
    for (out[0..3]) |x| Block.fromData(@intFromFloat(x)).tail = Block.held_bit | (0 << 22);
    try settle(h, &.{.{ .family = id, .allocs = 3, .frees = 0, .net_size = 72, .net_app = 72, .net_hard = 0, .peak_app = 72 }});
    try expectValid(h);
    try testing.expectEqual(@as(u64, 72), f.counters.app_bytes);
    // A held block is live for readers, but the engine does not free it.
    try testing.expectError(error.InvalidArg, h.free(@intFromFloat(out[0])));
    // Inconsistent counts change nothing.
    try testing.expectError(error.InvalidArg, settle(h, &.{.{ .family = id, .allocs = 0, .frees = 5, .net_size = -120, .net_app = -120, .net_hard = 0, .peak_app = 0 }}));
    for (out[0..3]) |x| Block.fromData(@intFromFloat(x)).tail = 0;
    try settle(h, &.{.{ .family = id, .allocs = 0, .frees = 3, .net_size = -72, .net_app = -72, .net_hard = 0, .peak_app = 0 }});
    try expectValid(h);
    try testing.expectError(error.InvalidArg, giveBack(h, f, &.{out[0] + 8}));
    try giveBack(h, f, &out);
    try h.trim();
    try testing.expectEqual(@as(u64, 0), f.counters.pages);
    try testing.expectEqual(@as(u64, 72), f.counters.peak_app_bytes);
    try expectValid(h);
}
