//! A meta block: the 48-byte header in front of every data block of a VM page.
//!
//! ## Basic Design
//! The blocks of a page form a doubly-linked chain in address order (`prev`,
//! `next`); a block's data starts right after its header and is `size` bytes
//! long, so `next == data + size` whenever there is a next block. A free block
//! records in `aux` its index in its family's free queue; an occupied block
//! records there the id of its allocation site.
//!
//! Every header carries `check`, a keyed hash of its own address and of every
//! field but `aux`. A write past the end of a block lands in the next header
//! and changes `size` first, so `free` and `check` notice it. `aux` is left out
//! because the free queue moves blocks at every sift; the invariant walker
//! checks it directly (queue[aux] == block).
//!
//! A header that disappears when its block coalesces into the previous one is
//! left behind as `dead` (with a valid check): a second free of that address
//! then says "double free" instead of "not owned". Zeroing on allocation wipes
//! such leftovers.

const std = @import("std");

const Block = @This();

/// Data bytes that follow the header (a multiple of `alignment`).
size: u64,
/// Previous block in the page, or null for the first.
prev: ?*Block,
/// Next block in the page, or null for the last.
next: ?*Block,
/// Free: index in the family's free queue. Occupied: allocation site id.
aux: u32,
/// `magic` in the upper 24 bits, a `State` in the low 8.
flags: u32,
/// Bytes the application asked for (0 when free).
requested: u64,
/// Keyed hash of the header; see `seal`.
check: u64,

/// Data alignment and size granule.
pub const alignment: usize = 16;
/// Size of a meta block.
pub const header_size: usize = @sizeOf(Block);
/// Smallest data block that a split may leave behind.
pub const min_data: usize = alignment;

const magic: u32 = 0x4C4D4D00; // "LMM\0"

pub const State = enum(u8) { free = 1, occupied = 2, dead = 3 };

comptime {
    std.debug.assert(header_size == 48);
    std.debug.assert(header_size % alignment == 0);
}

/// The header of the data at `data`.
pub inline fn fromData(addr: usize) *Block {
    return @ptrFromInt(addr - header_size);
}

pub inline fn dataAddr(b: *const Block) usize {
    return @intFromPtr(b) + header_size;
}

pub inline fn data(b: *const Block) [*]u8 {
    return @ptrFromInt(b.dataAddr());
}

/// Address one past the block's data.
pub inline fn endAddr(b: *const Block) usize {
    return b.dataAddr() + b.size;
}

pub inline fn state(b: *const Block) ?State {
    if (b.flags & 0xFFFF_FF00 != magic) return null;
    return std.meta.intToEnum(State, @as(u8, @truncate(b.flags))) catch null;
}

pub inline fn isFree(b: *const Block) bool {
    return b.flags == magic | @intFromEnum(State.free);
}

pub inline fn setState(b: *Block, s: State) void {
    b.flags = magic | @intFromEnum(s);
}

fn hash(b: *const Block, secret: u64) u64 {
    // Cheap on purpose (it runs several times per alloc and free): every
    // field enters through a bijection, so changing any one field — what an
    // overflow from the previous block does first, to `size` — changes the
    // result; the secret makes a valid header unforgeable by accident.
    const k: u64 = 0x9E3779B97F4A7C15;
    const x = b.size ^ std.math.rotl(u64, @intFromPtr(b.prev), 17) ^ std.math.rotl(u64, @intFromPtr(b.next), 35) ^
        (b.requested *% 0xC2B2AE3D27D4EB4F) ^ (@as(u64, b.flags) << 16);
    return ((x ^ @intFromPtr(b)) *% k) ^ secret;
}

/// Recomputes the integrity check after the header changed.
pub inline fn seal(b: *Block, secret: u64) void {
    b.check = b.hash(secret);
}

/// True when the header is intact (its check matches and its magic is there).
pub inline fn valid(b: *const Block, secret: u64) bool {
    return b.check == b.hash(secret) and b.state() != null;
}

test "seal makes a header valid and any changed field invalid" {
    var buf: [2]Block align(16) = undefined;
    const b = &buf[0];
    b.* = .{ .size = 64, .prev = null, .next = null, .aux = 0, .flags = 0, .requested = 0, .check = 0 };
    b.setState(.free);
    b.seal(42);
    try std.testing.expect(b.valid(42));
    try std.testing.expect(!b.valid(43));
    b.size += 16;
    try std.testing.expect(!b.valid(42));
    b.size -= 16;
    b.aux = 99; // not covered: the free queue moves it
    try std.testing.expect(b.valid(42));
    b.requested = 1;
    try std.testing.expect(!b.valid(42));
}

test "a header copied to another address is not valid there" {
    var buf: [2]Block align(16) = undefined;
    buf[0] = .{ .size = 64, .prev = null, .next = null, .aux = 0, .flags = 0, .requested = 0, .check = 0 };
    buf[0].setState(.occupied);
    buf[0].seal(7);
    buf[1] = buf[0];
    try std.testing.expect(buf[0].valid(7));
    try std.testing.expect(!buf[1].valid(7));
}

test "state reads only known states with the magic" {
    var b: Block = undefined;
    b.flags = 0x12345601;
    try std.testing.expect(b.state() == null);
    b.setState(.dead);
    try std.testing.expectEqual(State.dead, b.state().?);
    b.flags = magic | 9;
    try std.testing.expect(b.state() == null);
}
