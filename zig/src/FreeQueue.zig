//! The free-block priority queue of a page family: an indexed binary max-heap
//! keyed by block size.
//!
//! ## Basic Design
//! Worst fit serves every request from the largest free block, so the queue
//! must give the maximum in O(1) and insert, remove-any and pop-max in
//! O(log n). An array heap does that with one pointer per free block; each free
//! block stores its own index in `Block.aux`, which makes removal of an
//! arbitrary block (a neighbour swallowed by coalescing) O(log n) with no
//! search. Growth is the only step that can fail, so callers reserve capacity
//! (`ensureUnusedCapacity`) before they change anything, and `insert` cannot
//! fail.
//!
//! | operation | cost |
//! |---|---|
//! | max | O(1) |
//! | insert, remove, replace, update | O(log n) |
//! | ensureUnusedCapacity | amortised O(1) |

const std = @import("std");
const Block = @import("Block.zig");

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

/// Adds `b` (capacity must have been reserved).
pub fn insert(q: *FreeQueue, b: *Block) void {
    std.debug.assert(q.len < q.items.len);
    q.len += 1;
    q.siftUp(q.len - 1, .{ .size = b.size, .block = b });
}

/// Removes `b`, found through its recorded index.
pub fn remove(q: *FreeQueue, b: *Block) void {
    const i: usize = b.aux;
    std.debug.assert(i < q.len and q.items[i].block == b);
    q.len -= 1;
    if (i == q.len) return;
    q.place(i, q.items[q.len]);
}

/// Puts `new` where `old` was (one sift instead of a remove and an insert).
pub fn replace(q: *FreeQueue, old: *Block, new: *Block) void {
    const i: usize = old.aux;
    std.debug.assert(i < q.len and q.items[i].block == old);
    q.place(i, .{ .size = new.size, .block = new });
}

/// Restores heap order after `b.size` changed in place.
pub fn update(q: *FreeQueue, b: *Block) void {
    q.place(b.aux, .{ .size = b.size, .block = b });
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
        p.block.aux = @intCast(i);
        i = parent;
    }
    q.items[i] = s;
    s.block.aux = @intCast(i);
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
        child.block.aux = @intCast(i);
        i = c;
    }
    q.items[i] = s;
    s.block.aux = @intCast(i);
}

/// Checks heap order, the recorded indices and the kept sizes; returns the
/// first bad index.
pub fn firstViolation(q: *const FreeQueue) ?usize {
    for (q.items[0..q.len], 0..) |s, i| {
        if (s.block.aux != i or s.block.size != s.size) return i;
        if (i > 0 and q.items[(i - 1) / 2].size < s.size) return i;
    }
    return null;
}

const testing = std.testing;

fn testBlocks(comptime n: usize) [n]Block {
    var blocks: [n]Block = undefined;
    for (&blocks) |*b| b.* = .{ .size = 0, .prev = null, .next = null, .aux = 0, .flags = 0, .requested = 0, .check = 0 };
    return blocks;
}

test "pop-max order is by decreasing size" {
    var blocks = testBlocks(100);
    var q: FreeQueue = .{};
    defer q.deinit(testing.allocator);
    try q.ensureUnusedCapacity(testing.allocator, blocks.len);
    var prng = std.Random.DefaultPrng.init(1);
    for (&blocks) |*b| {
        b.size = prng.random().uintLessThan(u64, 1000) * 16;
        q.insert(b);
        try testing.expect(q.firstViolation() == null);
    }
    var last: u64 = std.math.maxInt(u64);
    while (q.max()) |b| {
        try testing.expect(b.size <= last);
        last = b.size;
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
        b.size = (i * 7919) % 509;
        q.insert(b);
    }
    var prng = std.Random.DefaultPrng.init(2);
    while (q.len > 0) {
        const victim = q.items[prng.random().uintLessThan(usize, q.len)].block;
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
        b.size = i;
        q.insert(b);
    }
    blocks[3].size = 1000;
    q.update(&blocks[3]);
    try testing.expect(q.firstViolation() == null);
    try testing.expectEqual(&blocks[3], q.max().?);
    blocks[3].size = 0;
    q.update(&blocks[3]);
    try testing.expectEqual(&blocks[49], q.max().?);
    try testing.expect(q.firstViolation() == null);
}

test "replace puts a smaller block in the slot of the maximum" {
    var blocks = testBlocks(40);
    var q: FreeQueue = .{};
    defer q.deinit(testing.allocator);
    try q.ensureUnusedCapacity(testing.allocator, blocks.len);
    for (blocks[0..39], 0..) |*b, i| {
        b.size = i * 16;
        q.insert(b);
    }
    blocks[39].size = 5;
    q.replace(q.max().?, &blocks[39]);
    try testing.expectEqual(@as(u64, 37 * 16), q.maxSize());
    try testing.expect(q.firstViolation() == null);
}

test "growth failure leaves the queue as it was" {
    var blocks = testBlocks(64);
    var q: FreeQueue = .{};
    defer q.deinit(testing.allocator);
    try q.ensureUnusedCapacity(testing.allocator, 64);
    for (&blocks) |*b| q.insert(b);
    var failing = testing.FailingAllocator.init(testing.allocator, .{ .fail_index = 0 });
    try testing.expectError(error.OutOfMemory, q.ensureUnusedCapacity(failing.allocator(), 1));
    try testing.expectEqual(@as(usize, 64), q.len);
    try testing.expect(q.firstViolation() == null);
}
