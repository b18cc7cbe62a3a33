//! The corruption fuzzer: random damage written into a heap's arenas, then
//! random operations. What a buggy program — or a stale view from TypeScript —
//! can do to the memory around its blocks, the engine must survive.
//!
//! ## Basic Design
//! Each case is one seed: a fresh heap (random page size, page cache and
//! arena size), a few families, a random warm-up that leaves live blocks,
//! free blocks, idle and large pages behind, then **one damage**: 1–64 bytes
//! written at a random place
//! - in a page header, in a meta block, past the end of a live block (an
//!   overflow), in a free block's data (its queue index), or anywhere in a page,
//! - as random bytes, bit flips, or plausible values: zeros, all ones, small
//!   aligned sizes, a page size ×4, a lowered dirty mark, another header
//!   copied over this one, or bytes that were there earlier (a stale write
//!   replaying an old header),
//! then 4–24 random operations (alloc, free, realloc, stats, block and page
//! listings, resolve, check, trim) and a final `check`.
//!
//! The rule: never crash, never hang, and every case ends as exactly one of
//! - **harmless**: every operation succeeded and the final check passes;
//! - **detected**: an operation on a block the program owns failed with an
//!   address error (`NotOwned`, `Interior`, `DoubleFree`) and the heap is not
//!   poisoned: the damage made a block unrecognisable, and the engine said so
//!   instead of acting on it;
//! - **poisoned**: the engine found the damage — the call that found it
//!   returned `Corrupted` — and every later call returns `Poisoned`; counted
//!   apart when only the final check found it (no operation tripped on it).
//!
//! And the engine never lies silently. Outside the damaged bytes: memory it
//! hands out is zeroed and overlaps no block the program holds, live blocks
//! keep their contents, a harmless case's statistics equal the model's; once
//! poisoned, not one byte of its pages changes, statistics stay readable, and
//! the heap is destroyed whole. A case that breaks one of these fails the
//! test with its seed (`-Dcorrupt-seed=N -Dcorrupt-cases=1 -Dcorrupt-trace`
//! replays it and prints what it does; the heap's key is random, so a byte
//! of damage that happens to equal a check byte already there can make a
//! case harmless in one run and poisoned in the next: counts vary by a few
//! in 100,000). One exception, counted apart: a
//! stale write restores a header to an earlier state of its own, which passes
//! every keyed check; the structure it claims is verified against what the
//! heap keeps outside the arena (a crash is still a failure), but a value
//! only the header knows — how far a page was ever written — can then be
//! believed, and a block is handed out with old bytes in it.
//!
//! "Detected" stays at 0 in practice: an address error on a block the
//! program owns comes from a damaged header, and the engine poisons the heap
//! as it finds one (or the final check does, for a stale header).
//!
//! `zig build test -Dtest-filter=corruption -Dcorrupt-cases=N` runs more
//! (default 100,000 in ReleaseSafe; Debug runs a tenth).

const std = @import("std");
const options = @import("build_options");
const Heap = @import("Heap.zig");
const Block = @import("block.zig").Block;
const Page = @import("page.zig").Page;
const abi = @import("abi.zig");
const check = @import("check.zig");
const introspect = @import("introspect.zig");

pub const Outcome = enum {
    harmless,
    detected,
    /// Poisoned by one of the random operations.
    poisoned,
    /// Poisoned by the final check: no operation had tripped on the damage.
    poisoned_by_check,
    /// Stale damage that changed an answer unnoticed (see `Case.lie`).
    stale_lie,
};

const Where = enum { page_header, meta_block, overflow, free_data, anywhere };
const How = enum { random, bit_flips, zeros, ones, small_sizes, page_size_x4, lower_dirty, copied_header, stale };

/// A block the program holds: `len` requested bytes of family index `fi`, all `fill`.
const Live = struct { addr: usize, len: usize, fi: usize, fill: u8 };

/// Bytes seen at `addr` during the warm-up, for a stale write to replay.
const Snapshot = struct { addr: usize, bytes: [64]u8 };

/// The damaged range (nothing is checked inside it).
const Damage = struct {
    lo: usize = 0,
    hi: usize = 0,

    fn covers(d: Damage, addr: usize) bool {
        return addr >= d.lo and addr < d.hi;
    }
};

const trace = options.corrupt_trace;
/// Stale lies printed so far (the first few are shown, for the record).
var stale_lies_shown: usize = 0;
const family_sizes = [_]u64{ 1, 8, 36, 200, 3000 };

const Case = struct {
    h: *Heap,
    rand: std.Random,
    seed: u64,
    families: [family_sizes.len]u32 = undefined,
    live: std.BoundedArray(Live, 128) = .{},
    snapshots: std.BoundedArray(Snapshot, 4) = .{},
    damage: Damage = .{},
    detected: bool = false,
    /// The damage wrote back bytes that were there earlier (`How.stale`).
    stale: bool = false,
    /// The engine gave a wrong answer without noticing (stale damage only).
    lied: bool = false,
    /// Hash of every page's bytes, taken when the heap became poisoned.
    poisoned_hash: ?u64 = null,
    msg: [256]u8 = undefined,

    fn fail(c: *Case, comptime fmt: []const u8, args: anytype) error{TestUnexpectedResult} {
        std.debug.print("corruption case seed {d}: " ++ fmt ++ "\n", .{c.seed} ++ args);
        return error.TestUnexpectedResult;
    }

    /// A wrong answer the engine gave without noticing the damage: a
    /// failure, unless the damage restored bytes that were there before.
    /// Such a replay of an earlier header passes every keyed check; what the
    /// header alone decides (how much of a block is zeroed) can then be wrong.
    fn lie(c: *Case, comptime fmt: []const u8, args: anytype) !void {
        if (!c.stale) return c.fail(fmt, args);
        if (!c.lied) {
            stale_lies_shown += 1;
            if (stale_lies_shown <= 5) std.debug.print("corruption case seed {d} (stale write, not a failure): " ++ fmt ++ "\n", .{c.seed} ++ args);
        }
        c.lied = true;
    }

    fn units(c: *Case, fi: usize) u64 {
        const size = family_sizes[fi];
        const r = c.rand.uintLessThan(u32, 100);
        const max_bytes: u64 = if (r < 75) 256 else if (r < 95) 2048 else 3 * c.h.page_size;
        return 1 + c.rand.uintLessThan(u64, @max(1, max_bytes / size));
    }

    // ------------------------------------------------------------ the heap's pages, read while it is intact

    /// Every page of every family (pointers from the lists outside the arena).
    fn pageAt(c: *Case, k: usize) ?*Page {
        var i = k;
        for (0..c.h.family_count) |id| {
            const f = c.h.family(@intCast(id)).?;
            if (i < f.pages.items.len) return f.pages.items[i];
            i -= f.pages.items.len;
        }
        return null;
    }

    fn pageCount(c: *Case) usize {
        var n: usize = 0;
        for (0..c.h.family_count) |id| n += c.h.family(@intCast(id)).?.pages.items.len;
        return n;
    }

    /// A random block of a random page (the heap is intact when this runs),
    /// free or not as asked when such a block exists.
    fn randomBlock(c: *Case, want_free: ?bool) ?*Block {
        const n = c.pageCount();
        if (n == 0) return null;
        var fallback: ?*Block = null;
        for (0..8) |_| {
            const p = c.pageAt(c.rand.uintLessThan(usize, n)).?;
            var pick: ?*Block = null;
            var seen: usize = 0;
            var it: ?*Block = p.first();
            while (it) |b| : (it = if (p.isLarge()) null else b.next(p.end())) {
                if (want_free) |w| if (b.isFree() != w) continue;
                seen += 1;
                if (c.rand.uintLessThan(usize, seen) == 0) pick = b;
            }
            if (pick != null) return pick;
            if (fallback == null) fallback = p.first();
        }
        return fallback;
    }

    // ------------------------------------------------------------ the model

    fn expectZero(c: *Case, p: [*]const u8, from: usize, to: usize, what: []const u8) !void {
        for (from..to) |i| {
            if (p[i] != 0 and !c.damage.covers(@intFromPtr(p) + i))
                return c.lie("{s} 0x{x}: byte {d} is 0x{x}, not zero", .{ what, @intFromPtr(p), i, p[i] });
        }
    }

    /// `len` bytes at `l.addr` hold `l.fill`, except those that came from
    /// damaged bytes at `from` (a block's address before realloc moved it).
    fn expectFillFrom(c: *Case, l: Live, len: usize, from: usize) !void {
        const p: [*]const u8 = @ptrFromInt(l.addr);
        for (p[0..len], 0..) |byte, i| {
            if (byte != l.fill and !c.damage.covers(from + i) and !c.damage.covers(l.addr + i))
                return c.lie("live block 0x{x}: byte {d} is 0x{x}, was 0x{x}", .{ l.addr, i, byte, l.fill });
        }
    }

    fn expectFill(c: *Case, l: Live, len: usize) !void {
        return c.expectFillFrom(l, len, l.addr);
    }

    fn expectApart(c: *Case, addr: usize, len: usize, skip: ?usize) !void {
        for (c.live.slice(), 0..) |l, i| {
            if (skip == i) continue;
            if (addr < l.addr + l.len and l.addr < addr + len)
                return c.lie("block 0x{x}+{d} overlaps live block 0x{x}+{d}", .{ addr, len, l.addr, l.len });
        }
    }

    fn hold(c: *Case, p: [*]u8, len: usize, fi: usize) !void {
        const byte = c.rand.int(u8) | 1;
        @memset(p[0..len], byte);
        try c.live.append(.{ .addr = @intFromPtr(p), .len = len, .fi = fi, .fill = byte });
    }

    // ------------------------------------------------------------ operations

    /// Records how a call ended; returns whether it succeeded.
    fn outcome(c: *Case, was_poisoned: bool, err: ?anyerror, what: []const u8) !bool {
        const e = err orelse {
            if (was_poisoned) return c.fail("{s} succeeded on a poisoned heap", .{what});
            if (c.h.isPoisoned()) return c.fail("{s} succeeded and poisoned the heap", .{what});
            return true;
        };
        if (was_poisoned) {
            if (e != error.Poisoned) return c.fail("{s} on a poisoned heap: {s}, not Poisoned", .{ what, @errorName(e) });
            return false;
        }
        if (c.h.isPoisoned()) {
            if (e != error.Corrupted) return c.fail("{s} poisoned the heap but returned {s}", .{ what, @errorName(e) });
            c.poisoned_hash = c.hashPages();
            return false;
        }
        switch (e) {
            error.NotOwned, error.Interior, error.DoubleFree => c.detected = true,
            else => return c.fail("{s}: unexpected {s} on an unpoisoned heap", .{ what, @errorName(e) }),
        }
        return false;
    }

    fn alloc(c: *Case) !void {
        const fi = c.rand.uintLessThan(usize, family_sizes.len);
        const n = c.units(fi);
        const len: usize = @intCast(n * family_sizes[fi]);
        const was = c.h.isPoisoned();
        const p = c.h.alloc(c.families[fi], n, 0) catch |e| {
            _ = try c.outcome(was, e, "alloc");
            return;
        };
        _ = try c.outcome(was, null, "alloc");
        if (trace) std.debug.print("  alloc f{d} {d} -> 0x{x}\n", .{ fi, len, @intFromPtr(p) });
        try c.expectZero(p, 0, len, "new block");
        try c.expectApart(@intFromPtr(p), len, null);
        try c.hold(p, len, fi);
    }

    fn free(c: *Case) !void {
        if (c.live.len == 0) return c.alloc();
        const k = c.rand.uintLessThan(usize, c.live.len);
        const l = c.live.get(k);
        const was = c.h.isPoisoned();
        if (!was) try c.expectFill(l, l.len);
        const r = c.h.free(l.addr);
        if (trace) std.debug.print("  free 0x{x}+{d} -> {any}\n", .{ l.addr, l.len, r });
        // Freed, or refused: either way the program no longer holds it.
        _ = c.live.swapRemove(k);
        _ = try c.outcome(was, if (r) |_| null else |e| e, "free");
    }

    fn realloc(c: *Case) !void {
        if (c.live.len == 0) return c.alloc();
        const k = c.rand.uintLessThan(usize, c.live.len);
        const l = c.live.get(k);
        const n = c.units(l.fi);
        const len: usize = @intCast(n * family_sizes[l.fi]);
        const was = c.h.isPoisoned();
        if (!was) try c.expectFill(l, l.len);
        const p = c.h.realloc(l.addr, n) catch |e| {
            // Refused: the program no longer holds it either way.
            _ = c.live.swapRemove(k);
            _ = try c.outcome(was, e, "realloc");
            return;
        };
        _ = try c.outcome(was, null, "realloc");
        if (trace) std.debug.print("  realloc 0x{x}+{d} -> 0x{x}+{d}\n", .{ l.addr, l.len, @intFromPtr(p), len });
        try c.expectApart(@intFromPtr(p), len, k);
        const kept = @min(len, l.len);
        try c.expectFillFrom(.{ .addr = @intFromPtr(p), .len = kept, .fi = l.fi, .fill = l.fill }, kept, l.addr);
        try c.expectZero(p, kept, len, "grown block");
        @memset(p[0..len], l.fill);
        c.live.set(k, .{ .addr = @intFromPtr(p), .len = len, .fi = l.fi, .fill = l.fill });
    }

    fn step(c: *Case) !void {
        const was = c.h.isPoisoned();
        const r = c.rand.uintLessThan(u32, 100);
        if (trace) std.debug.print("step r={d} live={d}\n", .{ r, c.live.len });
        if (r < 28) return c.alloc();
        if (r < 52) return c.free();
        if (r < 66) return c.realloc();
        if (r < 72) {
            const s = introspect.stats(c.h, introspect.all_families) catch |e| return c.fail("stats: {s}", .{@errorName(e)});
            if ((s.poisoned != 0) != c.h.isPoisoned()) return c.fail("stats say poisoned={d}", .{s.poisoned});
            return;
        }
        if (r < 78) {
            var buf: [64]abi.BlockRecord = undefined;
            const n = introspect.blocks(c.h, introspect.all_families, 0, &buf);
            _ = try c.outcome(was, if (n) |_| null else |e| e, "blocks");
            return;
        }
        if (r < 82) {
            var buf: [16]abi.PageInfo = undefined;
            const n = introspect.pages(c.h, introspect.all_families, &buf);
            _ = try c.outcome(was, if (n) |_| null else |e| e, "pages");
            return;
        }
        if (r < 88) {
            if (c.live.len == 0) return;
            const l = c.live.get(c.rand.uintLessThan(usize, c.live.len));
            const res = c.h.resolve(l.addr);
            _ = try c.outcome(was, if (res) |_| null else |e| e, "resolve");
            return;
        }
        if (r < 94) {
            const res = check.run(c.h, &c.msg);
            if (was) {
                if (res) |_| return c.fail("check passed on a poisoned heap", .{}) else |_| {}
            } else _ = try c.outcome(was, if (res) |_| null else |e| e, "check");
            return;
        }
        const res = c.h.trim();
        _ = try c.outcome(was, if (res) |_| null else |e| e, "trim");
    }

    // ------------------------------------------------------------ damage

    fn snapshot(c: *Case) void {
        const b = c.randomBlock(null) orelse return;
        const page: usize = @intFromPtr(b) & ~(c.h.page_size - 1);
        const at = if (c.rand.boolean()) page else @intFromPtr(b);
        const arena = c.h.arenaOf(at).?;
        if (at + 64 > arena.base + arena.len) return;
        var s: Snapshot = .{ .addr = at, .bytes = undefined };
        @memcpy(&s.bytes, @as([*]const u8, @ptrFromInt(at))[0..64]);
        if (c.snapshots.len < c.snapshots.capacity()) c.snapshots.appendAssumeCapacity(s) else c.snapshots.set(c.rand.uintLessThan(usize, c.snapshots.len), s);
    }

    /// Where the damage starts.
    fn target(c: *Case, where: Where) ?usize {
        switch (where) {
            .page_header => {
                const n = c.pageCount();
                if (n == 0) return null;
                return @intFromPtr(c.pageAt(c.rand.uintLessThan(usize, n)).?) + c.rand.uintLessThan(usize, Page.header_size);
            },
            .meta_block => {
                const b = c.randomBlock(null) orelse return null;
                return @intFromPtr(b) + c.rand.uintLessThan(usize, Block.header_size + 8) -% 4;
            },
            .overflow => {
                if (c.live.len == 0) return null;
                const l = c.live.get(c.rand.uintLessThan(usize, c.live.len));
                return l.addr + l.len - @min(l.len, c.rand.uintLessThan(usize, 8)) + c.rand.uintLessThan(usize, 24);
            },
            .free_data => {
                const b = c.randomBlock(true) orelse return null;
                return b.dataAddr() + c.rand.uintLessThan(usize, 16);
            },
            .anywhere => {
                const n = c.pageCount();
                if (n == 0) return null;
                const p = c.pageAt(c.rand.uintLessThan(usize, n)).?;
                return p.base() + c.rand.uintLessThan(usize, @intCast(p.size));
            },
        }
    }

    fn damageOnce(c: *Case) void {
        const where = c.rand.enumValue(Where);
        var how = c.rand.enumValue(How);
        var at = c.target(where) orelse return;
        var len: usize = if (c.rand.boolean()) 1 + c.rand.uintLessThan(usize, 8) else 1 + c.rand.uintLessThan(usize, 64);
        var bytes: [64]u8 = undefined;
        const page: usize = at & ~(c.h.page_size - 1);
        switch (how) {
            .random => c.rand.bytes(bytes[0..len]),
            // Masks, applied to the bytes there.
            .bit_flips => for (bytes[0..len]) |*x| {
                x.* = if (c.rand.uintLessThan(u8, 4) == 0) c.rand.int(u8) | 1 else @as(u8, 1) << c.rand.int(u3);
            },
            .zeros => @memset(bytes[0..len], 0),
            .ones => @memset(bytes[0..len], 0xFF),
            .small_sizes => {
                at &= ~@as(usize, 3);
                len = std.mem.alignForward(usize, len, 4);
                var i: usize = 0;
                while (i < len) : (i += 4) std.mem.writeInt(u32, bytes[i..][0..4], @intCast(8 * c.rand.uintLessThan(usize, c.h.page_size / 4)), .little);
            },
            .page_size_x4 => {
                at = page + @offsetOf(Page, "size");
                len = 8;
                std.mem.writeInt(u64, bytes[0..8], @as(*const Page, @ptrFromInt(page)).size *% 4, .little);
            },
            .lower_dirty => {
                const p: *const Page = @ptrFromInt(page);
                at = page + @offsetOf(Page, "dirty");
                len = 8;
                std.mem.writeInt(u64, bytes[0..8], c.rand.uintAtMost(u64, p.dirty), .little);
            },
            .copied_header => {
                const other = c.randomBlock(null) orelse return;
                at = std.mem.alignBackward(usize, at, 8);
                len = Block.header_size;
                @memcpy(bytes[0..16], @as([*]const u8, @ptrCast(other))[0..16]);
            },
            .stale => {
                if (c.snapshots.len == 0) {
                    how = .random;
                    c.rand.bytes(bytes[0..len]);
                } else {
                    const s = c.snapshots.get(c.rand.uintLessThan(usize, c.snapshots.len));
                    const off = c.rand.uintLessThan(usize, 64);
                    len = @min(len, 64 - off);
                    at = s.addr + off;
                    @memcpy(bytes[0..len], s.bytes[off..][0..len]);
                }
            },
        }
        // Only memory that stays mapped: the arena that holds the target.
        const arena = c.h.arenaOf(at) orelse return;
        len = @min(len, arena.base + arena.len - at);
        const dest: [*]u8 = @ptrFromInt(at);
        if (how == .bit_flips) {
            for (dest[0..len], bytes[0..len]) |*d, m| d.* ^= m;
        } else @memcpy(dest[0..len], bytes[0..len]);
        c.damage = .{ .lo = at, .hi = at + len };
        c.stale = how == .stale;
        if (trace) std.debug.print("damage {s} {s} at 0x{x} len {d}\n", .{ @tagName(where), @tagName(how), at, len });
    }

    /// A hash of the bytes of every placed page unit (from the arenas'
    /// bitmaps, outside the arena: page headers may be damaged).
    fn hashPages(c: *Case) u64 {
        var hasher = std.hash.Wyhash.init(0);
        for (c.h.arenas[0..c.h.arena_count]) |*a| {
            if (a.dedicated) {
                if (a.used_units != 0) hasher.update(@as([*]const u8, @ptrFromInt(a.base))[0..a.len]);
                continue;
            }
            const unit = c.h.page_size;
            for (0..a.units()) |i| {
                if (a.used[i / 64] >> @intCast(i % 64) & 1 == 0) continue;
                hasher.update(std.mem.asBytes(&i));
                hasher.update(@as([*]const u8, @ptrFromInt(a.base + i * unit))[0..unit]);
            }
        }
        return hasher.final();
    }
};

/// Runs one case; returns how it ended, or fails with its seed.
pub fn runCase(seed: u64) !Outcome {
    var prng = std.Random.DefaultPrng.init(seed);
    const rand = prng.random();
    const page_sizes = [_]usize{ 4096, 8192, 16384 };
    const ps = page_sizes[rand.uintLessThan(usize, page_sizes.len)];
    const h = try Heap.create(.{
        .page_size = ps,
        .page_cache = rand.uintLessThan(u32, 4),
        .reserve = (16 + rand.uintLessThan(usize, 48)) * ps,
    });
    var c: Case = .{ .h = h, .rand = rand, .seed = seed };
    for (&c.families, family_sizes, 0..) |*id, size, i| {
        var name: [8]u8 = undefined;
        id.* = if (i == 0) Heap.bytes_family else try h.register(try std.fmt.bufPrint(&name, "f{d}", .{i}), size);
    }
    std.debug.assert(c.families[0] == Heap.bytes_family and family_sizes[0] == 1);

    // Warm-up: live and free blocks, idle and large pages; a few snapshots.
    const warm = 6 + rand.uintLessThan(usize, 40);
    for (0..warm) |_| {
        const r = rand.uintLessThan(u32, 100);
        if (r < 55) try c.alloc() else if (r < 85) try c.free() else try c.realloc();
        if (rand.uintLessThan(u32, 8) == 0) c.snapshot();
    }
    if (h.isPoisoned()) return c.fail("the warm-up poisoned the heap: {s}", .{h.poisonReason()});

    c.damageOnce();

    const ops = 4 + rand.uintLessThan(usize, 21);
    for (0..ops) |_| try c.step();

    const by_ops = h.isPoisoned();
    if (!by_ops) {
        _ = try c.outcome(false, if (check.run(h, &c.msg)) |_| null else |e| e, "final check");
    }
    const result: Outcome = if (by_ops) .poisoned else if (h.isPoisoned()) .poisoned_by_check else if (c.detected) .detected else .harmless;
    switch (result) {
        .stale_lie => unreachable,
        .poisoned, .poisoned_by_check => {
            // Nothing written since, statistics readable, every call refused.
            if (c.hashPages() != c.poisoned_hash.?) return c.fail("pages changed after the heap was poisoned", .{});
            _ = introspect.stats(h, introspect.all_families) catch |e| return c.fail("stats of a poisoned heap: {s}", .{@errorName(e)});
            if (h.alloc(Heap.bytes_family, 8, 0)) |_| return c.fail("alloc on a poisoned heap", .{}) else |e| if (e != error.Poisoned) return c.fail("alloc on a poisoned heap: {s}", .{@errorName(e)});
        },
        .harmless, .detected => {
            for (c.live.slice()) |l| try c.expectFill(l, l.len);
            if (result == .harmless) {
                const s = try introspect.stats(h, introspect.all_families);
                var app: u64 = 0;
                for (c.live.slice()) |l| app += l.len;
                if (s.occupied_blocks != c.live.len or s.app_bytes != app)
                    try c.lie("stats say {d} blocks of {d} bytes, the program holds {d} of {d}", .{ s.occupied_blocks, s.app_bytes, c.live.len, app });
            }
        },
    }
    if (!h.destroyFully()) return c.fail("destroy failed", .{});
    return if (c.lied) .stale_lie else result;
}

test "corruption fuzzer: damage is harmless, detected or poisoned; never a crash, a hang or a silent lie" {
    var counts = std.EnumArray(Outcome, u64).initFill(0);
    for (0..options.corrupt_cases) |i| {
        if (trace) std.debug.print("case seed {d}\n", .{options.corrupt_seed + i});
        const outcome = runCase(options.corrupt_seed + i) catch |e| {
            std.debug.print("corruption case seed {d} failed\n", .{options.corrupt_seed + i});
            return e;
        };
        counts.getPtr(outcome).* += 1;
    }
    std.debug.print("corruption fuzzer: {d} cases (seeds {d}..{d}): {d} harmless, {d} detected, {d} poisoned " ++
        "({d} by an operation, {d} by the final check); {d} stale writes changed an answer unnoticed\n", .{
        options.corrupt_cases,
        options.corrupt_seed,
        options.corrupt_seed + options.corrupt_cases - 1,
        counts.get(.harmless),
        counts.get(.detected),
        counts.get(.poisoned) + counts.get(.poisoned_by_check),
        counts.get(.poisoned),
        counts.get(.poisoned_by_check),
        counts.get(.stale_lie),
    });
    // A fuzzer whose damage is never found tests nothing: each outcome occurs.
    if (options.corrupt_cases >= 1000) {
        inline for (.{ Outcome.harmless, Outcome.poisoned }) |o| try std.testing.expect(counts.get(o) > 0);
    }
}
