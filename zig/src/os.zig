//! The operating-system interface: reserving address space, giving memory
//! back, and the small raw mappings that hold metadata.
//!
//! ## Basic Design
//! Everything LMM hands out comes from *arenas*: ranges of address space
//! reserved once with `mmap(PROT_READ | PROT_WRITE, MAP_NORESERVE)`. The
//! kernel backs a page of such a range only when it is first touched, so a
//! reservation costs address space, not memory. Memory goes back to the
//! kernel with `madvise(MADV_DONTNEED)`, which drops the pages (RSS falls)
//! but keeps the range mapped, readable and writable: a stale access reads
//! zeros or writes a fresh page instead of faulting. Only destroying a heap
//! unmaps its arenas.
//!
//! The system calls are raw Linux calls so that a refusal is a value, never
//! a panic, in every build mode. They are reached through `Sys`, a table of
//! function pointers that a heap keeps: production uses `Sys.real`, tests
//! inject failures (the way `std.testing.FailingAllocator` does for memory).

const std = @import("std");
const linux = std.os.linux;

/// The kernel's page size on the targets LMM supports (x86-64, aarch64 with 4 KiB pages).
pub const os_page: usize = 4096;

fn failed(rc: usize) bool {
    const signed: isize = @bitCast(rc);
    return signed < 0 and signed > -4096;
}

/// The system calls a heap makes, as replaceable function pointers.
pub const Sys = struct {
    /// Reserves `len` bytes (a multiple of `os_page`) aligned to `alignment`
    /// (a power of two ≥ `os_page`), readable, writable, not yet backed.
    reserve: *const fn (len: usize, alignment: usize) ?[*]align(os_page) u8 = reserveReal,
    /// Unmaps a range made by `reserve` (or a part of one). False on failure.
    unreserve: *const fn (ptr: [*]align(os_page) u8, len: usize) bool = unreserveReal,
    /// Drops the memory of a range (it reads as zeros afterwards). False on failure.
    decommit: *const fn (ptr: [*]align(os_page) u8, len: usize) bool = decommitReal,

    pub const real: Sys = .{};
};

fn reserveReal(len: usize, alignment: usize) ?[*]align(os_page) u8 {
    return mapAligned(len, alignment, true);
}

fn unreserveReal(ptr: [*]align(os_page) u8, len: usize) bool {
    return !failed(linux.munmap(ptr, len));
}

fn decommitReal(ptr: [*]align(os_page) u8, len: usize) bool {
    return !failed(linux.madvise(ptr, len, linux.MADV.DONTNEED));
}

fn mapAligned(len: usize, alignment: usize, noreserve: bool) ?[*]align(os_page) u8 {
    if (len == 0 or len % os_page != 0) return null;
    std.debug.assert(std.math.isPowerOfTwo(alignment) and alignment >= os_page);
    const extra = alignment - os_page;
    const total = std.math.add(usize, len, extra) catch return null;
    const prot = linux.PROT.READ | linux.PROT.WRITE;
    const rc = linux.mmap(null, total, prot, .{ .TYPE = .PRIVATE, .ANONYMOUS = true, .NORESERVE = noreserve }, -1, 0);
    if (failed(rc)) return null;
    const start = std.mem.alignForward(usize, rc, alignment);
    // Trimming the ends cannot fail for a range we just mapped; if it did,
    // the only cost would be address space.
    if (start > rc) _ = linux.munmap(@ptrFromInt(rc), start - rc);
    const tail = rc + total - (start + len);
    if (tail > 0) _ = linux.munmap(@ptrFromInt(start + len), tail);
    return @ptrFromInt(start);
}

/// Maps `len` bytes of zeroed memory for metadata (committed on touch).
/// Returns null when the kernel refuses.
pub fn map(len: usize, alignment: usize) ?[*]align(os_page) u8 {
    return mapAligned(len, alignment, false);
}

/// Returns a mapping made by `map`. False when the kernel refuses.
pub fn unmap(ptr: [*]align(os_page) u8, len: usize) bool {
    return unreserveReal(ptr, len);
}

/// 64 unpredictable bits from the kernel, or a mix of `fallback` bits when
/// `getrandom` is unavailable.
pub fn randomSeed(fallback: u64) u64 {
    var seed: u64 = 0;
    const rc = linux.getrandom(@ptrCast(&seed), @sizeOf(u64), 0);
    if (failed(rc) or rc != @sizeOf(u64)) seed = fallback *% 0x9E3779B97F4A7C15;
    return seed | 1;
}

/// Pages of `[ptr, ptr + len)` that are resident (for tests and measurements).
pub fn residentPages(ptr: usize, len: usize) ?usize {
    var vec: [256]u8 = undefined;
    var done: usize = 0;
    var resident: usize = 0;
    while (done < len) {
        const chunk = @min(len - done, vec.len * os_page);
        const rc = linux.mincore(@ptrFromInt(ptr + done), chunk, &vec);
        if (failed(rc)) return null;
        for (vec[0 .. (chunk + os_page - 1) / os_page]) |v| resident += v & 1;
        done += chunk;
    }
    return resident;
}

test "map returns zeroed memory aligned as asked" {
    const len = 3 * os_page;
    const p = map(len, 64 * 1024) orelse return error.SkipZigTest;
    defer _ = unmap(p, len);
    try std.testing.expect(@intFromPtr(p) % (64 * 1024) == 0);
    for (p[0..len]) |b| try std.testing.expectEqual(@as(u8, 0), b);
    p[len - 1] = 7;
}

test "map refuses an impossible length with null" {
    try std.testing.expect(map(std.math.maxInt(usize) - os_page + 1, os_page) == null);
    try std.testing.expect(map(0, os_page) == null);
}

test "a reservation is backed on touch and decommit gives the memory back" {
    const len = 64 * os_page;
    const p = Sys.real.reserve(len, os_page) orelse return error.SkipZigTest;
    defer _ = Sys.real.unreserve(p, len);
    try std.testing.expectEqual(@as(?usize, 0), residentPages(@intFromPtr(p), len));
    @memset(p[0 .. 16 * os_page], 0xAB);
    try std.testing.expectEqual(@as(?usize, 16), residentPages(@intFromPtr(p), len));
    try std.testing.expect(Sys.real.decommit(p, len));
    try std.testing.expectEqual(@as(?usize, 0), residentPages(@intFromPtr(p), len));
    // Still mapped: reads give zeros, writes work.
    try std.testing.expectEqual(@as(u8, 0), p[5]);
    p[5] = 1;
}

test "randomSeed gives odd values that differ between calls" {
    const a = randomSeed(1);
    const b = randomSeed(1);
    try std.testing.expect(a & 1 == 1 and b & 1 == 1);
    try std.testing.expect(a != b); // equal with probability 2^-63
}
