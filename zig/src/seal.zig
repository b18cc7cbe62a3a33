//! The keyed integrity check that meta blocks and page headers carry.
//!
//! ## Basic Design
//! A header is a few 32-bit words at some address. Its check is a 32-bit
//! hash of the heap's secret `key`, the header's address and every covered
//! word, built from steps that are each a bijection of the running state:
//!
//!     h = key ^ lo32(address >> 3)
//!     for each word w:  x = (h ^ w) * 0x9E3779B1;  h = x ^ (x >> 15)
//!     h ^= h >> 13;  h *= 0x85EBCA6B;  h ^= h >> 16
//!
//! (all arithmetic modulo 2^32). Because every step is a bijection, changing
//! any single covered word — what an overflow from the block before does
//! first — always changes the check; several words change it with
//! probability 1 − 2^-32. The address enters the hash, so a valid header
//! copied elsewhere is not valid there (addresses 32 GiB apart alias). The
//! key makes stale or random data pass only by 2^-32 chance.
//!
//! The algorithm is part of the ABI: the Deno module computes the same
//! function (with `Math.imul`) to validate addresses without a native call.
//! Which words a header covers is the header's business (`block.zig`).

const std = @import("std");

pub const m1: u32 = 0x9E3779B1;
pub const m2: u32 = 0x85EBCA6B;

pub inline fn start(key: u32, addr: usize) u32 {
    return key ^ @as(u32, @truncate(addr >> 3));
}

pub inline fn mix(h: u32, w: u32) u32 {
    const x = (h ^ w) *% m1;
    return x ^ (x >> 15);
}

pub inline fn finish(h0: u32) u32 {
    var h = h0;
    h ^= h >> 13;
    h *%= m2;
    return h ^ (h >> 16);
}

/// The check of `words` stored at `addr` under `key`.
pub fn of(key: u32, addr: usize, words: []const u32) u32 {
    var h = start(key, addr);
    for (words) |w| h = mix(h, w);
    return finish(h);
}

test "any single changed word changes the check" {
    var words = [_]u32{ 12, 0x2000_0001, 0x4000_0003, 0 };
    const base = of(7, 0x10000, &words);
    var prng = std.Random.DefaultPrng.init(1);
    for (0..10_000) |_| {
        const i = prng.random().uintLessThan(usize, words.len);
        const old = words[i];
        words[i] ^= prng.random().int(u32) | 1;
        try std.testing.expect(of(7, 0x10000, &words) != base);
        words[i] = old;
    }
    try std.testing.expect(of(8, 0x10000, &words) != base);
    try std.testing.expect(of(7, 0x10010, &words) != base);
}

test "known values (the Deno module's copy is tested against the same ones)" {
    try std.testing.expectEqual(@as(u32, 0x5E1FFEB2), of(0x12345678, 0x7f00_0000_1040, &.{ 6, 0x4000_0004, 0x0400_0000 }));
}
