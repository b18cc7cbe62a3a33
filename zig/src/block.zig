//! A meta block: the 16-byte header in front of every data block of a VM page
//! (`Block`, an extern struct: its layout is part of the ABI).
//!
//! ## Basic Design
//! Four 32-bit words (readable as such from TypeScript):
//!
//! | word    | bits   | meaning                                                    |
//! |---------|--------|------------------------------------------------------------|
//! | `size`  | 0..31  | data bytes / 8 (0: the one block of a large page)          |
//! | `link`  | 0..26  | distance to the previous header / 8 (0: first block)       |
//! |         | 27..28 | zero                                                       |
//! |         | 29..31 | `State`                                                    |
//! | `tail`  | 0..20  | allocation site id (occupied blocks)                       |
//! |         | 21     | `held`: a cached block the TypeScript tier handed out      |
//! |         | 22..31 | slack: data bytes minus requested bytes                    |
//! | `check` | 0..31  | keyed hash of the address and the words (`seal.zig`)       |
//!
//! The blocks of a page form a doubly-linked chain in address order: the next
//! header follows the data (`next == data + size` unless the data reaches the
//! page's end) and `link` leads back to the previous one. A free block keeps
//! its index in the family's free queue in its own first data word; the
//! queue's slot names the block back, so a damaged index is caught before it
//! is used. The requested size is `size - slack`, exact to the byte.
//!
//! `check` covers the three other words and the address, so a write past the
//! end of a block — which lands in the next header and changes `size` first —
//! is found by `free` and by `check`. One exception: a `cached` block (held
//! by a front cache, see `front.zig`) is sealed without its `held` bit and
//! slack, which the Deno module's allocation fast path flips in place when it
//! hands the block out and takes it back — without recomputing a hash.
//! Those two fields are advisory (the engine never follows them) and an
//! overflow still changes `size` first. A header that disappears when its block
//! coalesces into the previous one is left behind as `dead` (still sealed):
//! a second free of that address is then a double free, not an unknown
//! address. Zeroing on allocation wipes such leftovers.

const std = @import("std");
const seal = @import("seal.zig");

pub const Block = extern struct {
    size_g: u32,
    link: u32,
    tail: u32,
    check: u32,

    /// Size and position granule: sizes and distances are multiples of it.
    pub const granule: usize = 8;
    /// Size of a meta block.
    pub const header_size: usize = @sizeOf(Block);
    /// Largest distance or size in granules a regular page can need (1 GiB).
    pub const max_granules: u32 = 1 << 27;
    /// Largest slack a block can record.
    pub const max_slack: u32 = (1 << 10) - 1;
    /// Site ids that fit in `tail`.
    pub const site_limit: u32 = 1 << 21;
    /// `tail` bit of a cached block handed out by the TypeScript tier.
    pub const held_bit: u32 = 1 << 21;

    pub const State = enum(u3) { free = 1, occupied = 2, dead = 3, cached = 4 };

    comptime {
        std.debug.assert(header_size == 16);
    }

    const link_mask: u32 = max_granules - 1;
    const state_shift = 29;
    const slack_shift = 22;

    /// The header of the data at `addr`.
    pub inline fn fromData(addr: usize) *Block {
        return @ptrFromInt(addr - header_size);
    }

    pub inline fn dataAddr(b: *const Block) usize {
        return @intFromPtr(b) + header_size;
    }

    pub inline fn data(b: *const Block) [*]u8 {
        return @ptrFromInt(b.dataAddr());
    }

    /// Data bytes (regular blocks; a large page's block says 0 and its page knows).
    pub inline fn size(b: *const Block) usize {
        return @as(usize, b.size_g) * granule;
    }

    /// Address one past the data (the next header, unless the page ends there).
    pub inline fn endAddr(b: *const Block) usize {
        return b.dataAddr() + b.size();
    }

    pub inline fn prevDistance(b: *const Block) usize {
        return @as(usize, b.link & link_mask) * granule;
    }

    /// The previous block of the chain, or null for the first.
    pub inline fn prev(b: *const Block) ?*Block {
        const d = b.prevDistance();
        return if (d == 0) null else @ptrFromInt(@intFromPtr(b) - d);
    }

    /// The next block, or null when the data reaches `page_end`.
    pub inline fn next(b: *const Block, page_end: usize) ?*Block {
        const e = b.endAddr();
        return if (e >= page_end) null else @ptrFromInt(e);
    }

    pub inline fn state(b: *const Block) ?State {
        if (b.link & (3 << 27) != 0) return null;
        const v = b.link >> state_shift;
        return if (v >= 1 and v <= 4) @enumFromInt(v) else null;
    }

    pub inline fn isFree(b: *const Block) bool {
        return b.link >> state_shift == @intFromEnum(State.free);
    }

    /// A cached block that the TypeScript tier handed to the application.
    pub inline fn isHeld(b: *const Block) bool {
        return b.loadTail() & held_bit != 0;
    }

    pub inline fn site(b: *const Block) u32 {
        return b.loadTail() & (site_limit - 1);
    }

    pub inline fn slack(b: *const Block) u32 {
        return b.loadTail() >> slack_shift;
    }

    /// Bytes the application asked for (regular occupied blocks).
    pub inline fn requested(b: *const Block) usize {
        return b.size() - b.slack();
    }

    /// Writes a whole header (then `seal` it).
    pub inline fn init(b: *Block, size_bytes: usize, prev_distance: usize, s: State) void {
        b.* = .{
            .size_g = @intCast(size_bytes / granule),
            .link = @as(u32, @intCast(prev_distance / granule)) | (@as(u32, @intFromEnum(s)) << state_shift),
            .tail = 0,
            .check = 0,
        };
    }

    pub inline fn setSize(b: *Block, size_bytes: usize) void {
        b.size_g = @intCast(size_bytes / granule);
    }

    pub inline fn setPrevDistance(b: *Block, d: usize) void {
        b.link = (b.link & ~link_mask) | @as(u32, @intCast(d / granule));
    }

    pub inline fn setState(b: *Block, s: State) void {
        b.link = (b.link & link_mask) | (@as(u32, @intFromEnum(s)) << state_shift);
    }

    /// Records who asked and how much of the data they asked for.
    pub inline fn setUse(b: *Block, site_id: u32, slack_bytes: usize) void {
        b.tail = site_id | (@as(u32, @intCast(slack_bytes)) << slack_shift);
    }

    /// The free queue index a free block keeps in its first data word.
    pub inline fn queueIndex(b: *const Block) u32 {
        return @as(*const u32, @ptrFromInt(b.dataAddr())).*;
    }

    pub inline fn setQueueIndex(b: *Block, i: u32) void {
        @as(*u32, @ptrFromInt(b.dataAddr())).* = i;
    }

    inline fn hash(b: *const Block, key: u32, tail: u32) u32 {
        var h = seal.start(key, @intFromPtr(b));
        h = seal.mix(h, b.size_g);
        h = seal.mix(h, b.link);
        // A cached block's held bit and slack are left out (see the top).
        const cached = b.link >> state_shift == @intFromEnum(State.cached);
        h = seal.mix(h, if (cached) tail & (site_limit - 1) else tail);
        return seal.finish(h);
    }

    /// `tail`, read once: a thread cache may flip a cached block's held bit
    /// and slack while another thread reads the header (`tcache.zig`).
    pub inline fn loadTail(b: *const Block) u32 {
        return @atomicLoad(u32, &b.tail, .monotonic);
    }

    /// Recomputes the integrity check after the header changed.
    pub inline fn sealWith(b: *Block, key: u32) void {
        b.check = b.hash(key, b.loadTail());
    }

    /// True when the header is intact: its check matches and its state is known.
    pub inline fn valid(b: *const Block, key: u32) bool {
        return b.validWithTail(key, b.loadTail());
    }

    /// `valid` with `tail` already read.
    pub inline fn validWithTail(b: *const Block, key: u32, tail: u32) bool {
        return b.check == b.hash(key, tail) and b.state() != null;
    }
};

test "sealing makes a header valid and any changed word invalid" {
    var buf: [4]Block align(16) = undefined;
    const b = &buf[1];
    b.init(64, 32, .free);
    b.sealWith(42);
    try std.testing.expect(b.valid(42));
    try std.testing.expect(!b.valid(43));
    b.setSize(80);
    try std.testing.expect(!b.valid(42));
    b.setSize(64);
    b.setUse(3, 5);
    try std.testing.expect(!b.valid(42));
    b.setUse(0, 0);
    try std.testing.expect(b.valid(42));
    b.setPrevDistance(48);
    try std.testing.expect(!b.valid(42));
}

test "a header copied to another address is not valid there" {
    var buf: [2]Block align(16) = undefined;
    buf[0].init(64, 0, .occupied);
    buf[0].sealWith(7);
    buf[1] = buf[0];
    try std.testing.expect(buf[0].valid(7));
    try std.testing.expect(!buf[1].valid(7));
}

test "a cached block's held bit and slack change without a new seal; its site does not" {
    var buf: [2]Block align(16) = undefined;
    const b = &buf[0];
    b.init(32, 0, .cached);
    b.sealWith(5);
    b.tail = Block.held_bit | (24 << 22);
    try std.testing.expect(b.valid(5) and b.isHeld());
    try std.testing.expectEqual(@as(usize, 8), b.requested());
    b.tail |= 3; // a site
    try std.testing.expect(!b.valid(5));
    b.tail &= ~@as(u32, 3);
    b.setState(.occupied); // any other state seals every bit
    b.sealWith(5);
    b.tail ^= Block.held_bit;
    try std.testing.expect(!b.valid(5));
}

test "fields round-trip through their bits" {
    var b: Block = undefined;
    b.init(Block.granule * (Block.max_granules - 1), Block.granule * (Block.max_granules - 1), .cached);
    try std.testing.expectEqual(Block.State.cached, b.state().?);
    try std.testing.expectEqual(Block.granule * (Block.max_granules - 1), b.prevDistance());
    b.setUse(Block.site_limit - 1, Block.max_slack);
    try std.testing.expectEqual(Block.site_limit - 1, b.site());
    try std.testing.expectEqual(Block.max_slack, b.slack());
    try std.testing.expectEqual(b.size() - Block.max_slack, b.requested());
    b.setState(.dead);
    try std.testing.expectEqual(Block.State.dead, b.state().?);
    try std.testing.expectEqual(Block.granule * (Block.max_granules - 1), b.prevDistance());
}

test "unknown states and stray bits read as no state" {
    var b: Block = undefined;
    b.init(16, 0, .free);
    b.link |= 1 << 27;
    try std.testing.expect(b.state() == null);
    b.init(16, 0, .free);
    b.link = (b.link & 0x1FFF_FFFF) | (7 << 29);
    try std.testing.expect(b.state() == null);
    b.link = 0;
    try std.testing.expect(b.state() == null);
}
