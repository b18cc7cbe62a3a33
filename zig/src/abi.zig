//! The C ABI's types: status codes, constants and the extern structs of
//! `include/lmm.h`, with the one mapping from engine errors to status codes.
//!
//! This file is the one source of the ABI: `gen_abi.zig` writes from it the
//! `#define` block of `lmm.h` (with a `_Static_assert` on every struct field's
//! offset) and the Deno module's tables (`ffi/native/abi.ts`); a test fails
//! when the committed copies differ from a fresh generation.

const std = @import("std");
const Heap = @import("Heap.zig");
const Block = @import("block.zig").Block;
const Page = @import("page.zig").Page;
const Family = @import("Family.zig");
const Sites = @import("Sites.zig");
const front = @import("front.zig");

pub const version: u32 = 2;

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
    poisoned = 20,
    syscall = 21,

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
            .poisoned => "LMM_E_POISONED",
            .syscall => "LMM_E_SYSCALL",
        };
    }

    pub fn message(s: Status) [:0]const u8 {
        return switch (s) {
            .ok => "success",
            .nomem => "the kernel refused memory or address space",
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
            .corrupted => "a meta block or page header failed its integrity check: memory was overwritten (the heap is poisoned now)",
            .bad_config => "a bad heap configuration: page size not a power of two from 4 KiB to 1 GiB, reserve above 64 TiB, an unknown flag, or a wrong size or version",
            .buffer_too_small => "the output buffer is too small",
            .invalid_arg => "an invalid argument (NULL output, unknown site or size)",
            .bad_address => "an address that is not a whole number in [1, 2^53)",
            .site_limit => "the heap's allocation-site table is full",
            .poisoned => "the heap found damage earlier and refuses to touch its memory (lmm_check says what)",
            .syscall => "the kernel refused a system call (the heap's accounting is still exact)",
        };
    }
};

pub const status_count = @typeInfo(Status).@"enum".fields.len;

/// Engine and conversion errors that the ABI reports.
pub const Error = Heap.Error || error{ BadHandle, Destroyed, BadSize, BadAddress, BufferTooSmall, BadConfig, Syscall };

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
        error.Poisoned => .poisoned,
        error.Syscall => .syscall,
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
    reserve: u64,
};

/// `lmm_config_t.flags`: the caller guarantees that one thread at a time uses
/// the heap, so calls skip its lock.
pub const heap_no_lock: u32 = 1;
/// `lmm_config_t.flags`: destroying the heap leaves its arenas mapped (their
/// memory given back); the caller unmaps them with `lmm_arena_unmap`.
pub const heap_keep_arenas: u32 = 2;
/// `lmm_config_t.flags`: the classic heap: no front caches, no size classes,
/// no idle pages.
pub const heap_exact: u32 = 4;
pub const heap_no_thread_cache: u32 = 8;

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
    pages_taken: u64 = 0,
    pages_returned: u64 = 0,
    reserved_bytes: u64 = 0,
    arenas: u64 = 0,
    decommit_failures: u64 = 0,
    alignment: u32 = 0,
    poisoned: u32 = 0,
};

/// What the Deno module needs to read the heap's memory itself.
pub const HeapInfo = extern struct {
    size: u32 = @sizeOf(HeapInfo),
    version: u32 = version,
    key: u32,
    page_size: u32,
    page_header_size: u32,
    meta_block_size: u32,
    arenas: u32,
    flags: u32,
    /// Threads with a cache of this heap now (`tcache.zig`).
    thread_caches: u32,
    /// Caches taken back from threads that had exited, since the heap was made.
    thread_cache_reclaims: u32,
};

pub const ArenaInfo = extern struct {
    base: u64,
    len: u64,
};

pub const FamilyInfo = extern struct {
    id: u32,
    name_len: u32,
    struct_size: u64,
    /// Block size its front cache serves (0: none).
    unit: u32,
    /// A size class of untyped memory: its block size; 0 for other families.
    class_size: u32,
    alignment: u32,
    reserved: u32 = 0,
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
pub const block_cached: u32 = 2;
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

/// A named constant of the ABI (`LMM_<name>` in C, `<name>` in TypeScript).
pub const Constant = struct { name: []const u8, value: u64, doc: []const u8 };

pub const constants = [_]Constant{
    .{ .name = "NAME_MAX", .value = Family.name_max, .doc = "longest family name in bytes (no NUL)" },
    .{ .name = "MAX_BYTES", .value = Heap.max_bytes, .doc = "largest single request: 64 TiB" },
    .{ .name = "ALL_FAMILIES", .value = 0xFFFF_FFFF, .doc = "family filter meaning every family" },
    .{ .name = "BYTES_FAMILY", .value = Heap.bytes_family, .doc = "the untyped family \"bytes\" (struct size 1)" },
    .{ .name = "DEFAULT_PAGE_SIZE", .value = Heap.default_page_size, .doc = "VM page size unless configured" },
    .{ .name = "DEFAULT_PAGE_CACHE", .value = Heap.default_page_cache, .doc = "idle pages kept unless configured" },
    .{ .name = "DEFAULT_RESERVE", .value = Heap.default_reserve, .doc = "address space of a heap's first arena" },
    .{ .name = "MAX_ARENAS", .value = Heap.max_arenas, .doc = "arenas one heap can have" },
    .{ .name = "ALIGNMENT", .value = 16, .doc = "alignment of untyped blocks and of families whose size is a multiple of 16 (others: 8)" },
    .{ .name = "GRANULE", .value = Block.granule, .doc = "block sizes and positions are multiples of it" },
    .{ .name = "META_BLOCK_SIZE", .value = Block.header_size, .doc = "bytes of the meta block in front of every data block" },
    .{ .name = "PAGE_HEADER_SIZE", .value = Page.header_size, .doc = "bytes at the start of every VM page" },
    .{ .name = "SITE_LIMIT", .value = Sites.limit, .doc = "allocation sites one heap can record" },
    .{ .name = "HEAP_NO_LOCK", .value = heap_no_lock, .doc = "lmm_config_t.flags: one thread at a time uses the heap; calls skip its lock" },
    .{ .name = "HEAP_KEEP_ARENAS", .value = heap_keep_arenas, .doc = "lmm_config_t.flags: destroy leaves the arenas mapped for their owner to unmap" },
    .{ .name = "HEAP_EXACT", .value = heap_exact, .doc = "lmm_config_t.flags: the classic heap: no front caches, no size classes, no idle pages" },
    .{ .name = "HEAP_NO_THREAD_CACHE", .value = heap_no_thread_cache, .doc = "lmm_config_t.flags: no per-thread caches: every call of a locked heap takes its lock" },
    .{ .name = "BLOCK_CACHED", .value = block_cached, .doc = "lmm_block_record_t.flags: a free block waiting in a front cache" },
    .{ .name = "HELD_BIT", .value = Block.held_bit, .doc = "meta block tail bit: a cached block the TypeScript tier handed out" },
    .{ .name = "MAX_CLASS", .value = front.max_class, .doc = "largest untyped request served by a size class" },
    .{ .name = "BLOCK_FREE", .value = block_free, .doc = "lmm_block_record_t.flags: the block is free" },
    .{ .name = "WALK_LIVE_ONLY", .value = walk_live_only, .doc = "lmm_blocks() flag: list occupied blocks only" },
    .{ .name = "PAGE_FAMILY_OFFSET", .value = @offsetOf(Page, "family"), .doc = "offset of a page header's family id (u32)" },
    .{ .name = "PAGE_REQUESTED_OFFSET", .value = @offsetOf(Page, "requested"), .doc = "offset of a large page's requested bytes (u64)" },
    .{ .name = "STATE_FREE", .value = @intFromEnum(Block.State.free), .doc = "meta block state: free" },
    .{ .name = "STATE_OCCUPIED", .value = @intFromEnum(Block.State.occupied), .doc = "meta block state: occupied" },
    .{ .name = "STATE_DEAD", .value = @intFromEnum(Block.State.dead), .doc = "meta block state: merged away" },
    .{ .name = "STATE_CACHED", .value = @intFromEnum(Block.State.cached), .doc = "meta block state: in a front cache (or held by the TypeScript tier)" },
};

/// The extern structs, by their C names.
pub const Struct = struct { c_name: []const u8, ts_name: []const u8, T: type };

pub const structs = [_]Struct{
    .{ .c_name = "lmm_config_t", .ts_name = "Config", .T = Config },
    .{ .c_name = "lmm_stats_t", .ts_name = "Stats", .T = Stats },
    .{ .c_name = "lmm_heap_info_t", .ts_name = "HeapInfo", .T = HeapInfo },
    .{ .c_name = "lmm_arena_info_t", .ts_name = "ArenaInfo", .T = ArenaInfo },
    .{ .c_name = "lmm_family_info_t", .ts_name = "FamilyInfo", .T = FamilyInfo },
    .{ .c_name = "lmm_page_info_t", .ts_name = "PageInfo", .T = PageInfo },
    .{ .c_name = "lmm_block_record_t", .ts_name = "BlockRecord", .T = BlockRecord },
    .{ .c_name = "lmm_block_info_t", .ts_name = "BlockInfo", .T = BlockInfo },
    .{ .c_name = "lmm_front_delta_t", .ts_name = "FrontDelta", .T = front.Delta },
};

// The sizes lmm.h promises (x86-64 / aarch64 natural alignment).
comptime {
    std.debug.assert(@sizeOf(Config) == 32);
    std.debug.assert(@sizeOf(Stats) == 224);
    std.debug.assert(@offsetOf(Stats, "struct_size") == 16);
    std.debug.assert(@offsetOf(Stats, "pages_returned") == 184);
    std.debug.assert(@sizeOf(HeapInfo) == 40);
    std.debug.assert(@sizeOf(ArenaInfo) == 16);
    std.debug.assert(@sizeOf(FamilyInfo) == 96);
    std.debug.assert(@sizeOf(front.Delta) == 56);
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
