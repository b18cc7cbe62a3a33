//! Randomized operation sequences against a model, with the invariant walker
//! after every single operation.
//!
//! Each seed picks a VM page size and cache size, registers a few families
//! (struct sizes from 1 B to larger than a page) and runs `fuzz_ops` random
//! operations: alloc (zeroed check), free, realloc (content kept, growth
//! zeroed), and misuse (double free, interior and foreign addresses, bad
//! sizes) that must fail with the right error and change nothing. The model
//! keeps every live block's address, size and fill byte: a block's fill is
//! verified when it is freed or moved, live blocks never overlap, and the
//! heap's statistics equal the model's sums.
//!
//! Half the seeds run the default heap (front caches, size classes, idle
//! pages) and also play the TypeScript tier the way the Deno module does
//! (refill, hand out by flipping the held bit, take back, settle, give back);
//! the other half run an exact heap.
//!
//! `zig build test -Dfuzz-ops=N -Dfuzz-seeds=S` runs more.

const std = @import("std");
const options = @import("build_options");
const Heap = @import("Heap.zig");
const Page = @import("page.zig").Page;
const check = @import("check.zig");
const introspect = @import("introspect.zig");
const front = @import("front.zig");
const Block = @import("block.zig").Block;

const Live = struct { addr: usize, len: usize, family: u32, fill: u8, held: bool = false };
const Lent = struct { addr: usize, family: u32 };

const Fuzzer = struct {
    h: *Heap,
    rand: std.Random,
    live: std.ArrayList(Live),
    freed: std.ArrayList(usize),
    families: [5]u32 = undefined,
    sizes: [5]u64 = undefined,
    msg: [512]u8 = undefined,
    step: usize = 0,
    /// Blocks the simulated TypeScript tier holds in its caches.
    lent: std.ArrayList(Lent),
    /// What it did since it last settled, per family.
    deltas: [5]front.Delta = undefined,
    running: [5]i64 = [_]i64{0} ** 5,

    fn settle(z: *Fuzzer) !void {
        var list: [5]front.Delta = undefined;
        var n: usize = 0;
        for (&z.deltas, &z.running) |*d, *r| {
            if (d.allocs != 0 or d.frees != 0) {
                list[n] = d.*;
                n += 1;
            }
            d.* = .{ .family = d.family, .allocs = 0, .frees = 0, .net_size = 0, .net_app = 0, .net_hard = 0, .peak_app = 0 };
            r.* = 0;
        }
        try front.settle(z.h, list[0..n]);
    }

    fn expectValid(z: *Fuzzer) !void {
        try z.settle();
        check.run(z.h, &z.msg) catch |e| {
            std.debug.print("step {d}: check failed: {s}\n", .{ z.step, std.mem.sliceTo(&z.msg, 0) });
            return e;
        };
    }

    fn units(z: *Fuzzer, size: u64) u64 {
        const r = z.rand.uintLessThan(u32, 100);
        const max_units: u64 = if (r < 70) @max(1, 256 / size) else if (r < 97) @max(1, 4096 / size) else @max(1, 3 * z.h.page_size / size);
        return 1 + z.rand.uintLessThan(u64, max_units);
    }

    fn fill(p: [*]u8, len: usize, byte: u8) void {
        @memset(p[0..len], byte);
    }

    fn expectFill(z: *Fuzzer, l: Live, len: usize) !void {
        const p: [*]const u8 = @ptrFromInt(l.addr);
        for (p[0..len], 0..) |c, i| if (c != l.fill) {
            std.debug.print("step {d}: block 0x{x} byte {d} is {d}, wrote {d}\n", .{ z.step, l.addr, i, c, l.fill });
            return error.TestUnexpectedResult;
        };
    }

    fn alloc(z: *Fuzzer) !void {
        const i = z.rand.uintLessThan(usize, z.families.len);
        const n = z.units(z.sizes[i]);
        const p = try z.h.alloc(z.families[i], n, 0);
        const len: usize = @intCast(n * z.sizes[i]);
        for (p[0..len]) |c| try std.testing.expectEqual(@as(u8, 0), c);
        const byte = z.rand.int(u8) | 1;
        fill(p, len, byte);
        try z.live.append(.{ .addr = @intFromPtr(p), .len = len, .family = z.families[i], .fill = byte });
    }

    /// The TypeScript tier takes up to 8 cached blocks of a family.
    fn tsRefill(z: *Fuzzer) !void {
        const i = z.rand.uintLessThan(usize, z.families.len);
        const f = z.h.family(z.families[i]).?;
        if (f.unit == 0) return;
        var out: [8]f64 = undefined;
        const n = try front.refill(z.h, f, out[0 .. 1 + z.rand.uintLessThan(usize, 8)]);
        for (out[0..n]) |x| try z.lent.append(.{ .addr = @intFromFloat(x), .family = f.id });
    }

    /// It hands one out: zeroes it, flips the held bit, records the slack.
    fn tsAlloc(z: *Fuzzer) !void {
        if (z.lent.items.len == 0) return z.tsRefill();
        const b = z.lent.swapRemove(z.rand.uintLessThan(usize, z.lent.items.len));
        const fi = std.mem.indexOfScalar(u32, &z.families, b.family).?;
        const f = z.h.family(b.family).?;
        const len: usize = @intCast(z.sizes[fi]);
        const p: [*]u8 = @ptrFromInt(b.addr);
        @memset(p[0..f.unit], 0);
        Block.fromData(b.addr).tail = Block.held_bit | @as(u32, @intCast((f.unit - len) << 22));
        const byte = z.rand.int(u8) | 1;
        fill(p, len, byte);
        try z.live.append(.{ .addr = b.addr, .len = len, .family = b.family, .fill = byte, .held = true });
        const d = &z.deltas[fi];
        d.allocs += 1;
        d.net_size += f.unit;
        d.net_app += @intCast(len);
        d.net_hard += @intCast(f.hardFrag(f.unit, len));
        z.running[fi] += @intCast(len);
        d.peak_app = @max(d.peak_app, z.running[fi]);
    }

    /// It takes a held block back into its cache.
    fn tsFree(z: *Fuzzer, l: Live) !void {
        const fi = std.mem.indexOfScalar(u32, &z.families, l.family).?;
        const f = z.h.family(l.family).?;
        Block.fromData(l.addr).tail = 0;
        try z.lent.append(.{ .addr = l.addr, .family = l.family });
        const d = &z.deltas[fi];
        d.frees += 1;
        d.net_size -= f.unit;
        d.net_app -= @intCast(l.len);
        d.net_hard -= @intCast(f.hardFrag(f.unit, l.len));
        z.running[fi] -= @intCast(l.len);
    }

    /// It gives cached blocks of one family back.
    fn tsGiveBack(z: *Fuzzer) !void {
        if (z.lent.items.len == 0) return;
        const family = z.lent.items[z.rand.uintLessThan(usize, z.lent.items.len)].family;
        var addrs = std.ArrayList(f64).init(std.testing.allocator);
        defer addrs.deinit();
        var i: usize = 0;
        while (i < z.lent.items.len) {
            if (z.lent.items[i].family == family and z.rand.boolean()) {
                try addrs.append(@floatFromInt(z.lent.swapRemove(i).addr));
            } else i += 1;
        }
        try front.giveBack(z.h, z.h.family(family).?, addrs.items);
    }

    fn free(z: *Fuzzer) !void {
        if (z.live.items.len == 0) return z.alloc();
        const l = z.live.swapRemove(z.rand.uintLessThan(usize, z.live.items.len));
        try z.expectFill(l, l.len);
        if (l.held) return z.tsFree(l);
        try z.h.free(l.addr);
        try z.freed.append(l.addr);
        if (z.freed.items.len > 64) _ = z.freed.orderedRemove(0);
    }

    fn realloc(z: *Fuzzer) !void {
        if (z.live.items.len == 0) return z.alloc();
        const k = z.rand.uintLessThan(usize, z.live.items.len);
        const l = z.live.items[k];
        if (l.held) {
            // The engine leaves held blocks to the TypeScript tier.
            try std.testing.expectError(error.InvalidArg, z.h.realloc(l.addr, 1));
            try std.testing.expectError(error.InvalidArg, z.h.free(l.addr));
            return;
        }
        const fi = std.mem.indexOfScalar(u32, &z.families, l.family).?;
        const n = z.units(z.sizes[fi]);
        const len: usize = @intCast(n * z.sizes[fi]);
        try z.expectFill(l, l.len);
        const p = try z.h.realloc(l.addr, n);
        const kept = @min(len, l.len);
        try z.expectFill(.{ .addr = @intFromPtr(p), .len = kept, .family = l.family, .fill = l.fill }, kept);
        for (p[kept..len]) |c| try std.testing.expectEqual(@as(u8, 0), c);
        fill(p, len, l.fill);
        z.live.items[k] = .{ .addr = @intFromPtr(p), .len = len, .family = l.family, .fill = l.fill };
    }

    /// Misuse that must fail and leave the heap unchanged.
    fn misuse(z: *Fuzzer) !void {
        const before = try introspect.stats(z.h, introspect.all_families);
        switch (z.rand.uintLessThan(u8, 5)) {
            0 => if (z.live.items.len > 0) {
                const l = z.live.items[z.rand.uintLessThan(usize, z.live.items.len)];
                const off = 1 + z.rand.uintLessThan(usize, @max(1, l.len - 1));
                if (off < l.len) try std.testing.expectError(error.Interior, z.h.free(l.addr + off));
            },
            1 => if (z.freed.items.len > 0) {
                // A recently freed address is a double free, not owned (page gone,
                // or now inside another block) or — reused — live again.
                const a = z.freed.items[z.rand.uintLessThan(usize, z.freed.items.len)];
                const reused = for (z.live.items) |l| {
                    if (l.addr == a) break true;
                } else false;
                if (!reused) {
                    if (z.h.free(a)) |_| return error.TestUnexpectedResult else |e| switch (e) {
                        error.DoubleFree, error.NotOwned, error.Interior => {},
                        else => return e,
                    }
                }
            },
            2 => {
                var local: u64 = 0;
                try std.testing.expectError(error.NotOwned, z.h.free(@intFromPtr(&local)));
            },
            3 => try std.testing.expectError(error.Overflow, z.h.alloc(z.families[0], std.math.maxInt(u64) / 2, 0)),
            else => try std.testing.expectError(error.UnknownFamily, z.h.alloc(999, 1, 0)),
        }
        const after = try introspect.stats(z.h, introspect.all_families);
        try std.testing.expectEqual(before, after);
    }

    fn expectModel(z: *Fuzzer) !void {
        try z.settle();
        var app: u64 = 0;
        for (z.live.items) |l| app += l.len;
        const s = try introspect.stats(z.h, introspect.all_families);
        try std.testing.expectEqual(app, s.app_bytes);
        try std.testing.expectEqual(@as(u64, z.live.items.len), s.occupied_blocks);
        const sorted = try std.testing.allocator.dupe(Live, z.live.items);
        defer std.testing.allocator.free(sorted);
        std.mem.sort(Live, sorted, {}, struct {
            fn lt(_: void, a: Live, b: Live) bool {
                return a.addr < b.addr;
            }
        }.lt);
        if (sorted.len > 1) for (sorted[0 .. sorted.len - 1], sorted[1..]) |a, b| {
            if (a.addr + a.len > b.addr) {
                std.debug.print("step {d}: blocks 0x{x}+{d} and 0x{x} overlap\n", .{ z.step, a.addr, a.len, b.addr });
                return error.TestUnexpectedResult;
            }
        };
    }
};

fn runSeed(seed: u64, ops: usize) !void {
    var prng = std.Random.DefaultPrng.init(seed);
    const rand = prng.random();
    const page_sizes = [_]usize{ 4096, 8192, 65536 };
    const ps = page_sizes[rand.uintLessThan(usize, page_sizes.len)];
    const exact = seed % 2 == 0;
    const h = try Heap.create(.{
        .page_size = ps,
        .page_cache = rand.uintLessThan(u32, 4),
        // Small arenas, so that sequences also grow the heap by more arenas.
        .reserve = 64 * ps,
        .exact = exact,
    });
    defer _ = h.destroyFully();
    var z: Fuzzer = .{
        .h = h,
        .rand = rand,
        .live = std.ArrayList(Live).init(std.testing.allocator),
        .freed = std.ArrayList(usize).init(std.testing.allocator),
        .lent = std.ArrayList(Lent).init(std.testing.allocator),
    };
    defer z.live.deinit();
    defer z.freed.deinit();
    defer z.lent.deinit();
    const struct_sizes = [_]u64{ 1, 8, 36, 200, 1000 };
    for (&z.families, &z.sizes, &z.deltas, struct_sizes, 0..) |*id, *size, *d, s, i| {
        var name: [8]u8 = undefined;
        id.* = try h.register(try std.fmt.bufPrint(&name, "f{d}", .{i}), s);
        size.* = s;
        d.* = .{ .family = id.*, .allocs = 0, .frees = 0, .net_size = 0, .net_app = 0, .net_hard = 0, .peak_app = 0 };
    }
    // Hover around a target population that itself drifts, so pages fill,
    // empty and return.
    var target: usize = 64;
    while (z.step < ops) : (z.step += 1) {
        if (z.step % 2048 == 0) target = 8 + rand.uintLessThan(usize, 200);
        const r = rand.uintLessThan(u32, 100);
        if (!exact and r >= 95) {
            switch (r) {
                95, 96 => try z.tsAlloc(),
                97 => try z.tsRefill(),
                98 => try z.tsGiveBack(),
                else => try z.h.trim(),
            }
        } else if (r < 3) {
            try z.misuse();
        } else if (r < 18) {
            try z.realloc();
        } else if ((z.live.items.len < target) == (r < 62)) {
            try z.alloc();
        } else {
            try z.free();
        }
        try z.expectValid();
        if (z.step % 64 == 0) try z.expectModel();
    }
    while (z.live.items.len > 0) {
        try z.free();
        try z.expectValid();
    }
    while (z.lent.items.len > 0) try z.tsGiveBack();
    try z.expectModel();
    try h.trim();
    try std.testing.expectEqual(h.pages_taken, h.pages_returned);
}

test "randomized operation sequences keep every invariant (check after each step)" {
    for (0..options.fuzz_seeds) |seed| {
        runSeed(seed + 1, options.fuzz_ops) catch |e| {
            std.debug.print("seed {d} failed\n", .{seed + 1});
            return e;
        };
    }
}
