//! The free-block priority queue of a page family: an indexed binary max-heap
//! keyed by block size.
//!
//! ## Basic Design
//! Worst fit serves every request from the largest free block, so the queue
//! must give the maximum in O(1) and insert, remove-any and pop-max in
//! O(log n). An array heap does that with one pointer per free block; each free
//! block stores its own index in its first data word (`Block.queueIndex`),
//! which makes removal of an arbitrary block (a neighbour swallowed by
//! coalescing) O(log n) with no search. That word lives in the arena, where
//! a stale write can reach it, so `holds` verifies it against the slot before
//! the heap relies on it. Growth is the only step that can fail, so callers
//! reserve capacity (`ensureUnusedCapacity`) before they change anything, and
//! `insert` cannot fail.
//!
//! | operation | cost |
//! |---|---|
//! | max | O(1) |
//! | insert, remove, replace, update | O(log n) |
//! | ensureUnusedCapacity | amortised O(1) |

const std = @import("std");
const Block = @import("block.zig").Block;

const FreeQueue = @This();

/// One slot: the block and its size, kept side by side so that sifting
/// compares sizes without loading the blocks (each load would be a cache
/// miss on a large heap).
pub const Slot = struct { size: u64, block: *Block };

items: []Slot = &.{},
len: usize = 0,

pub fn deinit(q: *FreeQueue, gpa: std.mem.Allocator) void {
    gpa.free(q.items);
    q.* = .{};
}

/// Makes room for `n` more blocks. The only fallible operation.
pub fn ensureUnusedCapacity(q: *FreeQueue, gpa: std.mem.Allocator, n: usize) error{OutOfMemory}!void {
    const need = q.len + n;
    if (need <= q.items.len) return;
    const cap = @max(need, q.items.len * 2, 64);
    const grown = try gpa.alloc(Slot, cap);
    @memcpy(grown[0..q.len], q.items[0..q.len]);
    gpa.free(q.items);
    q.items = grown;
}

/// The largest free block, or null when the queue is empty.
pub inline fn max(q: *const FreeQueue) ?*Block {
    return if (q.len == 0) null else q.items[0].block;
}

/// Size of the largest free block (0 when empty), without touching it.
pub inline fn maxSize(q: *const FreeQueue) u64 {
    return if (q.len == 0) 0 else q.items[0].size;
}

/// True when `b` is in the queue at the index it records, with the size the
/// queue knows: what `remove`, `replace` and `update` rely on.
pub inline fn holds(q: *const FreeQueue, b: *const Block) bool {
    const i: usize = b.queueIndex();
    return i < q.len and q.items[i].block == b and q.items[i].size == b.size();
}

/// Adds `b` (capacity must have been reserved).
pub fn insert(q: *FreeQueue, b: *Block) void {
    std.debug.assert(q.len < q.items.len);
    q.len += 1;
    q.siftUp(q.len - 1, .{ .size = b.size(), .block = b });
}

/// Removes `b`, found through its recorded index (verified with `holds`).
pub fn remove(q: *FreeQueue, b: *Block) void {
    const i: usize = b.queueIndex();
    std.debug.assert(i < q.len and q.items[i].block == b);
    q.len -= 1;
    if (i == q.len) return;
    q.place(i, q.items[q.len]);
}

/// Puts `new` where `old` was (one sift instead of a remove and an insert).
pub fn replace(q: *FreeQueue, old: *Block, new: *Block) void {
    const i: usize = old.queueIndex();
    std.debug.assert(i < q.len and q.items[i].block == old);
    q.place(i, .{ .size = new.size(), .block = new });
}

/// Restores heap order after the size of `b` (in the queue) changed in place.
pub fn update(q: *FreeQueue, b: *Block) void {
    q.place(b.queueIndex(), .{ .size = b.size(), .block = b });
}

fn place(q: *FreeQueue, i: usize, s: Slot) void {
    if (i > 0 and q.items[(i - 1) / 2].size < s.size) q.siftUp(i, s) else q.siftDown(i, s);
}

fn siftUp(q: *FreeQueue, start: usize, s: Slot) void {
    var i = start;
    while (i > 0) {
        const parent = (i - 1) / 2;
        const p = q.items[parent];
        if (p.size >= s.size) break;
        q.items[i] = p;
        p.block.setQueueIndex(@intCast(i));
        i = parent;
    }
    q.items[i] = s;
    s.block.setQueueIndex(@intCast(i));
}

fn siftDown(q: *FreeQueue, start: usize, s: Slot) void {
    var i = start;
    while (true) {
        const l = 2 * i + 1;
        if (l >= q.len) break;
        const r = l + 1;
        const c = if (r < q.len and q.items[r].size > q.items[l].size) r else l;
        const child = q.items[c];
        if (child.size <= s.size) break;
        q.items[i] = child;
        child.block.setQueueIndex(@intCast(i));
        i = c;
    }
    q.items[i] = s;
    s.block.setQueueIndex(@intCast(i));
}

/// Checks heap order, the recorded indices and the kept sizes; returns the
/// first bad index.
pub fn firstViolation(q: *const FreeQueue) ?usize {
    for (q.items[0..q.len], 0..) |s, i| {
        if (s.block.queueIndex() != i or s.block.size() != s.size) return i;
        if (i > 0 and q.items[(i - 1) / 2].size < s.size) return i;
    }
    return null;
}

const testing = std.testing;

/// A block with room for its queue index (a header and one data word).
const TestBlock = struct {
    words: [4]u64 align(16),

    fn header(t: *TestBlock) *Block {
        return @ptrCast(&t.words);
    }
};

fn testBlocks(comptime n: usize) [n]TestBlock {
    var blocks: [n]TestBlock = undefined;
    for (&blocks) |*b| b.header().init(0, 0, .free);
    return blocks;
}

test "pop-max order is by decreasing size" {
    var blocks = testBlocks(100);
    var q: FreeQueue = .{};
    defer q.deinit(testing.allocator);
    try q.ensureUnusedCapacity(testing.allocator, blocks.len);
    var prng = std.Random.DefaultPrng.init(1);
    for (&blocks) |*b| {
        b.header().setSize(prng.random().uintLessThan(u64, 1000) * 16);
        q.insert(b.header());
        try testing.expect(q.firstViolation() == null);
    }
    var last: u64 = std.math.maxInt(u64);
    while (q.max()) |b| {
        try testing.expect(b.size() <= last);
        last = b.size();
        q.remove(b);
        try testing.expect(q.firstViolation() == null);
    }
}

test "remove-any keeps heap order and indices" {
    var blocks = testBlocks(257);
    var q: FreeQueue = .{};
    defer q.deinit(testing.allocator);
    try q.ensureUnusedCapacity(testing.allocator, blocks.len);
    for (&blocks, 0..) |*b, i| {
        b.header().setSize((i * 7919) % 509 * 8);
        q.insert(b.header());
    }
    var prng = std.Random.DefaultPrng.init(2);
    while (q.len > 0) {
        const victim = q.items[prng.random().uintLessThan(usize, q.len)].block;
        try testing.expect(q.holds(victim));
        q.remove(victim);
        try testing.expect(q.firstViolation() == null);
    }
}

test "update after a size change in either direction" {
    var blocks = testBlocks(50);
    var q: FreeQueue = .{};
    defer q.deinit(testing.allocator);
    try q.ensureUnusedCapacity(testing.allocator, blocks.len);
    for (&blocks, 0..) |*b, i| {
        b.header().setSize(i * 8);
        q.insert(b.header());
    }
    blocks[3].header().setSize(8000);
    q.update(blocks[3].header());
    try testing.expect(q.firstViolation() == null);
    try testing.expectEqual(blocks[3].header(), q.max().?);
    blocks[3].header().setSize(0);
    q.update(blocks[3].header());
    try testing.expectEqual(blocks[49].header(), q.max().?);
    try testing.expect(q.firstViolation() == null);
}

test "replace puts a smaller block in the slot of the maximum" {
    var blocks = testBlocks(40);
    var q: FreeQueue = .{};
    defer q.deinit(testing.allocator);
    try q.ensureUnusedCapacity(testing.allocator, blocks.len);
    for (blocks[0..39], 0..) |*b, i| {
        b.header().setSize(i * 16);
        q.insert(b.header());
    }
    blocks[39].header().setSize(8);
    q.replace(q.max().?, blocks[39].header());
    try testing.expectEqual(@as(u64, 37 * 16), q.maxSize());
    try testing.expect(q.firstViolation() == null);
}

test "growth failure leaves the queue as it was" {
    var blocks = testBlocks(64);
    var q: FreeQueue = .{};
    defer q.deinit(testing.allocator);
    try q.ensureUnusedCapacity(testing.allocator, 64);
    for (&blocks) |*b| q.insert(b.header());
    var failing = testing.FailingAllocator.init(testing.allocator, .{ .fail_index = 0 });
    try testing.expectError(error.OutOfMemory, q.ensureUnusedCapacity(failing.allocator(), 1));
    try testing.expectEqual(@as(usize, 64), q.len);
    try testing.expect(q.firstViolation() == null);
}
