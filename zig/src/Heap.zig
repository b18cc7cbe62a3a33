//! A heap: a set of page families and their VM pages, with worst-fit
//! allocation, coalescing free and page return.
//!
//! ## Basic Design
//! - **Allocation** (`alloc`): the family's largest free block (its free
//!   queue's maximum) serves the request if it is big enough — worst fit —
//!   otherwise a new VM page is mapped (or taken from the heap's small cache of
//!   empty pages). The block is split when the remainder can hold a meta block
//!   and `Block.min_data` bytes; a smaller remainder stays in the block and is
//!   counted as hard internal fragmentation. Memory is handed out zeroed; a
//!   page records how far it has ever been written (`dirty_end`) so that fresh
//!   kernel pages are not zeroed twice.
//! - **Free** (`free`): the address is resolved without touching memory the
//!   heap does not own (the page table answers first), the block and both
//!   neighbours are verified, then the block coalesces with free neighbours.
//!   A page whose only block is free goes back to the kernel at once, unless
//!   the heap keeps it idle: up to `cache_limit` empty pages stay where they
//!   are (in their family, their block in its queue), so a family that
//!   hovers around a page boundary does not mmap/munmap on every call, and
//!   any other family that needs a page takes an idle one before mapping.
//!   Large pages (up to `max_idle_large`) can be kept idle too, for their own
//!   family: a program that allocates and frees a 1 MiB buffer in a loop
//!   then maps it once, not once per loop.
//! - **Failure atomicity**: every operation validates and reserves what it
//!   needs (queue and page-table capacity, the page itself) before its first
//!   change, so a failed call leaves the heap exactly as it was.
//! - **Threads**: the C ABI takes `mutex` around every call (unless the heap
//!   was made with `lock = false`); nothing here is global, so heaps are
//!   independent.
//! - **Costs**: alloc and free are O(log n) in the family's free blocks plus
//!   O(1) hashing; nothing scans a page or a list on a successful path. The
//!   error paths (classifying a bad address) walk one page.

const std = @import("std");
const os = @import("os.zig");
const Block = @import("Block.zig");
const Page = @import("Page.zig");
const Family = @import("Family.zig");
const PageTable = @import("PageTable.zig");
const Sites = @import("Sites.zig");

const Heap = @This();

/// Metadata (queues, tables, family chunks) comes from the kernel too.
pub const gpa = std.heap.page_allocator;

pub const Error = error{
    OutOfMemory,
    UnknownFamily,
    DuplicateName,
    NameTooLong,
    BadName,
    ZeroSize,
    Overflow,
    NotOwned,
    Interior,
    DoubleFree,
    Corrupted,
    InvalidArg,
    SiteLimit,
};

pub const Config = struct {
    /// VM page size: a power of two from 4 KiB to 1 GiB. Larger pages mean
    /// fewer mmap calls and less header overhead per page, more memory held by
    /// a family that uses little.
    page_size: usize = default_page_size,
    /// Empty VM pages kept (idle) for reuse by any family instead of going
    /// back to the kernel at once. 0 is the classic behaviour (munmap as soon
    /// as a page is empty); a few pages spare an mmap/munmap pair per
    /// alloc/free when a family's usage hovers around a page boundary.
    page_cache: u32 = default_page_cache,
    /// Take `mutex` around every C ABI call. Off only when the caller
    /// guarantees one thread at a time (saves two atomic operations a call).
    lock: bool = true,
};

pub const default_page_size: usize = 64 * 1024;
pub const default_page_cache: u32 = 4;
/// Largest page kept idle (bigger ones go back to the kernel at once).
pub const max_idle_large: usize = 32 << 20;
pub const min_page_size: usize = os.os_page;
pub const max_page_size: usize = 1 << 30;
/// Largest single request (64 TiB): far above any real mapping, far below overflow.
pub const max_bytes: u64 = 1 << 46;
/// The untyped family for raw byte requests.
pub const bytes_family: u32 = 0;

const live_magic: u64 = 0x4C4D4D4845415031; // "LMMHEAP1"
const dead_magic: u64 = 0x4C4D4D4445414431; // "LMMDEAD1"
const chunk_len = 64;

magic: u64,
mutex: std.Thread.Mutex = .{},
locked: bool,
secret: u64,
page_size: usize,
unit_shift: u6,
cache_limit: u32,
/// Idle pages: empty, kept in their family for reuse by any family, linked
/// through `Page.idle_prev/idle_next`.
idle: ?*Page = null,
cached: u32 = 0,
/// Families in fixed chunks, so a `*Family` stays valid as more register.
chunks: std.ArrayListUnmanaged(*[chunk_len]Family) = .{},
family_count: u32 = 0,
names: std.StringHashMapUnmanaged(u32) = .{},
sites: Sites,
table: PageTable = .{},
app_bytes: u64 = 0,
peak_app_bytes: u64 = 0,
mmap_count: u64 = 0,
munmap_count: u64 = 0,
/// The last pages returned to the kernel: a stale address into one of them is
/// reported as a double free rather than as an address never given out.
released: [released_len]PageTable.Range = undefined,
released_count: u64 = 0,

const released_len = 32;

comptime {
    std.debug.assert(@sizeOf(Heap) <= os.os_page);
}

pub const CreateError = error{ OutOfMemory, BadConfig };

/// Makes a heap with the "bytes" family registered as id 0.
pub fn create(config: Config) CreateError!*Heap {
    const ps = config.page_size;
    if (ps < min_page_size or !std.math.isPowerOfTwo(ps) or ps > max_page_size) return error.BadConfig;
    const mem = os.map(os.os_page, os.os_page) orelse return error.OutOfMemory;
    const h: *Heap = @ptrCast(mem);
    h.* = .{
        .magic = live_magic,
        .secret = os.randomSeed(@intFromPtr(mem)),
        .page_size = ps,
        .unit_shift = @intCast(std.math.log2_int(usize, ps)),
        .cache_limit = config.page_cache,
        .locked = config.lock,
        .sites = Sites.init(gpa),
    };
    _ = h.register("bytes", 1) catch {
        h.releaseAll();
        os.unmap(mem, os.os_page);
        return error.OutOfMemory;
    };
    return h;
}

pub fn isLive(h: *const Heap) bool {
    return h.magic == live_magic;
}

pub fn isDestroyed(h: *const Heap) bool {
    return h.magic == dead_magic;
}

/// Returns every page and all metadata to the kernel. The heap's own page
/// stays behind as a tombstone so that a stale handle reads `dead_magic`.
pub fn destroy(h: *Heap) void {
    h.releaseAll();
    h.magic = dead_magic;
}

/// Frees the heap struct itself too (tests; the C ABI keeps tombstones).
pub fn destroyFully(h: *Heap) void {
    if (!h.isDestroyed()) h.releaseAll();
    os.unmap(@alignCast(@as([*]u8, @ptrCast(h))), os.os_page);
}

fn releaseAll(h: *Heap) void {
    h.idle = null;
    h.cached = 0;
    for (0..h.family_count) |id| {
        const f = h.familyById(@intCast(id));
        var p = f.pages;
        while (p) |page| {
            p = page.next;
            h.unmapPage(page);
        }
        f.queue.deinit(gpa);
    }
    for (h.chunks.items) |c| gpa.destroy(c);
    h.chunks.deinit(gpa);
    h.names.deinit(gpa);
    h.sites.deinit(gpa);
    h.table.deinit(gpa);
    h.family_count = 0;
}

/// Returns the idle pages to the kernel.
pub fn trim(h: *Heap) void {
    while (h.idle) |page| {
        const f = h.familyById(page.family);
        h.unidle(page);
        f.removeFree(page.first());
        h.releasePage(f, page);
    }
}

pub inline fn isIdle(h: *const Heap, page: *const Page) bool {
    return page.idle_prev != null or h.idle == page;
}

/// An idle page of the regular size, or null.
fn idleRegular(h: *const Heap) ?*Page {
    var it = h.idle;
    while (it) |p| : (it = p.idle_next) if (h.isRegular(p)) return p;
    return null;
}

fn addIdle(h: *Heap, page: *Page) void {
    page.idle_prev = null;
    page.idle_next = h.idle;
    if (h.idle) |n| n.idle_prev = page;
    h.idle = page;
    h.cached += 1;
}

fn unidle(h: *Heap, page: *Page) void {
    if (page.idle_prev) |p| p.idle_next = page.idle_next else h.idle = page.idle_next;
    if (page.idle_next) |n| n.idle_prev = page.idle_prev;
    page.idle_prev = null;
    page.idle_next = null;
    h.cached -= 1;
}

fn unmapPage(h: *Heap, page: *Page) void {
    h.released[h.released_count % released_len] = .{ .base = page.base(), .end = page.end() };
    h.released_count += 1;
    h.munmap_count += 1;
    os.unmap(@alignCast(@as([*]u8, @ptrCast(page))), page.size);
}

// ---------------------------------------------------------------- families

fn familyById(h: *const Heap, id: u32) *Family {
    return &h.chunks.items[id / chunk_len][id % chunk_len];
}

pub fn family(h: *const Heap, id: u32) ?*Family {
    return if (id < h.family_count) h.familyById(id) else null;
}

pub fn familyByName(h: *const Heap, name: []const u8) ?*Family {
    const id = h.names.get(name) orelse return null;
    return h.familyById(id);
}

/// Checks a family name: 1 to 63 bytes, no control bytes.
pub fn validateName(name: []const u8) Error!void {
    if (name.len == 0) return error.BadName;
    if (name.len > Family.name_max) return error.NameTooLong;
    for (name) |c| if (c < 0x20 or c == 0x7f) return error.BadName;
}

/// Registers a structure; returns its family id.
pub fn register(h: *Heap, name: []const u8, struct_size: u64) Error!u32 {
    try validateName(name);
    if (struct_size == 0) return error.ZeroSize;
    if (struct_size > max_bytes) return error.Overflow;
    if (h.names.contains(name)) return error.DuplicateName;
    if (h.family_count == std.math.maxInt(u32) - 1) return error.Overflow;
    const id = h.family_count;
    try h.names.ensureUnusedCapacity(gpa, 1);
    if (id / chunk_len == h.chunks.items.len) {
        try h.chunks.ensureUnusedCapacity(gpa, 1);
        h.chunks.appendAssumeCapacity(try gpa.create([chunk_len]Family));
    }
    const f = h.familyById(id);
    f.* = Family.init(id, name, struct_size);
    h.names.putAssumeCapacity(f.name(), id);
    h.family_count += 1;
    return id;
}

// ---------------------------------------------------------------- pages

inline fn unitOf(h: *const Heap, addr: usize) u64 {
    return addr >> h.unit_shift;
}

/// The live page holding `addr`, or null when the heap has none there.
pub fn pageOf(h: *const Heap, addr: usize) ?*Page {
    const base = h.table.get(h.unitOf(addr)) orelse h.table.getLarge(addr) orelse return null;
    return @ptrFromInt(base);
}

pub inline fn isRegular(h: *const Heap, page: *const Page) bool {
    return page.size == h.page_size;
}

/// Maps (or reuses) a page that can hold `need` data bytes, gives it to `f`
/// with one free block, and returns that block.
fn newPage(h: *Heap, f: *Family, need: usize) Error!*Block {
    const regular = need <= Page.capacity(h.page_size);
    const size = if (regular) h.page_size else blk: {
        const raw = std.math.add(usize, need, Page.header_size + Block.header_size) catch return error.Overflow;
        break :blk std.mem.alignForward(usize, raw, os.os_page);
    };
    const idle_regular = if (regular) h.idleRegular() else null;
    const reuse = idle_regular != null;
    if (!regular) try h.table.ensureLargeCapacity(gpa) else if (!reuse) try h.table.ensureUnusedCapacity(gpa, 1);
    try f.queue.ensureUnusedCapacity(gpa, 1);
    var dirty_end: usize = undefined;
    const page: *Page = if (reuse) blk: {
        // Take an idle page from its family (never f's own: f's queue would
        // have served a regular request from it).
        const p = idle_regular.?;
        const owner = h.familyById(p.family);
        h.unidle(p);
        owner.removeFree(p.first());
        owner.counters.total_blocks -= 1;
        owner.unlinkPage(p);
        dirty_end = p.dirty_end;
        break :blk p;
    } else blk: {
        const mem = os.map(size, h.page_size) orelse return error.OutOfMemory;
        h.mmap_count += 1;
        dirty_end = @intFromPtr(mem) + Page.header_size + Block.header_size;
        break :blk @ptrCast(mem);
    };
    page.* = .{
        .magic = 0,
        .size = size,
        .prev = null,
        .next = null,
        .family = f.id,
        .dirty_end = dirty_end,
    };
    page.markLive();
    if (!regular) {
        h.table.putLarge(.{ .base = page.base(), .end = page.end() });
    } else if (!reuse) {
        h.table.put(h.unitOf(page.base()), page.base());
    }
    f.linkPage(page);
    const b = page.first();
    b.* = .{ .size = Page.capacity(size), .prev = null, .next = null, .aux = 0, .flags = 0, .requested = 0, .check = 0 };
    b.setState(.free);
    b.seal(h.secret);
    f.counters.total_blocks += 1;
    f.addFree(b);
    return b;
}

/// Takes an empty page (its single block already out of the queue) from its
/// family and returns it to the kernel.
fn releasePage(h: *Heap, f: *Family, page: *Page) void {
    f.counters.total_blocks -= 1;
    f.unlinkPage(page);
    if (h.isRegular(page)) h.table.remove(h.unitOf(page.base())) else h.table.removeLarge(page.base());
    h.unmapPage(page);
}

// ---------------------------------------------------------------- blocks

/// Merges free block `b`, which follows `a`, into `a`. `b`'s header stays
/// behind as `dead` so that a second free of its address is recognised.
fn absorb(h: *Heap, f: *Family, a: *Block, b: *Block) void {
    a.size += Block.header_size + b.size;
    a.next = b.next;
    if (b.next) |n| {
        n.prev = a;
        n.seal(h.secret);
    }
    b.setState(.dead);
    b.seal(h.secret);
    f.counters.total_blocks -= 1;
}

/// Cuts block `b` down to `need` data bytes when the rest can hold a meta
/// block and `Block.min_data`, and returns the rest as a new free block (not
/// yet in the queue, not sealed), or null when there is nothing to cut. The
/// caller seals `b`.
fn cutTail(h: *Heap, f: *Family, page: *Page, b: *Block, need: usize) ?*Block {
    const rest_size = b.size - need;
    if (rest_size < Block.header_size + Block.min_data) return null;
    const rest: *Block = @ptrFromInt(b.dataAddr() + need);
    rest.* = .{
        .size = rest_size - Block.header_size,
        .prev = b,
        .next = b.next,
        .aux = 0,
        .flags = 0,
        .requested = 0,
        .check = 0,
    };
    rest.setState(.free);
    if (b.next) |n| {
        n.prev = rest;
        n.seal(h.secret);
    }
    b.next = rest;
    b.size = need;
    f.counters.total_blocks += 1;
    page.dirty_end = @max(page.dirty_end, @intFromPtr(rest) + Block.header_size);
    return rest;
}

/// Cuts occupied block `b` (being resized) down to `need` bytes; the rest
/// becomes a free block, merged with a free successor.
fn splitTail(h: *Heap, f: *Family, page: *Page, b: *Block, need: usize) void {
    const rest = h.cutTail(f, page, b, need) orelse return;
    if (rest.next) |n| if (n.isFree()) {
        f.removeFree(n);
        h.absorb(f, rest, n);
    };
    rest.seal(h.secret);
    f.addFree(rest);
}

/// Zeroes `[from, to)` of the data of `b` where the page was ever written.
fn zeroData(page: *Page, b: *Block, from: usize, to: usize) void {
    zeroBelow(b.data() + from, to - from, page.dirty_end);
}

/// Zeroes the part of `p[0..len]` below address `clean_from` (memory above
/// it was never written since the kernel mapped it).
fn zeroBelow(p: [*]u8, len: usize, clean_from: usize) void {
    const start = @intFromPtr(p);
    const stop = @min(start + len, clean_from);
    if (start >= stop) return;
    const n = stop - start;
    if (n <= 64 and (start | n) % Block.alignment == 0) {
        // Small blocks: a few aligned 16-byte stores, no call.
        var i: usize = 0;
        while (i < n) : (i += 16) @as(*align(16) [16]u8, @ptrFromInt(start + i)).* = @splat(0);
        return;
    }
    @memset(p[0..n], 0);
}

fn markOccupied(h: *Heap, f: *Family, page: *Page, b: *Block, requested: u64, site: u32) void {
    b.requested = requested;
    b.aux = site;
    b.setState(.occupied);
    b.seal(h.secret);
    f.countOccupied(b);
    h.app_bytes += requested;
    h.peak_app_bytes = @max(h.peak_app_bytes, h.app_bytes);
    page.dirty_end = @max(page.dirty_end, b.endAddr());
}

fn unmarkOccupied(h: *Heap, f: *Family, b: *Block) void {
    f.uncountOccupied(b);
    h.app_bytes -= b.requested;
}

/// Bytes for `units` structures of `f`, checked.
fn requestBytes(f: *const Family, units: u64) Error!u64 {
    if (units == 0) return error.ZeroSize;
    const bytes = std.math.mul(u64, units, f.struct_size) catch return error.Overflow;
    if (bytes > max_bytes) return error.Overflow;
    return bytes;
}

/// Zeroed memory for `units` structures of family `family_id`, worst fit.
pub fn alloc(h: *Heap, family_id: u32, units: u64, site: u32) Error![*]u8 {
    const f = h.family(family_id) orelse return error.UnknownFamily;
    const bytes = try requestBytes(f, units);
    if (site >= h.sites.count()) return error.InvalidArg;
    const need: usize = @intCast(std.mem.alignForward(u64, bytes, Block.alignment));
    try f.queue.ensureUnusedCapacity(gpa, 1);
    const b = blk: {
        if (f.queue.max()) |top| if (top.size >= need) break :blk top;
        break :blk try h.newPage(f, need);
    };
    const page = h.pageOf(b.dataAddr()).?;
    if (h.isIdle(page)) h.unidle(page);
    // Above the page's dirty mark memory is still the kernel's zero fill:
    // read the mark before the split writes the rest's header past it.
    const clean_from = page.dirty_end;
    // A free block's successor is never free, so the rest needs no merging;
    // it takes the block's place in the queue.
    const old_size = b.size;
    if (h.cutTail(f, page, b, need)) |rest| {
        rest.seal(h.secret);
        f.replaceFree(b, old_size, rest);
    } else {
        f.removeFree(b);
    }
    zeroBelow(b.data(), b.size, clean_from);
    h.markOccupied(f, page, b, bytes, site);
    f.counters.alloc_count += 1;
    return b.data();
}

pub const Found = struct { page: *Page, block: *Block, family: *Family };

/// The occupied block that starts at `addr`, or why there is none. Reads no
/// memory outside the heap's own pages.
pub fn resolve(h: *const Heap, addr: usize) Error!Found {
    const page = h.pageOf(addr) orelse return if (h.recentlyReleased(addr)) error.DoubleFree else error.NotOwned;
    if (!page.isLive()) return error.Corrupted;
    if (addr % Block.alignment == 0 and addr >= page.first().dataAddr() and addr < page.end()) {
        const b = Block.fromData(addr);
        if (b.valid(h.secret)) switch (b.state().?) {
            .occupied => {
                const f = h.family(page.family) orelse return error.Corrupted;
                return .{ .page = page, .block = b, .family = f };
            },
            .free, .dead => return error.DoubleFree,
        };
    }
    return h.classify(page, addr);
}

fn recentlyReleased(h: *const Heap, addr: usize) bool {
    const n = @min(h.released_count, released_len);
    for (h.released[0..n]) |r| if (addr >= r.base and addr < r.end) return true;
    return false;
}

/// Why `addr`, which is in `page` but not at an intact block, is not a block:
/// walks the page's chain (error path only).
fn classify(h: *const Heap, page: *const Page, addr: usize) Error {
    var expect = page.base() + Page.header_size;
    var next: ?*Block = page.first();
    while (next) |b| {
        if (@intFromPtr(b) != expect or expect + Block.header_size > page.end()) return error.Corrupted;
        if (!b.valid(h.secret) or b.state().? == .dead) return error.Corrupted;
        if (addr < b.dataAddr()) return error.NotOwned;
        if (addr < b.endAddr()) return if (b.isFree()) error.NotOwned else error.Interior;
        expect = b.endAddr();
        next = b.next;
    }
    return error.NotOwned;
}

/// Verifies the neighbours of `b` before anything is changed.
/// The next meta block is always verified: an overflow out of `b` lands
/// there first. The previous one is read for its state only and verified
/// when it says it is free, i.e. when a merge is going to change it.
fn checkNeighbours(h: *const Heap, b: *const Block) Error!void {
    if (b.next) |n| if (!n.valid(h.secret) or n.state().? == .dead) return error.Corrupted;
    if (b.prev) |p| if (p.isFree() and !p.valid(h.secret)) return error.Corrupted;
}

/// Gives the block at `addr` back; coalesces; returns an empty page.
pub fn free(h: *Heap, addr: usize) Error!void {
    const r = try h.resolve(addr);
    try h.checkNeighbours(r.block);
    const f = r.family;
    try f.queue.ensureUnusedCapacity(gpa, 1);
    h.freeResolved(r);
}

fn freeResolved(h: *Heap, r: Found) void {
    const f = r.family;
    const b = r.block;
    h.unmarkOccupied(f, b);
    f.counters.free_count += 1;
    b.requested = 0;
    b.setState(.free);
    // Merge with the free neighbours. The merged block keeps a queue slot
    // that is already there (the previous block's, else the next one's), so
    // one sift up replaces a removal and an insertion.
    const next: ?*Block = if (b.next) |n| (if (n.isFree()) n else null) else null;
    const merged = if (b.prev) |p| (if (p.isFree()) p else null) else null;
    if (merged) |p| {
        const old = p.size;
        if (next) |n| {
            f.removeFree(n);
            h.absorb(f, b, n);
        }
        h.absorb(f, p, b);
        p.seal(h.secret);
        f.resizeFree(p, old);
    } else if (next) |n| {
        h.absorb(f, b, n);
        b.seal(h.secret);
        f.replaceFree(n, n.size, b);
    } else {
        b.seal(h.secret);
        f.addFree(b);
    }
    const m = merged orelse b;
    if (m.prev == null and m.next == null) {
        if (h.cached < h.cache_limit and r.page.size <= max_idle_large) {
            h.addIdle(r.page);
        } else {
            f.removeFree(m);
            h.releasePage(f, r.page);
        }
    }
}

/// Resizes the block at `addr` to `units` structures of its family, in place
/// when it shrinks or its successor is free and large enough, else by moving.
/// Bytes beyond the old size are zeroed.
pub fn realloc(h: *Heap, addr: usize, units: u64) Error![*]u8 {
    const r = try h.resolve(addr);
    const f = r.family;
    const b = r.block;
    const bytes = try requestBytes(f, units);
    try h.checkNeighbours(b);
    const need: usize = @intCast(std.mem.alignForward(u64, bytes, Block.alignment));
    // Room for: a split tail now, or (moving) a new page's block plus the old block's free.
    try f.queue.ensureUnusedCapacity(gpa, 2);
    const old = b.requested;
    const in_place = need <= b.size or if (b.next) |n|
        n.isFree() and b.size + Block.header_size + n.size >= need
    else
        false;
    if (in_place) {
        h.unmarkOccupied(f, b);
        if (need > b.size) {
            const n = b.next.?;
            f.removeFree(n);
            h.absorb(f, b, n);
        }
        if (bytes > old) zeroData(r.page, b, old, b.size);
        h.splitTail(f, r.page, b, need);
        h.markOccupied(f, r.page, b, bytes, b.aux);
        f.counters.realloc_count += 1;
        return b.data();
    }
    const moved = try h.alloc(f.id, units, b.aux);
    @memcpy(moved[0..@intCast(old)], b.data()[0..@intCast(old)]);
    // The reservation above keeps this free from needing memory.
    h.freeResolved(h.resolve(addr) catch unreachable);
    f.counters.realloc_count += 1;
    return moved;
}

// ---------------------------------------------------------------- sites

pub fn internSite(h: *Heap, text: []const u8) Error!u32 {
    return h.sites.intern(gpa, text);
}

// ---------------------------------------------------------------- tests

const testing = std.testing;
const check = @import("check.zig");

fn expectValid(h: *Heap) !void {
    var msg: [256]u8 = undefined;
    check.run(h, &msg) catch |e| {
        std.debug.print("check failed: {s}\n", .{std.mem.sliceTo(&msg, 0)});
        return e;
    };
}

test "create refuses page sizes that are not powers of two in range" {
    for ([_]usize{ 0, 1000, 2048, 4096 * 3, 2 << 30 }) |ps| {
        try testing.expectError(error.BadConfig, create(.{ .page_size = ps }));
    }
    const h = try create(.{ .page_size = 4096 });
    h.destroyFully();
}

test "alloc hands out zeroed, 16-byte aligned memory and free returns the page" {
    const h = try create(.{ .page_cache = 0 });
    defer h.destroyFully();
    const emp = try h.register("emp_t", 36);
    const p = try h.alloc(emp, 3, 0);
    try testing.expect(@intFromPtr(p) % 16 == 0);
    for (p[0..108]) |c| try testing.expectEqual(@as(u8, 0), c);
    @memset(p[0..108], 0xAB);
    try expectValid(h);
    try testing.expectEqual(@as(u64, 1), h.family(emp).?.counters.pages);
    try h.free(@intFromPtr(p));
    try expectValid(h);
    try testing.expectEqual(@as(u64, 0), h.family(emp).?.counters.pages);
    try testing.expectEqual(h.mmap_count, h.munmap_count);
}

test "a fresh page is not written beyond the headers (the kernel's zero fill is trusted)" {
    const h = try create(.{ .page_cache = 0 });
    defer h.destroyFully();
    const p = try h.alloc(bytes_family, 8 << 20, 0);
    // Nothing of the 8 MiB was memset: no page past the first MiB is resident.
    var vec: [1024]u8 = undefined;
    const rc = std.os.linux.mincore(@ptrFromInt(std.mem.alignForward(usize, @intFromPtr(p) + (1 << 20), 4096)), vec.len * 4096, &vec);
    try testing.expectEqual(@as(usize, 0), rc);
    var resident: usize = 0;
    for (vec) |v| resident += v & 1;
    try testing.expectEqual(@as(usize, 0), resident);
    try h.free(@intFromPtr(p));
}

test "memory reused after free is zeroed again" {
    const h = try create(.{});
    defer h.destroyFully();
    const a = try h.alloc(bytes_family, 100, 0);
    const keep = try h.alloc(bytes_family, 16, 0);
    @memset(a[0..100], 0xFF);
    try h.free(@intFromPtr(a));
    const b = try h.alloc(bytes_family, 100, 0);
    for (b[0..100]) |c| try testing.expectEqual(@as(u8, 0), c);
    try h.free(@intFromPtr(b));
    try h.free(@intFromPtr(keep));
    try expectValid(h);
}

test "worst fit: the largest free block serves the request" {
    const h = try create(.{ .page_size = 4096 });
    defer h.destroyFully();
    // Carve a page into blocks, then free two of different sizes apart.
    const small = try h.alloc(bytes_family, 64, 0);
    _ = try h.alloc(bytes_family, 16, 0);
    const big = try h.alloc(bytes_family, 512, 0);
    _ = try h.alloc(bytes_family, 16, 0);
    const rest = try h.alloc(bytes_family, Page.capacity(4096) - (64 + 16 + 512 + 16) - 4 * Block.header_size, 0);
    _ = rest;
    try testing.expect(h.family(bytes_family).?.queue.len == 0);
    try h.free(@intFromPtr(small));
    try h.free(@intFromPtr(big));
    const got = try h.alloc(bytes_family, 32, 0);
    try testing.expectEqual(@intFromPtr(big), @intFromPtr(got));
    try expectValid(h);
}

test "free coalesces with both neighbours in every order" {
    const orders = [_][3]usize{ .{ 0, 1, 2 }, .{ 0, 2, 1 }, .{ 1, 0, 2 }, .{ 1, 2, 0 }, .{ 2, 0, 1 }, .{ 2, 1, 0 } };
    for (orders) |order| {
        const h = try create(.{ .page_cache = 0 });
        defer h.destroyFully();
        var ptrs: [3][*]u8 = undefined;
        for (&ptrs) |*p| p.* = try h.alloc(bytes_family, 80, 0);
        const guard = try h.alloc(bytes_family, 16, 0);
        for (order) |i| {
            try h.free(@intFromPtr(ptrs[i]));
            try expectValid(h);
        }
        const f = h.family(bytes_family).?;
        try testing.expectEqual(@as(u64, 3), f.counters.total_blocks); // merged run, guard, tail
        try h.free(@intFromPtr(guard));
        try testing.expectEqual(@as(u64, 0), f.counters.pages);
        try expectValid(h);
    }
}

test "remainder of header size -1, 0 and +1 bytes: hard fragmentation or a split" {
    // An empty 4 KiB page holds capacity(4096) data bytes in one block.
    const cap = Page.capacity(4096);
    const cases = [_]struct { take: usize, split: bool }{
        .{ .take = cap, .split = false }, // exact fit
        .{ .take = cap - Block.header_size, .split = false }, // rest = header only: no data room
        .{ .take = cap - Block.header_size - Block.min_data, .split = true }, // smallest split
        .{ .take = cap - Block.header_size + Block.alignment, .split = false }, // rest < header
    };
    for (cases) |c| {
        const h = try create(.{ .page_size = 4096 });
        defer h.destroyFully();
        const p = try h.alloc(bytes_family, c.take, 0);
        const f = h.family(bytes_family).?;
        try testing.expectEqual(@as(u64, if (c.split) 2 else 1), f.counters.total_blocks);
        try testing.expectEqual(@as(u64, if (c.split) 0 else cap - c.take), f.counters.hard_frag_bytes);
        try expectValid(h);
        try h.free(@intFromPtr(p));
        try expectValid(h);
    }
}

test "soft fragmentation counts free blocks smaller than one structure" {
    const h = try create(.{ .page_size = 4096 });
    defer h.destroyFully();
    const big = try h.register("big_t", 1000);
    const cap = Page.capacity(4096);
    // Leave a free tail of 48 + 64 bytes: splittable, but smaller than one big_t.
    const units_bytes = 3000;
    const a = try h.alloc(big, 3, 0);
    const f = h.family(big).?;
    const tail = cap - std.mem.alignForward(usize, units_bytes, Block.alignment);
    try testing.expect(tail > Block.header_size);
    try testing.expectEqual(@as(u64, 1), f.counters.soft_frag_blocks);
    try testing.expectEqual(@as(u64, tail - Block.header_size), f.counters.soft_frag_bytes);
    try h.free(@intFromPtr(a));
    try testing.expectEqual(@as(u64, 0), f.counters.soft_frag_blocks);
    try expectValid(h);
}

test "requests larger than a page get a page sized to fit, and of exactly a page" {
    const h = try create(.{ .page_size = 4096, .page_cache = 0 });
    defer h.destroyFully();
    const huge = try h.alloc(bytes_family, 10 * 4096 + 1, 0);
    const f = h.family(bytes_family).?;
    try testing.expectEqual(@as(u64, 1), f.counters.pages);
    try testing.expect(f.counters.bytes_mapped >= 10 * 4096 + 1);
    huge[10 * 4096] = 1;
    const exact = try h.alloc(bytes_family, 4096, 0); // one page of data does not fit in a page
    const fit = try h.alloc(bytes_family, Page.capacity(4096), 0);
    try testing.expectEqual(@as(u64, 3), f.counters.pages);
    try expectValid(h);
    // An interior address far inside the large block is known as interior.
    try testing.expectError(error.Interior, h.free(@intFromPtr(huge) + 9 * 4096));
    try h.free(@intFromPtr(huge));
    try h.free(@intFromPtr(exact));
    try h.free(@intFromPtr(fit));
    try testing.expectEqual(@as(u64, 0), f.counters.pages);
    try testing.expectEqual(h.mmap_count, h.munmap_count);
    try expectValid(h);
}

test "a request of the 64 TiB limit is mapped lazily or refused, never half-done" {
    const h = try create(.{});
    defer h.destroyFully();
    const before = h.mmap_count;
    if (h.alloc(bytes_family, max_bytes, 0)) |p| {
        p[0] = 1;
        p[max_bytes - 1] = 2;
        try expectValid(h);
        try testing.expectError(error.Interior, h.free(@intFromPtr(p) + max_bytes / 2));
        try h.free(@intFromPtr(p));
    } else |e| {
        try testing.expectEqual(error.OutOfMemory, e);
        try testing.expectEqual(before, h.mmap_count);
    }
    try expectValid(h);
}

test "bad addresses get their own errors and change nothing" {
    const h = try create(.{});
    defer h.destroyFully();
    const emp = try h.register("emp_t", 40);
    const a = try h.alloc(emp, 2, 0);
    const b = try h.alloc(emp, 1, 0);
    var local: u64 = 0;
    try testing.expectError(error.NotOwned, h.free(@intFromPtr(&local)));
    try testing.expectError(error.NotOwned, h.free(0x1000));
    try testing.expectError(error.Interior, h.free(@intFromPtr(a) + 16));
    try testing.expectError(error.Interior, h.free(@intFromPtr(a) + 3));
    try testing.expectError(error.NotOwned, h.free(@intFromPtr(a) - 8)); // inside its header
    try h.free(@intFromPtr(a));
    try testing.expectError(error.DoubleFree, h.free(@intFromPtr(a)));
    try h.free(@intFromPtr(b)); // coalesces with a's block: b's header is dead now
    try testing.expectError(error.DoubleFree, h.free(@intFromPtr(b))); // its page is idle
    try expectValid(h);
}

test "a double free into a page just returned to the kernel is still a double free" {
    const h = try create(.{ .page_cache = 0 });
    defer h.destroyFully();
    const a = try h.alloc(bytes_family, 64, 0);
    try h.free(@intFromPtr(a));
    try testing.expectError(error.DoubleFree, h.free(@intFromPtr(a)));
    try expectValid(h);
}

test "double free after coalescing is still a double free" {
    const h = try create(.{});
    defer h.destroyFully();
    const a = try h.alloc(bytes_family, 64, 0);
    const b = try h.alloc(bytes_family, 64, 0);
    const keep = try h.alloc(bytes_family, 64, 0);
    try h.free(@intFromPtr(a));
    try h.free(@intFromPtr(b)); // b merges into a
    try testing.expectError(error.DoubleFree, h.free(@intFromPtr(b)));
    try testing.expectError(error.DoubleFree, h.free(@intFromPtr(a)));
    try h.free(@intFromPtr(keep));
    try expectValid(h);
}

test "a write past the end of a block is caught at free and by check" {
    const h = try create(.{});
    defer h.destroyFully();
    const a = try h.alloc(bytes_family, 32, 0);
    const b = try h.alloc(bytes_family, 32, 0);
    a[32] ^= 0xFF; // first byte of b's meta block
    try testing.expectError(error.Corrupted, h.free(@intFromPtr(a)));
    try testing.expectError(error.Corrupted, h.free(@intFromPtr(b)));
    var msg: [256]u8 = undefined;
    try testing.expectError(error.Corrupted, check.run(h, &msg));
    a[32] ^= 0xFF; // repaired: everything works again
    try h.free(@intFromPtr(b));
    try h.free(@intFromPtr(a));
    try expectValid(h);
}

test "names: duplicate, empty, over-long, control bytes, zero size" {
    const h = try create(.{});
    defer h.destroyFully();
    _ = try h.register("emp_t", 36);
    try testing.expectError(error.DuplicateName, h.register("emp_t", 8));
    try testing.expectError(error.DuplicateName, h.register("bytes", 8));
    try testing.expectError(error.BadName, h.register("", 8));
    try testing.expectError(error.BadName, h.register("a\nb", 8));
    try testing.expectError(error.NameTooLong, h.register("x" ** 64, 8));
    _ = try h.register("x" ** 63, 8);
    try testing.expectError(error.ZeroSize, h.register("z", 0));
    try testing.expectError(error.UnknownFamily, h.alloc(99, 1, 0));
    try testing.expectError(error.ZeroSize, h.alloc(1, 0, 0));
    try testing.expectError(error.Overflow, h.alloc(1, std.math.maxInt(u64), 0));
    try testing.expectError(error.Overflow, h.alloc(0, max_bytes + 1, 0));
    try testing.expectError(error.InvalidArg, h.alloc(1, 1, 5));
    try expectValid(h);
}

test "thousands of families each with a page, found by id and by name" {
    const h = try create(.{ .page_size = 4096 });
    defer h.destroyFully();
    var name_buf: [32]u8 = undefined;
    var ptrs: [3000][*]u8 = undefined;
    for (&ptrs, 0..) |*p, i| {
        const name = try std.fmt.bufPrint(&name_buf, "struct_{d}", .{i});
        const id = try h.register(name, 8 + i % 100);
        try testing.expectEqual(id, h.familyByName(name).?.id);
        p.* = try h.alloc(id, 1, 0);
    }
    try expectValid(h);
    for (ptrs) |p| try h.free(@intFromPtr(p));
    try expectValid(h);
}

test "realloc shrinks and grows in place and moves when it must" {
    const h = try create(.{});
    defer h.destroyFully();
    const t = try h.register("t", 10);
    const a = try h.alloc(t, 10, 0);
    @memset(a[0..100], 7);
    const s = try h.realloc(@intFromPtr(a), 2);
    try testing.expectEqual(a, s);
    try expectValid(h);
    const g = try h.realloc(@intFromPtr(a), 20); // successor is free: grows in place
    try testing.expectEqual(a, g);
    for (g[0..20]) |c| try testing.expectEqual(@as(u8, 7), c);
    for (g[20..200]) |c| try testing.expectEqual(@as(u8, 0), c);
    try expectValid(h);
    const blocker = try h.alloc(t, 1, 0);
    @memset(g[0..200], 9);
    const m = try h.realloc(@intFromPtr(g), 500); // successor occupied: moves
    try testing.expect(m != g);
    for (m[0..200]) |c| try testing.expectEqual(@as(u8, 9), c);
    for (m[200..5000]) |c| try testing.expectEqual(@as(u8, 0), c);
    try testing.expectError(error.DoubleFree, h.free(@intFromPtr(g)));
    try h.free(@intFromPtr(m));
    try h.free(@intFromPtr(blocker));
    try expectValid(h);
}

test "page cache: empty pages are kept up to the limit and reused by any family" {
    const h = try create(.{ .page_size = 4096, .page_cache = 2 });
    defer h.destroyFully();
    const a = try h.register("a", 100);
    const b = try h.register("b", 200);
    var ptrs: [4][*]u8 = undefined;
    for (&ptrs) |*p| p.* = try h.alloc(a, 30, 0); // 3000 B: one page each
    for (ptrs) |p| try h.free(@intFromPtr(p));
    try testing.expectEqual(@as(u32, 2), h.cached);
    try testing.expectEqual(@as(u64, 2), h.munmap_count);
    const maps = h.mmap_count;
    const q = try h.alloc(b, 10, 0);
    try testing.expectEqual(maps, h.mmap_count);
    try testing.expectEqual(@as(u32, 1), h.cached);
    try expectValid(h);
    try h.free(@intFromPtr(q));
    h.trim();
    try testing.expectEqual(@as(u32, 0), h.cached);
    try testing.expectEqual(h.mmap_count, h.munmap_count);
    try expectValid(h);
}

test "a large block freed and allocated again in a loop maps its page once" {
    const h = try create(.{});
    defer h.destroyFully();
    for (0..100) |i| {
        const p = try h.alloc(bytes_family, 1 << 20, 0);
        for (p[0 .. 1 << 20]) |c| if (c != 0) return error.TestUnexpectedResult;
        @memset(p[0 .. 1 << 20], @truncate(i + 1));
        try h.free(@intFromPtr(p));
    }
    try testing.expectEqual(@as(u64, 1), h.mmap_count);
    try expectValid(h);
    // A regular request of another family does not take the idle large page.
    const q = try h.alloc(try h.register("small", 8), 1, 0);
    try testing.expectEqual(@as(u64, 2), h.mmap_count);
    try h.free(@intFromPtr(q));
    h.trim();
    try testing.expectEqual(h.mmap_count, h.munmap_count);
    try expectValid(h);
}

test "families rotating through pages do not thrash the kernel" {
    // The case where mimalloc 2.0.9 slows down 17x: many size classes each
    // emptying and refilling a page in turn. The cache makes it mmap-free.
    const h = try create(.{ .page_size = 4096, .page_cache = 4 });
    defer h.destroyFully();
    var ids: [16]u32 = undefined;
    var name_buf: [16]u8 = undefined;
    for (&ids, 0..) |*id, i| id.* = try h.register(try std.fmt.bufPrint(&name_buf, "c{d}", .{i}), 16 * (i + 1));
    for (0..2000) |round| {
        const id = ids[round % ids.len];
        const p = try h.alloc(id, 3, 0);
        try h.free(@intFromPtr(p));
    }
    try testing.expect(h.mmap_count <= 4);
    try expectValid(h);
}

test "sites are recorded per block" {
    const h = try create(.{});
    defer h.destroyFully();
    const s = try h.internSite("app.ts:3");
    const p = try h.alloc(bytes_family, 10, s);
    const r = try h.resolve(@intFromPtr(p));
    try testing.expectEqual(s, r.block.aux);
    try h.free(@intFromPtr(p));
}

test "destroy returns every page" {
    const h = try create(.{ .page_size = 4096 });
    const e = try h.register("emp_t", 36);
    for (0..1000) |_| _ = try h.alloc(e, 7, 0);
    try testing.expect(h.mmap_count > 10);
    h.destroy();
    try testing.expect(h.isDestroyed());
    try testing.expectEqual(h.mmap_count, h.munmap_count);
    os.unmap(@alignCast(@as([*]u8, @ptrCast(h))), os.os_page);
}
