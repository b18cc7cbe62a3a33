//! The C ABI's types: status codes and the extern structs of `include/lmm.h`,
//! with the one mapping from engine errors to status codes.

const std = @import("std");
const Heap = @import("Heap.zig");

pub const version: u32 = 1;

pub const Status = enum(c_int) {
    ok = 0,
    nomem = 1,
    bad_handle = 2,
    destroyed = 3,
    unknown_family = 4,
    duplicate_name = 5,
    name_too_long = 6,
    bad_name = 7,
    zero_size = 8,
    overflow = 9,
    bad_size = 10,
    not_owned = 11,
    interior = 12,
    double_free = 13,
    corrupted = 14,
    bad_config = 15,
    buffer_too_small = 16,
    invalid_arg = 17,
    bad_address = 18,
    site_limit = 19,

    pub fn name(s: Status) [:0]const u8 {
        return switch (s) {
            .ok => "LMM_OK",
            .nomem => "LMM_E_NOMEM",
            .bad_handle => "LMM_E_BAD_HANDLE",
            .destroyed => "LMM_E_DESTROYED",
            .unknown_family => "LMM_E_UNKNOWN_FAMILY",
            .duplicate_name => "LMM_E_DUPLICATE_NAME",
            .name_too_long => "LMM_E_NAME_TOO_LONG",
            .bad_name => "LMM_E_BAD_NAME",
            .zero_size => "LMM_E_ZERO_SIZE",
            .overflow => "LMM_E_OVERFLOW",
            .bad_size => "LMM_E_BAD_SIZE",
            .not_owned => "LMM_E_NOT_OWNED",
            .interior => "LMM_E_INTERIOR",
            .double_free => "LMM_E_DOUBLE_FREE",
            .corrupted => "LMM_E_CORRUPTED",
            .bad_config => "LMM_E_BAD_CONFIG",
            .buffer_too_small => "LMM_E_BUFFER_TOO_SMALL",
            .invalid_arg => "LMM_E_INVALID_ARG",
            .bad_address => "LMM_E_BAD_ADDRESS",
            .site_limit => "LMM_E_SITE_LIMIT",
        };
    }

    pub fn message(s: Status) [:0]const u8 {
        return switch (s) {
            .ok => "success",
            .nomem => "the kernel refused memory",
            .bad_handle => "not a heap handle",
            .destroyed => "the heap was destroyed",
            .unknown_family => "no page family with that id or name",
            .duplicate_name => "a page family of that name is registered already",
            .name_too_long => "the name is longer than 63 bytes",
            .bad_name => "the name is empty or holds a control character",
            .zero_size => "a structure size or unit count of zero",
            .overflow => "units x structure size is beyond the 64 TiB limit",
            .bad_size => "a size or unit count that is not a whole positive number",
            .not_owned => "the address is not a block this heap gave out",
            .interior => "the address points inside a block, not at its start",
            .double_free => "the block at that address is free already",
            .corrupted => "a meta block failed its integrity check: memory was overwritten",
            .bad_config => "the VM page size must be a power of two from 4 KiB to 1 GiB",
            .buffer_too_small => "the output buffer is too small",
            .invalid_arg => "an invalid argument (NULL output, unknown site or size)",
            .bad_address => "an address that is not a whole number in [1, 2^53)",
            .site_limit => "the heap's allocation-site table is full",
        };
    }
};

pub const status_count = @typeInfo(Status).@"enum".fields.len;

/// Engine and conversion errors that the ABI reports.
pub const Error = Heap.Error || error{ BadHandle, Destroyed, BadSize, BadAddress, BufferTooSmall, BadConfig };

pub fn fromError(e: Error) Status {
    return switch (e) {
        error.OutOfMemory => .nomem,
        error.UnknownFamily => .unknown_family,
        error.DuplicateName => .duplicate_name,
        error.NameTooLong => .name_too_long,
        error.BadName => .bad_name,
        error.ZeroSize => .zero_size,
        error.Overflow => .overflow,
        error.NotOwned => .not_owned,
        error.Interior => .interior,
        error.DoubleFree => .double_free,
        error.Corrupted => .corrupted,
        error.InvalidArg => .invalid_arg,
        error.SiteLimit => .site_limit,
        error.BadHandle => .bad_handle,
        error.Destroyed => .destroyed,
        error.BadSize => .bad_size,
        error.BadAddress => .bad_address,
        error.BufferTooSmall => .buffer_too_small,
        error.BadConfig => .bad_config,
    };
}

pub const Config = extern struct {
    size: u32,
    version: u32,
    page_size: u64,
    page_cache: u32,
    flags: u32,
};

pub const heap_no_lock: u32 = 1;

pub const Stats = extern struct {
    size: u32 = @sizeOf(Stats),
    version: u32 = version,
    family: u32 = 0,
    families: u32 = 0,
    struct_size: u64 = 0,
    pages: u64 = 0,
    bytes_mapped: u64 = 0,
    cached_pages: u64 = 0,
    cached_bytes: u64 = 0,
    total_blocks: u64 = 0,
    free_blocks: u64 = 0,
    occupied_blocks: u64 = 0,
    app_bytes: u64 = 0,
    peak_app_bytes: u64 = 0,
    occupied_bytes: u64 = 0,
    free_bytes: u64 = 0,
    header_bytes: u64 = 0,
    largest_free: u64 = 0,
    hard_frag_bytes: u64 = 0,
    soft_frag_blocks: u64 = 0,
    soft_frag_bytes: u64 = 0,
    alloc_count: u64 = 0,
    free_count: u64 = 0,
    realloc_count: u64 = 0,
    mmap_count: u64 = 0,
    munmap_count: u64 = 0,
};

pub const FamilyInfo = extern struct {
    id: u32,
    name_len: u32,
    struct_size: u64,
    name: [64]u8,
};

pub const PageInfo = extern struct {
    base: u64,
    size: u64,
    family: u32,
    blocks: u32,
    free_blocks: u32,
    reserved: u32 = 0,
    free_bytes: u64,
    largest_free: u64,
};

pub const block_free: u32 = 1;
pub const walk_live_only: u32 = 1;

pub const BlockRecord = extern struct {
    page: u64,
    addr: u64,
    size: u64,
    requested: u64,
    family: u32,
    site: u32,
    flags: u32,
    reserved: u32 = 0,
};

pub const BlockInfo = extern struct {
    size: u64,
    requested: u64,
    units: u64,
    family: u32,
    site: u32,
};

// The sizes lmm.h promises (x86-64 / aarch64 natural alignment).
comptime {
    std.debug.assert(@sizeOf(Config) == 24);
    std.debug.assert(@sizeOf(Stats) == 192);
    std.debug.assert(@offsetOf(Stats, "struct_size") == 16);
    std.debug.assert(@offsetOf(Stats, "munmap_count") == 184);
    std.debug.assert(@sizeOf(FamilyInfo) == 80);
    std.debug.assert(@sizeOf(PageInfo) == 48);
    std.debug.assert(@sizeOf(BlockRecord) == 48);
    std.debug.assert(@sizeOf(BlockInfo) == 32);
}

test "every error has a distinct status with a name and a message" {
    var seen = [_]bool{false} ** status_count;
    inline for (@typeInfo(Error).error_set.?) |e| {
        const s = fromError(@field(anyerror, e.name));
        try std.testing.expect(!seen[@intCast(@intFromEnum(s))]);
        seen[@intCast(@intFromEnum(s))] = true;
        try std.testing.expect(std.mem.startsWith(u8, s.name(), "LMM_E_"));
        try std.testing.expect(s.message().len > 8);
    }
}
