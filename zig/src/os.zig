//! The operating-system interface: anonymous private mappings from the kernel.
//!
//! ## Basic Design
//! Everything LMM hands out or keeps as metadata comes from `mmap` and goes back
//! with `munmap`, called as raw Linux system calls so that the library needs no
//! libc and a refusal by the kernel is a value (`null`), never a panic.
//! VM pages are aligned to the heap's VM page size so that an address finds its
//! page by masking (see `PageTable.zig`); an aligned mapping is made by mapping
//! `len + alignment - os_page` bytes and returning the ends that are not needed.

const std = @import("std");
const linux = std.os.linux;

/// The kernel's page size on the targets LMM supports (x86-64, aarch64 with 4 KiB pages).
pub const os_page: usize = 4096;

fn failed(rc: usize) bool {
    const signed: isize = @bitCast(rc);
    return signed < 0 and signed > -4096;
}

/// Maps `len` bytes (a multiple of `os_page`) of zeroed memory aligned to
/// `alignment` (a power of two, at least `os_page`). Returns null when the
/// kernel refuses.
pub fn map(len: usize, alignment: usize) ?[*]align(os_page) u8 {
    std.debug.assert(len > 0 and len % os_page == 0);
    std.debug.assert(std.math.isPowerOfTwo(alignment) and alignment >= os_page);
    const extra = alignment - os_page;
    const total = std.math.add(usize, len, extra) catch return null;
    const prot = linux.PROT.READ | linux.PROT.WRITE;
    const rc = linux.mmap(null, total, prot, .{ .TYPE = .PRIVATE, .ANONYMOUS = true }, -1, 0);
    if (failed(rc)) return null;
    const start = std.mem.alignForward(usize, rc, alignment);
    if (start > rc) _ = linux.munmap(@ptrFromInt(rc), start - rc);
    const tail = rc + total - (start + len);
    if (tail > 0) _ = linux.munmap(@ptrFromInt(start + len), tail);
    return @ptrFromInt(start);
}

/// Returns a mapping made by `map` to the kernel.
pub fn unmap(ptr: [*]align(os_page) u8, len: usize) void {
    const rc = linux.munmap(ptr, len);
    std.debug.assert(!failed(rc));
}

/// 64 unpredictable bits from the kernel, or a mix of `fallback` bits when
/// `getrandom` is unavailable.
pub fn randomSeed(fallback: u64) u64 {
    var seed: u64 = 0;
    const rc = linux.getrandom(@ptrCast(&seed), @sizeOf(u64), 0);
    if (failed(rc) or rc != @sizeOf(u64)) seed = fallback *% 0x9E3779B97F4A7C15;
    return seed | 1;
}

test "map returns zeroed memory aligned as asked" {
    const len = 3 * os_page;
    const p = map(len, 64 * 1024) orelse return error.SkipZigTest;
    defer unmap(p, len);
    try std.testing.expect(@intFromPtr(p) % (64 * 1024) == 0);
    for (p[0..len]) |b| try std.testing.expectEqual(@as(u8, 0), b);
    p[len - 1] = 7;
}

test "map refuses an impossible length with null" {
    try std.testing.expect(map(std.math.maxInt(usize) - os_page + 1, os_page) == null);
}

test "randomSeed gives odd values that differ between calls" {
    const a = randomSeed(1);
    const b = randomSeed(1);
    try std.testing.expect(a & 1 == 1 and b & 1 == 1);
    try std.testing.expect(a != b); // equal with probability 2^-63
}
