//! A heap: a set of page families and their VM pages, with worst-fit
//! allocation, coalescing free and page return, inside reserved arenas.
//!
//! ## Basic Design
//! - **Arenas** (`Arena.zig`): at creation a heap reserves one range of
//!   address space (`Config.reserve`, 4 GiB by default) and places every VM
//!   page in it; when it is full the heap reserves another, twice as large
//!   (a request too big for them gets an arena of its own). Pages are backed
//!   by the kernel on first touch and given back with `madvise(DONTNEED)`
//!   when they empty, so RSS falls, but the range stays mapped: a stale
//!   access reads or writes harmless memory instead of faulting. Destroying
//!   the heap unmaps its arenas — unless the heap was made with
//!   `keep_arenas`, whose owner unmaps them once nothing can reach them.
//! - **Allocation** (`alloc`): the family's largest free block (its free
//!   queue's maximum) serves the request if it is big enough — worst fit —
//!   otherwise a new VM page is placed (or taken from the heap's small cache
//!   of empty pages). The block is split when the remainder can hold a meta
//!   block and `min_data` bytes; a smaller remainder stays in the block and is
//!   counted as hard internal fragmentation. Memory is handed out zeroed; a
//!   page records how far it has ever been written (`Page.dirty`) so that
//!   fresh kernel pages are not zeroed twice. A request larger than a page's
//!   capacity gets a large page of its own, holding just that block.
//! - **Free** (`free`): the meta block in front of the address is read (arena
//!   memory is always readable) and verified by its keyed check, then its
//!   page header, then both neighbours; the block coalesces with free
//!   neighbours. A page whose only block is free goes back to the kernel at
//!   once, unless the heap keeps it idle: up to `cache_limit` empty pages
//!   stay where they are (in their family, their block in its queue), and any
//!   family that needs a page takes an idle one first. Large pages (up to
//!   `max_idle_large`) can be kept idle too, for their own family.
//! - **Damage**: every header is verified before the engine follows or
//!   rewrites it — the queue's block before it serves a request, neighbours
//!   before a merge or a split, page headers before their family is trusted.
//!   The first failure *poisons* the heap: the call returns `Corrupted`, the
//!   reason is kept, and every later call that would read or write the arena
//!   returns `Poisoned`. Statistics (kept outside the arena) stay readable and
//!   destroying the heap still gives everything back, because releasing an
//!   arena follows nothing inside it. A header written back from its own
//!   past (a stale write) passes its keyed check: what it claims is compared
//!   with what the heap keeps outside the arena (page lists, the idle list,
//!   the arenas' bitmaps), and counters go down saturating, so such a header
//!   is found — or drifts a statistic until `check` finds it — but never
//!   followed into a crash.
//! - **Failure atomicity**: every operation validates and reserves what it
//!   needs (queue and list capacity, the page itself) before its first
//!   change, so a failed call leaves the heap exactly as it was.
//! - **System calls** go through `Config.sys`; a refusal never panics:
//!   `reserve` failing is `OutOfMemory`, `decommit` failing leaves the pages
//!   resident (counted in `decommit_failures`; a page made on them is then
//!   treated as written, so its blocks are still zeroed), `unreserve` failing
//!   is reported by `destroy`.
//! - **Threads**: the C ABI takes `mutex` around every call (unless the heap
//!   was made with `lock = false`); nothing here is global, so heaps are
//!   independent.
//! - **Costs**: alloc and free are O(log n) in the family's free blocks plus
//!   O(1) header checks; nothing scans a page or a list on a successful path.
//!   The error paths (classifying a bad address) walk one page.

const std = @import("std");
const os = @import("os.zig");
const Arena = @import("Arena.zig");
const Block = @import("block.zig").Block;
const Page = @import("page.zig").Page;
const Family = @import("Family.zig");
const Sites = @import("Sites.zig");
const front = @import("front.zig");
const tcache = @import("tcache.zig");

const Heap = @This();

/// Metadata (queues, lists, bitmaps, family chunks) comes from the kernel
/// too, outside the arenas.
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
    Poisoned,
    InvalidArg,
    SiteLimit,
};

pub const Config = struct {
    /// VM page size: a power of two from 4 KiB to 1 GiB. Larger pages mean
    /// fewer page placements and less header overhead per page, more memory
    /// held by a family that uses little.
    page_size: usize = default_page_size,
    /// Empty VM pages kept (idle) for reuse by any family instead of going
    /// back to the kernel at once. 0 is the classic behaviour (return a page
    /// as soon as it is empty); a few pages spare the system calls when a
    /// family's usage hovers around a page boundary.
    page_cache: u32 = default_page_cache,
    /// Take `mutex` around every C ABI call. Off only when the caller
    /// guarantees one thread at a time (saves two atomic operations a call).
    lock: bool = true,
    /// Address space of the first arena, rounded up to the page size (at
    /// least 16 pages). Costs address space only; later arenas double it.
    reserve: usize = default_reserve,
    /// Leave the arenas mapped when the heap is destroyed: their owner (the
    /// Deno module, which may still hold views into them) unmaps them.
    keep_arenas: bool = false,
    /// The classic heap, block for block: no front caches, no size classes,
    /// no idle pages (`page_cache` is ignored). Slower; for teaching,
    /// comparison and the classic API.
    exact: bool = false,
    /// Front caches and size classes (`front.zig`); off in exact mode. Off
    /// alone (tests of the worst-fit heap): idle pages still work.
    front: bool = true,
    /// Per-thread caches in front of the lock (`tcache.zig`) on a locked
    /// heap that is not exact. Off: every call takes the lock.
    thread_caches: bool = true,
    /// The system calls (tests inject failures here).
    sys: *const os.Sys = &os.Sys.real,
};

pub const default_page_size: usize = 64 * 1024;
pub const default_page_cache: u32 = 4;
/// 4 GiB: every program that fits in it touches one window of memory (one
/// JavaScript buffer); 32,768 heaps of it fit in the 128 TiB address space.
pub const default_reserve: usize = 4 << 30;
/// Largest page kept idle (bigger ones go back to the kernel at once).
pub const max_idle_large: usize = 32 << 20;
pub const min_page_size: usize = os.os_page;
pub const max_page_size: usize = 1 << 30;
/// Largest single request (64 TiB): far above any real mapping, far below overflow.
pub const max_bytes: u64 = 1 << 46;
/// The untyped family for raw byte requests.
pub const bytes_family: u32 = 0;
/// Arenas a heap can have.
pub const max_arenas = 32;

const live_magic: u64 = 0x4C4D4D4845415032; // "LMMHEAP2"
const dead_magic: u64 = 0x4C4D4D4445414432; // "LMMDEAD2"
const chunk_len = 64;
const released_len = 16;
const poison_cap = 200;

magic: u64,
mutex: std.Thread.Mutex = .{},
locked: bool,
keep_arenas: bool,
exact: bool,
/// Front caches and size classes are used (`Config.front`, not exact).
fronted: bool,
/// Family id of each size class of untyped memory (0: not registered yet).
classes: [front.classes.len]u32 = [_]u32{0} ** front.classes.len,
sys: *const os.Sys,
/// Key of the keyed checks (`seal.zig`).
key: u32,
page_size: usize,
cache_limit: u32,
arenas: [max_arenas]Arena = undefined,
arena_count: u32 = 0,
/// Size of the next shared arena.
next_reserve: usize,
/// Idle pages: empty, kept in their family for reuse (`Page.flag_idle`).
idle: std.ArrayListUnmanaged(*Page) = .{},
/// Families in fixed chunks, so a `*Family` stays valid as more register.
chunks: std.ArrayListUnmanaged(*[chunk_len]Family) = .{},
family_count: u32 = 0,
names: std.StringHashMapUnmanaged(u32) = .{},
sites: Sites,
app_bytes: u64 = 0,
peak_app_bytes: u64 = 0,
pages_taken: u64 = 0,
pages_returned: u64 = 0,
decommit_failures: u64 = 0,
/// The last pages returned: a stale address into one of them is reported as
/// a double free rather than as an address never given out.
released: [released_len]Range = undefined,
released_count: u64 = 0,
poison_len: u8 = 0,
poison_msg: [poison_cap]u8 = undefined,
/// Thread caches (`tcache.zig`).
threads: tcache.Table = .{},
/// The shared arenas' ranges, in order of creation: never removed while the
/// heap lives, so thread caches read them without the lock.
ranges: [max_arenas]Range = undefined,
range_count: u32 = 0,

pub const Range = struct { base: usize, end: usize };

/// The heap struct's own mapping (a whole number of OS pages).
pub const self_size = std.mem.alignForward(usize, @sizeOf(Heap), os.os_page);

pub const CreateError = error{ OutOfMemory, BadConfig };

/// Makes a heap with the "bytes" family registered as id 0 and its first arena.
pub fn create(config: Config) CreateError!*Heap {
    const ps = config.page_size;
    if (ps < min_page_size or !std.math.isPowerOfTwo(ps) or ps > max_page_size) return error.BadConfig;
    if (config.reserve > max_bytes) return error.BadConfig;
    const reserve = @max(std.mem.alignForward(usize, @max(config.reserve, 1), ps), 16 * ps);
    const mem = os.map(self_size, os.os_page) orelse return error.OutOfMemory;
    const h: *Heap = @ptrCast(mem);
    h.* = .{
        .magic = live_magic,
        .locked = config.lock,
        .keep_arenas = config.keep_arenas,
        .exact = config.exact,
        .fronted = config.front and !config.exact,
        .sys = config.sys,
        .key = @truncate(os.randomSeed(@intFromPtr(mem))),
        .page_size = ps,
        .cache_limit = if (config.exact) 0 else config.page_cache,
        .next_reserve = reserve,
        .sites = Sites.init(gpa),
    };
    errdefer {
        _ = h.releaseAll();
        tcache.deinit(&h.threads);
        _ = os.unmap(mem, self_size);
    }
    tcache.init(&h.threads, config.lock and config.front and !config.exact and config.thread_caches);
    _ = try h.addArena(reserve, false);
    h.next_reserve = reserve * 2;
    _ = h.register("bytes", 1) catch return error.OutOfMemory;
    return h;
}

pub fn isLive(h: *const Heap) bool {
    return @atomicLoad(u64, &h.magic, .monotonic) == live_magic;
}

pub fn isDestroyed(h: *const Heap) bool {
    return @atomicLoad(u64, &h.magic, .monotonic) == dead_magic;
}

pub fn isLiveMagic(_: *const Heap, m: u64) bool {
    return m == live_magic;
}

pub fn isDeadMagic(_: *const Heap, m: u64) bool {
    return m == dead_magic;
}

/// Returns every page and all metadata to the kernel (and the arenas, unless
/// they are kept). The heap's own mapping stays behind as a tombstone so that
/// a stale handle reads `dead_magic`. False when an arena could not be
/// unmapped (it stays reserved; the heap is destroyed all the same).
pub fn destroy(h: *Heap) bool {
    // Thread caches stay stopped: their threads go to the lock and find the heap dead.
    if (tcache.stopAll(h)) |_| tcache.freeCaches(&h.threads) else |_| {}
    const ok = h.releaseAll();
    @atomicStore(u64, &h.magic, dead_magic, .monotonic);
    return ok;
}

/// Frees the heap struct itself too.
pub fn destroyFully(h: *Heap) bool {
    const ok = if (h.isDestroyed()) true else h.destroy();
    tcache.deinit(&h.threads);
    h.magic = dead_magic;
    return os.unmap(@alignCast(@as([*]u8, @ptrCast(h))), self_size) and ok;
}

fn releaseAll(h: *Heap) bool {
    var ok = true;
    for (h.arenas[0..h.arena_count]) |*a| {
        // A kept arena must not hold on to memory: drop everything in it.
        if (h.keep_arenas and !h.sys.decommit(@ptrFromInt(a.base), a.len)) h.decommit_failures += 1;
        if (!a.deinit(h.sys, gpa, h.keep_arenas)) ok = false;
    }
    h.arena_count = 0;
    h.idle.deinit(gpa);
    for (0..h.family_count) |id| {
        const f = h.familyById(@intCast(id));
        f.queue.deinit(gpa);
        f.pages.deinit(gpa);
        f.cache.deinit(gpa);
    }
    for (h.chunks.items) |c| gpa.destroy(c);
    h.chunks.deinit(gpa);
    h.names.deinit(gpa);
    h.sites.deinit(gpa);
    h.family_count = 0;
    return ok;
}

/// Returns the idle pages to the kernel.
pub fn trim(h: *Heap) Error!void {
    try h.usable();
    try tcache.drain(h);
    try front.flushAll(h);
    while (h.idle.items.len > 0) {
        const page = h.idle.items[h.idle.items.len - 1];
        const f = try h.expectIdle(page);
        if (page.isLarge()) {
            f.countLoose(page.largeSize(), .out);
        } else {
            f.removeFree(page.first());
        }
        try h.unidle(page);
        h.releasePage(f, page);
    }
}

// ---------------------------------------------------------------- damage

/// `error.Poisoned` once the heap has detected damage.
pub inline fn usable(h: *const Heap) error{Poisoned}!void {
    if (h.poison_len != 0) return error.Poisoned;
}

pub fn isPoisoned(h: *const Heap) bool {
    return h.poison_len != 0;
}

/// What was found when the heap was poisoned ("" if it is not).
pub fn poisonReason(h: *const Heap) []const u8 {
    return h.poison_msg[0..h.poison_len];
}

/// Poisons the heap with a reason and returns `error.Corrupted`.
pub fn poison(h: *Heap, comptime fmt: []const u8, args: anytype) error{Corrupted} {
    if (h.poison_len == 0) {
        const out = std.fmt.bufPrint(&h.poison_msg, fmt, args) catch h.poison_msg[0..];
        h.poison_len = @intCast(@max(out.len, 1));
    }
    return error.Corrupted;
}

/// Verifies a header the engine is about to follow or rewrite.
pub fn expectBlock(h: *Heap, b: *const Block, page: *const Page) Error!void {
    const at = @intFromPtr(b);
    if (at < page.base() + Page.header_size or at + Block.header_size > page.end() or !b.valid(h.key) or
        b.state().? == .dead or b.endAddr() > page.end())
        return h.poison("meta block at 0x{x} (page 0x{x}) fails its integrity check: memory was overwritten", .{ at, page.base() });
}

/// Verifies a free block of `f` that is about to be used or merged.
pub fn expectFree(h: *Heap, f: *const Family, b: *const Block, page: *const Page) Error!void {
    try h.expectBlock(b, page);
    if (!b.isFree() or !f.queue.holds(b))
        return h.poison("free block at 0x{x} is not where the free queue of {s} says", .{ @intFromPtr(b), f.name() });
}

/// Verifies a page header; returns its family.
pub fn pageFamily(h: *Heap, page: *const Page) Error!*Family {
    if (!page.valid(h.key)) return h.poison("page header at 0x{x} fails its integrity check: memory was overwritten", .{page.base()});
    const f = h.family(page.family) orelse return h.poison("page 0x{x} names family {d}, which does not exist", .{ page.base(), page.family });
    if (!f.ownsPage(page)) return h.poison("page 0x{x} is not in the page list of {s}", .{ page.base(), f.name() });
    // A header restored from the page's earlier life would pass the checks above.
    if (!h.fitsPlacement(page)) return h.poison("page 0x{x} says {d} bytes, not the room it was placed in", .{ page.base(), page.size });
    return f;
}

/// True when a page's size matches its placement: a regular page is one
/// unit; a large page covers exactly the units its arena placed for it.
fn fitsPlacement(h: *const Heap, page: *const Page) bool {
    if (!page.isLarge()) return page.size == h.page_size;
    const a = h.arenaOf(page.base()) orelse return false;
    if (page.size <= h.page_size or page.size > a.len) return false;
    if (a.dedicated) return page.base() == a.base;
    return a.pageUnits(page.base()) == std.mem.alignForward(usize, @intCast(page.size), h.page_size) / h.page_size;
}

/// Verifies an idle page before it is reused or returned: its header, its
/// idle mark, and the one free block that covers it; returns its family.
fn expectIdle(h: *Heap, page: *Page) Error!*Family {
    const f = try h.pageFamily(page);
    const b = page.first();
    try h.expectBlock(b, page);
    const whole = if (page.isLarge()) b.size_g == 0 else b.endAddr() == page.end();
    if (!page.isIdle() or !b.isFree() or !whole)
        return h.poison("idle page 0x{x} is not marked idle or not empty", .{page.base()});
    if (!page.isLarge()) try h.expectFree(f, b, page);
    return f;
}

// ---------------------------------------------------------------- arenas

/// Reserves another arena of `len` bytes.
fn addArena(h: *Heap, len: usize, dedicated: bool) error{OutOfMemory}!*Arena {
    if (h.arena_count == max_arenas) return error.OutOfMemory;
    const a = &h.arenas[h.arena_count];
    a.* = try Arena.init(h.sys, gpa, len, h.page_size, if (dedicated) .dedicated else if (h.arena_count == 0) .guarded else .shared);
    h.arena_count += 1;
    if (!dedicated) {
        h.ranges[h.range_count] = .{ .base = a.base, .end = a.base + a.len };
        @atomicStore(u32, &h.range_count, h.range_count + 1, .release);
    }
    return a;
}

/// The arena holding `addr`, or null.
pub fn arenaOf(h: *const Heap, addr: usize) ?*const Arena {
    for (h.arenas[0..h.arena_count]) |*a| if (a.contains(addr)) return a;
    return null;
}

fn arenaOfMut(h: *Heap, addr: usize) *Arena {
    for (h.arenas[0..h.arena_count]) |*a| if (a.contains(addr)) return a;
    unreachable; // callers pass a page of this heap
}

/// Where a new page of `size` bytes goes: its address, and whether its
/// memory is known to be the kernel's zero fill already.
const Placement = struct { addr: usize, fresh: bool };

fn placePage(h: *Heap, size: usize) Error!Placement {
    const units = std.mem.alignForward(usize, size, h.page_size) / h.page_size;
    for (h.arenas[0..h.arena_count]) |*a| {
        if (a.dedicated) {
            // An empty arena of its own kept for reuse (kept arenas only).
            if (a.used_units == 0 and a.len >= size and a.len / 2 <= size) {
                a.used_units = 1;
                return .{ .addr = a.base, .fresh = false };
            }
        } else if (size <= a.len / 4) {
            if (a.take(units)) |addr| return .{ .addr = addr, .fresh = false };
        }
    }
    const len = std.mem.alignForward(usize, size, h.page_size);
    if (len > h.next_reserve / 4) {
        const a = try h.addArena(len, true);
        a.used_units = 1;
        return .{ .addr = a.base, .fresh = true };
    }
    const a = try h.addArena(h.next_reserve, false);
    h.next_reserve = @min(h.next_reserve * 2, max_bytes);
    return .{ .addr = a.take(units).?, .fresh = true };
}

/// Gives the units of the page at `base` back to its arena.
fn unplacePage(h: *Heap, base: usize, size: usize) void {
    const a = h.arenaOfMut(base);
    if (!a.dedicated) {
        a.give(base, std.mem.alignForward(usize, size, h.page_size) / h.page_size);
        return;
    }
    a.used_units = 0;
    if (h.keep_arenas) return; // reused by a later large page; unmapped by the owner
    const i = (@intFromPtr(a) - @intFromPtr(&h.arenas)) / @sizeOf(Arena);
    if (!a.deinit(h.sys, gpa, false)) {
        h.decommit_failures += 1;
        return; // stays in the list, empty, for reuse
    }
    h.arena_count -= 1;
    h.arenas[i] = h.arenas[h.arena_count];
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
    return h.registerWith(name, struct_size, 0);
}

/// Registers a family; `class_size` > 0 makes it a size class of untyped memory.
pub fn registerWith(h: *Heap, name: []const u8, struct_size: u64, class_size: u32) Error!u32 {
    try h.usable();
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
    f.* = Family.init(id, name, struct_size, Family.alignmentFor(struct_size, id == bytes_family or class_size != 0));
    f.class_size = class_size;
    if (h.fronted and id != bytes_family) {
        f.unit = if (class_size != 0) class_size else front.unitFor(struct_size, f.alignment, h.page_size);
    }
    h.names.putAssumeCapacity(f.name(), id);
    h.family_count += 1;
    return id;
}

// ---------------------------------------------------------------- pages

pub inline fn isRegular(h: *const Heap, page: *const Page) bool {
    return !page.isLarge() and page.size == h.page_size;
}

fn addIdle(h: *Heap, page: *Page) bool {
    h.idle.ensureUnusedCapacity(gpa, 1) catch return false;
    h.idle.appendAssumeCapacity(page);
    page.flags |= Page.flag_idle;
    page.sealWith(h.key);
    return true;
}

fn unidle(h: *Heap, page: *Page) Error!void {
    const i = std.mem.indexOfScalar(*Page, h.idle.items, page) orelse
        return h.poison("page 0x{x} is marked idle but is not in the idle list", .{page.base()});
    _ = h.idle.swapRemove(i);
    page.flags &= ~Page.flag_idle;
    page.sealWith(h.key);
}

/// An idle page of the regular size, or null.
fn idleRegular(h: *const Heap) ?*Page {
    for (h.idle.items) |p| if (!p.isLarge()) return p;
    return null;
}

/// An idle large page of `f` that fits `bytes` without wasting half of it.
fn idleLarge(h: *const Heap, f: *const Family, bytes: usize) ?*Page {
    for (h.idle.items) |p| {
        if (p.isLarge() and p.family == f.id and p.largeSize() >= bytes and p.largeSize() / 2 <= bytes) return p;
    }
    return null;
}

/// Takes `page` out of `f`'s list. The page that moves into its slot is
/// resealed only when its header was intact: resealing a damaged one would
/// make the damage pass every later check.
fn unlinkPage(h: *Heap, f: *Family, page: *Page) void {
    const last = f.pages.items[f.pages.items.len - 1];
    const intact = last.valid(h.key);
    if (f.unlinkPage(page)) |moved| {
        if (intact) moved.sealWith(h.key);
    }
}

/// Puts a page of `size` bytes in place for `f`: from an arena, its memory
/// given back to the kernel first so that it reads as zeros (unless it is
/// known to), its header written and sealed, linked into the family.
fn mapPage(h: *Heap, f: *Family, size: usize, large: bool) Error!*Page {
    try f.pages.ensureUnusedCapacity(gpa, 1);
    const at = try h.placePage(size);
    var dirty: usize = Page.header_size + Block.header_size;
    if (!at.fresh and !h.sys.decommit(@ptrFromInt(at.addr), size)) {
        // Old data may still be there: treat all of it as written.
        h.decommit_failures += 1;
        dirty = size;
    }
    const page: *Page = @ptrFromInt(at.addr);
    page.init(f.id, size, dirty, large);
    f.linkPage(page);
    page.sealWith(h.key);
    h.pages_taken += 1;
    return page;
}

/// A regular page for `f` with one free block (in the queue); returns that block.
fn newRegularPage(h: *Heap, f: *Family) Error!*Block {
    const page = if (h.idleRegular()) |p| blk: {
        // Take an idle page from its family (never f's own: f's queue would
        // have served a regular request from it).
        const owner = try h.expectIdle(p);
        try f.pages.ensureUnusedCapacity(gpa, 1);
        try h.unidle(p);
        owner.removeFree(p.first());
        owner.counters.total_blocks -|= 1;
        h.unlinkPage(owner, p);
        p.family = f.id;
        f.linkPage(p);
        break :blk p;
    } else try h.mapPage(f, h.page_size, false);
    const b = page.first();
    b.init(Page.capacity(h.page_size), 0, .free);
    _ = page.markDirty(b.dataAddr() + @sizeOf(u32)); // the queue index
    page.sealWith(h.key);
    f.counters.total_blocks += 1;
    f.addFree(b);
    b.sealWith(h.key);
    return b;
}

/// Takes an empty page out of its family and gives its memory back.
fn releasePage(h: *Heap, f: *Family, page: *Page) void {
    f.counters.total_blocks -|= 1;
    h.unlinkPage(f, page);
    h.released[h.released_count % released_len] = .{ .base = page.base(), .end = page.end() };
    h.released_count += 1;
    h.pages_returned += 1;
    // Drop the memory (RSS falls) before the units can be placed again; the
    // header goes with it, so take what is needed from it first.
    const base = page.base();
    const size: usize = @intCast(page.size);
    if (!h.sys.decommit(@ptrFromInt(base), size)) h.decommit_failures += 1;
    h.unplacePage(base, size);
}

// ---------------------------------------------------------------- blocks

/// Merges free block `b`, which follows `a` in `page`, into `a`. `b`'s
/// header stays behind as `dead` so that a second free of its address is
/// recognised. The caller seals `a`.
fn absorb(h: *Heap, f: *Family, page: *Page, a: *Block, b: *Block) void {
    const after = b.next(page.end());
    a.setSize(a.size() + Block.header_size + b.size());
    if (after) |n| {
        n.setPrevDistance(@intFromPtr(n) - @intFromPtr(a));
        n.sealWith(h.key);
    }
    b.setState(.dead);
    b.sealWith(h.key);
    f.counters.total_blocks -|= 1;
}

/// Cuts block `b` down to `need` data bytes when the rest can hold a meta
/// block and `min_data`, and returns the rest as a new free block (not yet in
/// the queue, not sealed), or null when there is nothing to cut. The caller
/// seals `b` and has verified the block after it.
fn cutTail(h: *Heap, f: *Family, page: *Page, b: *Block, need: usize) ?*Block {
    const rest_size = b.size() - need;
    if (rest_size < Block.header_size + minData(f)) return null;
    const after = b.next(page.end());
    const rest: *Block = @ptrFromInt(b.dataAddr() + need);
    rest.init(rest_size - Block.header_size, Block.header_size + need, .free);
    if (after) |n| {
        n.setPrevDistance(@intFromPtr(n) - @intFromPtr(rest));
        n.sealWith(h.key);
    }
    b.setSize(need);
    f.counters.total_blocks += 1;
    if (page.markDirty(rest.dataAddr() + @sizeOf(u32))) page.sealWith(h.key);
    return rest;
}

/// Smallest data block a split may leave behind: one alignment unit.
inline fn minData(f: *const Family) usize {
    return f.alignment;
}

/// Cuts occupied block `b` (being resized) down to `need` bytes; the rest
/// becomes a free block, merged with a free successor (verified by the caller).
fn splitTail(h: *Heap, f: *Family, page: *Page, b: *Block, need: usize) void {
    const rest = h.cutTail(f, page, b, need) orelse return;
    if (rest.next(page.end())) |n| if (n.isFree()) {
        f.removeFree(n);
        h.absorb(f, page, rest, n);
    };
    f.addFree(rest);
    rest.sealWith(h.key);
}

/// Zeroes the part of `p[0..len]` below address `clean_from` (memory above
/// it was never written since the kernel provided it).
pub fn zeroBelow(p: [*]u8, len: usize, clean_from: usize) void {
    const start = @intFromPtr(p);
    const stop = @min(start + len, clean_from);
    if (start >= stop) return;
    const n = stop - start;
    if (n <= 64 and (start | n) % 8 == 0) {
        // Small blocks: a few aligned 8-byte stores, no call.
        var i: usize = 0;
        while (i < n) : (i += 8) @as(*u64, @ptrFromInt(start + i)).* = 0;
        return;
    }
    @memset(p[0..n], 0);
}

pub fn markOccupied(h: *Heap, f: *Family, page: *Page, b: *Block, requested: u64, site: u32) void {
    b.setUse(site, b.size() - requested);
    b.setState(.occupied);
    b.sealWith(h.key);
    f.countOccupied(b.size(), requested);
    h.app_bytes += requested;
    h.peak_app_bytes = @max(h.peak_app_bytes, h.app_bytes);
    if (page.markDirty(b.endAddr())) page.sealWith(h.key);
}

pub fn unmarkOccupied(h: *Heap, f: *Family, size: u64, requested: u64) void {
    f.uncountOccupied(size, requested);
    h.app_bytes -|= requested;
}

/// Bytes for `units` structures of `f`, checked.
pub fn requestBytes(f: *const Family, units: u64) Error!u64 {
    if (units == 0) return error.ZeroSize;
    const bytes = std.math.mul(u64, units, f.struct_size) catch return error.Overflow;
    if (bytes > max_bytes) return error.Overflow;
    return bytes;
}

/// The page of a regular block taken from `f`'s queue, verified.
pub fn regularPageOf(h: *Heap, f: *const Family, b: *const Block) Error!*Page {
    const page: *Page = @ptrFromInt(@intFromPtr(b) & ~(h.page_size - 1));
    if ((try h.pageFamily(page)) != f or page.isLarge())
        return h.poison("page 0x{x} of a free block of {s} belongs elsewhere", .{ page.base(), f.name() });
    return page;
}

/// Data bytes of the block that serves `bytes` in `f`: the class size for a
/// size class, else `bytes` rounded up to the family's alignment.
pub inline fn needFor(f: *const Family, bytes: u64) usize {
    return if (f.class_size != 0) f.class_size else @intCast(std.mem.alignForward(u64, bytes, f.alignment));
}

/// Zeroed memory for `units` structures of family `family_id`: from the
/// front cache when it holds a block of that size, else worst fit. Untyped
/// requests (family 0) of up to `front.max_class` bytes go to their size
/// class, unless the heap is exact.
pub fn alloc(h: *Heap, family_id: u32, units: u64, site: u32) Error![*]u8 {
    try h.usable();
    var f = h.family(family_id) orelse return error.UnknownFamily;
    const bytes = try requestBytes(f, units);
    if (site >= h.sites.count()) return error.InvalidArg;
    if (h.fronted) {
        if (f.id == bytes_family) if (front.classOf(bytes)) |c| {
            if (front.classes[c] <= Page.capacity(h.page_size)) f = try front.classFamily(h, c);
        };
        if (f.unit != 0 and needFor(f, bytes) == f.unit) {
            if (try front.take(h, f, bytes, site)) |p| return p;
        }
    }
    if (bytes > Page.capacity(h.page_size)) return h.allocLarge(f, bytes, site);
    const c = try h.carve(f, needFor(f, bytes));
    zeroBelow(c.block.data(), c.block.size(), c.clean_from);
    h.markOccupied(f, c.page, c.block, bytes, site);
    f.counters.alloc_count += 1;
    return c.block.data();
}

/// A block carved out of the worst-fit heap: out of the free queue and out
/// of the free counts, not yet marked.
pub const Carved = struct {
    block: *Block,
    page: *Page,
    /// The page's dirty mark before the carve: memory above it is zero.
    clean_from: usize,
};

/// Takes a block of `need` data bytes from `f`'s largest free block — worst
/// fit — or from a new page, splitting off the rest.
pub fn carve(h: *Heap, f: *Family, need: usize) Error!Carved {
    try f.queue.ensureUnusedCapacity(gpa, 1);
    var page: *Page = undefined;
    const b = blk: {
        if (f.queue.maxSize() >= need) {
            const top = f.queue.max().?;
            page = try h.regularPageOf(f, top);
            try h.expectFree(f, top, page);
            break :blk top;
        }
        const b = try h.newRegularPage(f);
        page = @ptrFromInt(@intFromPtr(b) & ~(h.page_size - 1));
        break :blk b;
    };
    if (b.next(page.end())) |n| try h.expectBlock(n, page);
    if (page.isIdle()) try h.unidle(page);
    // Above the page's dirty mark memory is still the kernel's zero fill:
    // read the mark before the split writes the rest's header past it.
    const clean_from = page.dirtyEnd();
    // A free block's successor is never free, so the rest needs no merging;
    // it takes the block's place in the queue.
    const old_size = b.size();
    if (h.cutTail(f, page, b, need)) |rest| {
        f.replaceFree(b, old_size, rest);
        rest.sealWith(h.key);
    } else {
        f.removeFree(b);
    }
    return .{ .block = b, .page = page, .clean_from = clean_from };
}

/// A large page holding one block of `bytes`.
fn allocLarge(h: *Heap, f: *Family, bytes: u64, site: u32) Error![*]u8 {
    const page = if (h.idleLarge(f, bytes)) |p| blk: {
        _ = try h.expectIdle(p);
        try h.unidle(p);
        f.countLoose(p.largeSize(), .out);
        break :blk p;
    } else blk: {
        const raw = std.math.add(usize, @intCast(bytes), Page.header_size + Block.header_size) catch return error.Overflow;
        const size = std.mem.alignForward(usize, raw, os.os_page);
        const p = try h.mapPage(f, size, true);
        f.counters.total_blocks += 1;
        break :blk p;
    };
    const b = page.first();
    zeroBelow(b.data(), @intCast(bytes), page.dirtyEnd());
    b.init(0, 0, .occupied);
    b.setUse(site, 0);
    b.sealWith(h.key);
    page.requested = bytes;
    _ = page.markDirty(b.dataAddr() + @as(usize, @intCast(bytes)));
    page.sealWith(h.key);
    f.countOccupied(page.largeSize(), bytes);
    h.app_bytes += bytes;
    h.peak_app_bytes = @max(h.peak_app_bytes, h.app_bytes);
    f.counters.alloc_count += 1;
    return b.data();
}

pub const Found = struct {
    page: *Page,
    block: *Block,
    family: *Family,

    /// Data bytes of the block.
    pub fn size(r: Found) usize {
        return if (r.page.isLarge()) r.page.largeSize() else r.block.size();
    }

    /// Bytes the application asked for.
    pub fn requested(r: Found) u64 {
        return if (r.page.isLarge()) r.page.requested else r.block.requested();
    }
};

/// The occupied block that starts at `addr`, or why there is none. Reads no
/// memory outside the heap's arenas; poisons the heap when what it reads is
/// damaged.
pub fn resolve(h: *Heap, addr: usize) Error!Found {
    try h.usable();
    const arena = h.arenaOf(addr) orelse return if (h.recentlyReleased(addr)) error.DoubleFree else error.NotOwned;
    if (addr % 8 != 0 or addr - arena.base < Page.header_size + Block.header_size) return h.classify(arena, addr);
    const b = Block.fromData(addr);
    if (!b.valid(h.key)) return h.classify(arena, addr);
    switch (b.state().?) {
        .occupied => {},
        .cached => if (!b.isHeld()) return error.DoubleFree,
        .free, .dead => return error.DoubleFree,
    }
    const large = b.size_g == 0;
    const page: *Page = @ptrFromInt(if (large) addr - Block.header_size - Page.header_size else addr & ~(h.page_size - 1));
    if (page.base() < arena.base) return h.poison("block at 0x{x} lies before its arena", .{addr});
    const f = try h.pageFamily(page);
    if (large != page.isLarge() or (large and page.first() != b) or b.endAddr() > page.end())
        return h.poison("block at 0x{x} does not fit its page 0x{x}", .{ addr, page.base() });
    return .{ .page = page, .block = b, .family = f };
}

fn recentlyReleased(h: *const Heap, addr: usize) bool {
    const n = @min(h.released_count, released_len);
    for (h.released[0..n]) |r| if (addr >= r.base and addr < r.end) return true;
    return false;
}

/// Why `addr`, inside `arena` but not at an intact occupied block, is not a
/// block: walks the page that holds it (error path only).
fn classify(h: *Heap, arena: *const Arena, addr: usize) Error {
    const base = if (arena.dedicated)
        (if (arena.used_units != 0) arena.base else null)
    else
        arena.pageStart(addr);
    const page: *Page = @ptrFromInt(base orelse return if (h.recentlyReleased(addr)) error.DoubleFree else error.NotOwned);
    _ = try h.pageFamily(page);
    if (addr >= page.end()) return error.NotOwned;
    if (page.isLarge()) {
        const b = page.first();
        try h.expectBlock(b, page);
        if (addr < b.dataAddr()) return error.NotOwned;
        return if (b.isFree()) error.NotOwned else error.Interior;
    }
    var it: ?*Block = page.first();
    var expect_prev: usize = 0;
    while (it) |b| : (it = b.next(page.end())) {
        try h.expectBlock(b, page);
        if (b.prevDistance() != expect_prev) return h.poison("meta block at 0x{x} links back to the wrong block", .{@intFromPtr(b)});
        if (addr < b.dataAddr()) return error.NotOwned;
        if (addr < b.endAddr()) return if (b.isFree()) error.NotOwned else error.Interior;
        expect_prev = Block.header_size + b.size();
    }
    return error.NotOwned;
}

/// Verifies both neighbours of a regular block before a free or a resize
/// rewrites them: the next one (an overflow out of `b` lands there first) and
/// the previous one; a free neighbour must also be where its queue says.
pub fn checkNeighbours(h: *Heap, r: Found) Error!void {
    if (r.page.isLarge()) return;
    const b = r.block;
    if (b.next(r.page.end())) |n| {
        try h.expectBlock(n, r.page);
        if (n.prevDistance() != @intFromPtr(n) - @intFromPtr(b)) return h.poison("meta block at 0x{x} links back to the wrong block", .{@intFromPtr(n)});
        if (n.isFree()) {
            // A merge rewrites the block after it too.
            try h.expectFree(r.family, n, r.page);
            if (n.next(r.page.end())) |after| try h.expectBlock(after, r.page);
        }
    }
    if (b.prev()) |p| {
        try h.expectBlock(p, r.page);
        if (p.endAddr() != @intFromPtr(b)) return h.poison("meta block at 0x{x} does not end where the next one starts", .{@intFromPtr(p)});
        if (p.isFree()) try h.expectFree(r.family, p, r.page);
    }
}

/// Gives the block at `addr` back; coalesces; returns an empty page.
pub fn free(h: *Heap, addr: usize) Error!void {
    try h.usable();
    const r = try h.resolve(addr);
    if (r.block.state().? == .cached) {
        // Held by a thread cache (locked heaps) or by the TypeScript tier.
        if (!h.threads.on()) return error.InvalidArg;
        if (try tcache.freeLocked(h, r)) return;
        try tcache.adopt(h, r);
    }
    if (!r.page.isLarge() and r.family.unit != 0 and r.block.size() == r.family.unit) {
        // Into the front cache: nothing merges, but the next header is still
        // verified, where a write past the end of this block lands first.
        if (r.block.next(r.page.end())) |n| try h.expectBlock(n, r.page);
        if (try front.put(h, r)) return;
    }
    try h.checkNeighbours(r);
    try r.family.queue.ensureUnusedCapacity(gpa, 1);
    h.freeResolved(r);
}

fn freeResolved(h: *Heap, r: Found) void {
    const f = r.family;
    h.unmarkOccupied(f, r.size(), r.requested());
    f.counters.free_count += 1;
    h.insertFree(f, r.page, r.block);
}

/// Makes `b` (out of every count, its neighbours verified, queue capacity
/// reserved) a free block of the worst-fit heap: coalesced with its free
/// neighbours, an emptied page kept idle or given back.
pub fn insertFree(h: *Heap, f: *Family, page: *Page, b: *Block) void {
    const r: Found = .{ .page = page, .block = b, .family = f };
    b.setUse(0, 0);
    b.setState(.free);
    if (r.page.isLarge()) {
        b.sealWith(h.key);
        r.page.requested = 0;
        r.page.sealWith(h.key);
        if (h.idle.items.len < h.cache_limit and r.page.size <= max_idle_large and h.addIdle(r.page)) {
            // Its block is free, outside the queue (large pages serve only
            // their own size): counted as free all the same.
            f.countLoose(r.page.largeSize(), .in);
            return;
        }
        h.releasePage(f, r.page);
        return;
    }
    // Merge with the free neighbours. The merged block keeps a queue slot
    // that is already there (the previous block's, else the next one's), so
    // one sift replaces a removal and an insertion.
    const next: ?*Block = if (b.next(page.end())) |n| (if (n.isFree()) n else null) else null;
    const merged = if (b.prev()) |p| (if (p.isFree()) p else null) else null;
    if (merged) |p| {
        const old = p.size();
        if (next) |n| {
            f.removeFree(n);
            h.absorb(f, page, b, n);
        }
        h.absorb(f, page, p, b);
        f.resizeFree(p, old);
        p.sealWith(h.key);
    } else if (next) |n| {
        const old = n.size();
        h.absorb(f, page, b, n);
        f.replaceFree(n, old, b);
        b.sealWith(h.key);
    } else {
        f.addFree(b);
        b.sealWith(h.key);
    }
    const m = merged orelse b;
    if (m.prev() == null and m.endAddr() == page.end()) {
        if (h.idle.items.len < h.cache_limit and page.size <= max_idle_large and h.addIdle(page)) return;
        f.removeFree(m);
        h.releasePage(f, page);
    }
}

/// Resizes the block at `addr` to `units` structures of its family, in place
/// when it shrinks or its successor is free and large enough, else by moving.
/// Bytes beyond the old size are zeroed.
pub fn realloc(h: *Heap, addr: usize, units: u64) Error![*]u8 {
    try h.usable();
    const r = try h.resolve(addr);
    if (r.block.state().? == .cached) {
        if (!h.threads.on()) return error.InvalidArg; // held by the TypeScript tier
        try tcache.adopt(h, r);
    }
    const f = r.family;
    const b = r.block;
    const bytes = try requestBytes(f, units);
    if (f.class_size != 0) return h.reallocClass(r, bytes);
    try h.checkNeighbours(r);
    // Room for: a split tail now, or (moving) a new page's block plus the old block's free.
    try f.queue.ensureUnusedCapacity(gpa, 2);
    const old = r.requested();
    const site = b.site();
    if (r.page.isLarge()) {
        const cap = r.page.largeSize();
        if (bytes <= cap and bytes >= cap / 2) {
            h.unmarkOccupied(f, cap, old);
            if (bytes > old) zeroBelow(b.data() + old, bytes - old, r.page.dirtyEnd());
            r.page.requested = bytes;
            _ = r.page.markDirty(b.dataAddr() + bytes);
            r.page.sealWith(h.key);
            f.countOccupied(cap, bytes);
            h.app_bytes += bytes;
            h.peak_app_bytes = @max(h.peak_app_bytes, h.app_bytes);
            f.counters.realloc_count += 1;
            return b.data();
        }
    } else if (bytes <= Page.capacity(h.page_size)) {
        const need: usize = @intCast(std.mem.alignForward(u64, bytes, f.alignment));
        const next = b.next(r.page.end());
        const in_place = need <= b.size() or if (next) |n|
            n.isFree() and b.size() + Block.header_size + n.size() >= need
        else
            false;
        if (in_place) {
            h.unmarkOccupied(f, b.size(), old);
            if (need > b.size()) {
                const n = next.?;
                f.removeFree(n);
                h.absorb(f, r.page, b, n);
            }
            if (bytes > old) zeroBelow(b.data() + old, b.size() - old, r.page.dirtyEnd());
            h.splitTail(f, r.page, b, need);
            h.markOccupied(f, r.page, b, bytes, site);
            f.counters.realloc_count += 1;
            return b.data();
        }
    }
    const moved = try h.alloc(f.id, units, site);
    const keep: usize = @intCast(@min(old, bytes));
    @memcpy(moved[0..keep], b.data()[0..keep]);
    // The reservation above keeps this free from needing memory; the block
    // and its neighbours were verified and only verified writes happened since.
    h.freeResolved(h.resolve(addr) catch unreachable);
    f.counters.realloc_count += 1;
    return moved;
}

/// Resizes a block of a size class: in place while the size stays in its
/// class, else into the class (or the worst-fit family) of the new size.
fn reallocClass(h: *Heap, r: Found, bytes: u64) Error![*]u8 {
    const f = r.family;
    const b = r.block;
    const old = b.requested();
    if (front.classOf(bytes)) |c| if (front.classes[c] == f.class_size and b.size() == f.class_size) {
        h.unmarkOccupied(f, b.size(), old);
        if (bytes > old) zeroBelow(b.data() + old, @intCast(bytes - old), r.page.dirtyEnd());
        h.markOccupied(f, r.page, b, bytes, b.site());
        f.counters.realloc_count += 1;
        return b.data();
    };
    const moved = try h.alloc(bytes_family, bytes, b.site());
    @memcpy(moved[0..@intCast(@min(old, bytes))], b.data()[0..@intCast(@min(old, bytes))]);
    try h.free(r.block.dataAddr());
    f.counters.realloc_count += 1;
    return moved;
}

// ---------------------------------------------------------------- sites

pub fn internSite(h: *Heap, text: []const u8) Error!u32 {
    try h.usable();
    return h.sites.intern(gpa, text);
}

// ---------------------------------------------------------------- tests

const testing = std.testing;
const check = @import("check.zig");

const expectValid = check.expectValid;

fn testHeap(config: Config) !*Heap {
    var c = config;
    if (c.reserve == default_reserve) c.reserve = 256 << 20; // tests make many heaps
    return create(c);
}

fn done(h: *Heap) void {
    testing.expect(h.destroyFully()) catch unreachable;
}

test "create refuses page sizes that are not powers of two in range" {
    for ([_]usize{ 0, 1000, 2048, 4096 * 3, 2 << 30 }) |ps| {
        try testing.expectError(error.BadConfig, create(.{ .page_size = ps }));
    }
    try testing.expectError(error.BadConfig, create(.{ .reserve = max_bytes + 1 }));
    const h = try testHeap(.{ .page_size = 4096 });
    done(h);
}

test "alloc hands out zeroed, aligned memory and free returns the page" {
    const h = try testHeap(.{ .page_cache = 0 });
    defer done(h);
    const emp = try h.register("emp_t", 36);
    const p = try h.alloc(emp, 3, 0);
    try testing.expect(@intFromPtr(p) % 8 == 0);
    for (p[0..108]) |c| try testing.expectEqual(@as(u8, 0), c);
    @memset(p[0..108], 0xAB);
    try expectValid(h);
    try testing.expectEqual(@as(u64, 1), h.family(emp).?.counters.pages);
    try h.free(@intFromPtr(p));
    try expectValid(h);
    try testing.expectEqual(@as(u64, 0), h.family(emp).?.counters.pages);
    try testing.expectEqual(h.pages_taken, h.pages_returned);
    const q = try h.alloc(bytes_family, 1, 0);
    try testing.expect(@intFromPtr(q) % 16 == 0);
    try h.free(@intFromPtr(q));
}

test "blocks of a family whose size is a multiple of 16 stay 16-byte aligned" {
    const h = try testHeap(.{});
    defer done(h);
    const v = try h.register("vec4_t", 32);
    const e = try h.register("rec_t", 24);
    var ptrs: [50][*]u8 = undefined;
    for (&ptrs, 0..) |*p, i| p.* = try h.alloc(if (i % 2 == 0) v else e, 1 + i % 3, 0);
    for (ptrs, 0..) |p, i| try testing.expect(@intFromPtr(p) % (if (i % 2 == 0) @as(usize, 16) else 8) == 0);
    try expectValid(h);
    for (ptrs) |p| try h.free(@intFromPtr(p));
    try expectValid(h);
}

test "a fresh page is not written beyond the headers (the kernel's zero fill is trusted)" {
    const h = try testHeap(.{ .page_cache = 0 });
    defer done(h);
    const p = try h.alloc(bytes_family, 8 << 20, 0);
    // Nothing of the 8 MiB was memset: no page past the first MiB is resident.
    const from = std.mem.alignForward(usize, @intFromPtr(p) + (1 << 20), 4096);
    try testing.expectEqual(@as(?usize, 0), os.residentPages(from, 4 << 20));
    try h.free(@intFromPtr(p));
}

test "an emptied page gives its memory back: RSS falls, the range stays mapped" {
    const h = try testHeap(.{ .exact = true });
    defer done(h);
    const p = try h.alloc(bytes_family, 1000, 0);
    const page = @intFromPtr(p) & ~(h.page_size - 1);
    @memset(p[0..1000], 0x5A);
    try testing.expect(os.residentPages(page, h.page_size).? >= 1);
    try h.free(@intFromPtr(p));
    try testing.expectEqual(@as(?usize, 0), os.residentPages(page, h.page_size));
    // A stale access reads zeros and may even write: nothing faults.
    try testing.expectEqual(@as(u8, 0), p[10]);
    p[10] = 1;
    // The next page placed there is zeroed again before use.
    const q = try h.alloc(bytes_family, 1000, 0);
    try testing.expectEqual(@intFromPtr(p), @intFromPtr(q));
    for (q[0..1000]) |c| try testing.expectEqual(@as(u8, 0), c);
    try h.free(@intFromPtr(q));
    try expectValid(h);
}

test "memory reused after free is zeroed again" {
    const h = try testHeap(.{});
    defer done(h);
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
    const h = try testHeap(.{ .page_size = 4096, .exact = true });
    defer done(h);
    // Carve a page into blocks, then free two of different sizes apart.
    const small = try h.alloc(bytes_family, 64, 0);
    _ = try h.alloc(bytes_family, 16, 0);
    const big = try h.alloc(bytes_family, 512, 0);
    _ = try h.alloc(bytes_family, 16, 0);
    _ = try h.alloc(bytes_family, Page.capacity(4096) - (64 + 16 + 512 + 16) - 4 * Block.header_size, 0);
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
        const h = try testHeap(.{ .exact = true });
        defer done(h);
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

test "remainder of header size -1, 0 and +1 granules: hard fragmentation or a split" {
    // An empty 4 KiB page holds capacity(4096) data bytes in one block.
    const cap = Page.capacity(4096);
    const cases = [_]struct { take: usize, split: bool }{
        .{ .take = cap, .split = false }, // exact fit
        .{ .take = cap - Block.header_size, .split = false }, // rest = header only: no data room
        .{ .take = cap - Block.header_size - 16, .split = true }, // smallest split
        .{ .take = cap - Block.header_size + 16, .split = false }, // rest < header
    };
    for (cases) |c| {
        const h = try testHeap(.{ .page_size = 4096, .exact = true });
        defer done(h);
        const p = try h.alloc(bytes_family, c.take, 0);
        const f = h.family(bytes_family).?;
        try testing.expectEqual(@as(u64, if (c.split) 2 else 1), f.counters.total_blocks);
        try testing.expectEqual(@as(u64, if (c.split) 0 else cap - c.take), f.counters.hard_frag_bytes);
        try expectValid(h);
        try h.free(@intFromPtr(p));
        try expectValid(h);
    }
}

test "an 8-aligned family splits in 8-byte steps" {
    const h = try testHeap(.{ .page_size = 4096 });
    defer done(h);
    const rec = try h.register("rec_t", 24);
    const cap = Page.capacity(4096);
    // Leave exactly a header and 8 bytes: the smallest split of an 8-aligned family.
    const n = (cap - Block.header_size - 8) / 24;
    try testing.expectEqual(cap - Block.header_size - 8, n * 24); // 4016 = 167 × 24 + 8
    const a = try h.alloc(rec, 1, 0);
    const b = try h.alloc(rec, 1, 0);
    try testing.expectEqual(@intFromPtr(a) + 24 + Block.header_size, @intFromPtr(b));
    try expectValid(h);
}

test "soft fragmentation counts free blocks smaller than one structure" {
    const h = try testHeap(.{ .page_size = 4096 });
    defer done(h);
    const big = try h.register("big_t", 1000);
    const cap = Page.capacity(4096);
    const a = try h.alloc(big, 4, 0);
    const f = h.family(big).?;
    const tail = cap - 4000;
    try testing.expect(tail > Block.header_size);
    try testing.expectEqual(@as(u64, 1), f.counters.soft_frag_blocks);
    try testing.expectEqual(@as(u64, tail - Block.header_size), f.counters.soft_frag_bytes);
    try h.free(@intFromPtr(a));
    try testing.expectEqual(@as(u64, 0), f.counters.soft_frag_blocks);
    try expectValid(h);
}

test "requests larger than a page get a page sized to fit, and of exactly a page" {
    const h = try testHeap(.{ .page_size = 4096, .page_cache = 0 });
    defer done(h);
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
    try testing.expectEqual(h.pages_taken, h.pages_returned);
    try expectValid(h);
}

test "a request bigger than the arenas gets an arena of its own, returned when freed" {
    const h = try testHeap(.{ .reserve = 1 << 20, .page_cache = 0 });
    defer done(h);
    const p = try h.alloc(bytes_family, 3 << 20, 0);
    try testing.expectEqual(@as(u32, 2), h.arena_count);
    p[(3 << 20) - 1] = 1;
    try expectValid(h);
    try h.free(@intFromPtr(p));
    try testing.expectEqual(@as(u32, 1), h.arena_count);
    try expectValid(h);
}

test "a full arena is followed by one twice its size" {
    const h = try testHeap(.{ .reserve = 16 * 4096, .page_size = 4096, .page_cache = 0 });
    defer done(h);
    var ptrs: [50][*]u8 = undefined;
    for (&ptrs) |*p| p.* = try h.alloc(bytes_family, 4000, 0);
    try testing.expectEqual(@as(u32, 3), h.arena_count); // 16 + 32 + 64 pages
    try testing.expectEqual(@as(usize, 32 * 4096), h.arenas[1].len);
    try expectValid(h);
    for (ptrs) |p| try h.free(@intFromPtr(p));
    try expectValid(h);
}

test "a request of the 64 TiB limit is mapped lazily or refused, never half-done" {
    const h = try testHeap(.{});
    defer done(h);
    const before = h.pages_taken;
    if (h.alloc(bytes_family, max_bytes, 0)) |p| {
        p[0] = 1;
        p[max_bytes - 1] = 2;
        try expectValid(h);
        try testing.expectError(error.Interior, h.free(@intFromPtr(p) + max_bytes / 2));
        try h.free(@intFromPtr(p));
    } else |e| {
        try testing.expectEqual(error.OutOfMemory, e);
        try testing.expectEqual(before, h.pages_taken);
    }
    try expectValid(h);
}

test "bad addresses get their own errors and change nothing" {
    const h = try testHeap(.{});
    defer done(h);
    const emp = try h.register("emp_t", 40);
    const a = try h.alloc(emp, 2, 0);
    const b = try h.alloc(emp, 1, 0);
    var local: u64 = 0;
    try testing.expectError(error.NotOwned, h.free(@intFromPtr(&local)));
    try testing.expectError(error.NotOwned, h.free(0x1000));
    try testing.expectError(error.Interior, h.free(@intFromPtr(a) + 16));
    try testing.expectError(error.Interior, h.free(@intFromPtr(a) + 3));
    try testing.expectError(error.NotOwned, h.free(@intFromPtr(a) - 8)); // inside its header
    try testing.expectError(error.NotOwned, h.free(h.arenas[0].base + h.arenas[0].len - 64)); // never placed
    try h.free(@intFromPtr(a));
    try testing.expectError(error.DoubleFree, h.free(@intFromPtr(a)));
    try h.free(@intFromPtr(b)); // coalesces with a's block: b's header is dead now
    try testing.expectError(error.DoubleFree, h.free(@intFromPtr(b))); // its page is idle
    try testing.expect(!h.isPoisoned());
    try expectValid(h);
}

test "a double free into a page just returned to the kernel is still a double free" {
    const h = try testHeap(.{ .page_cache = 0 });
    defer done(h);
    const a = try h.alloc(bytes_family, 64, 0);
    try h.free(@intFromPtr(a));
    try testing.expectError(error.DoubleFree, h.free(@intFromPtr(a)));
    try expectValid(h);
}

test "double free after coalescing is still a double free" {
    const h = try testHeap(.{});
    defer done(h);
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

test "a write past the end of a block is caught at free, poisons the heap, and destroy still works" {
    const h = try testHeap(.{});
    defer done(h);
    const a = try h.alloc(bytes_family, 32, 0);
    const b = try h.alloc(bytes_family, 32, 0);
    a[32] ^= 0xFF; // first byte of b's meta block
    try testing.expectError(error.Corrupted, h.free(@intFromPtr(a)));
    try testing.expect(h.isPoisoned());
    try testing.expect(std.mem.indexOf(u8, h.poisonReason(), "integrity") != null);
    try testing.expectError(error.Poisoned, h.free(@intFromPtr(b)));
    try testing.expectError(error.Poisoned, h.alloc(bytes_family, 8, 0));
    var msg: [256]u8 = undefined;
    try testing.expectError(error.Corrupted, check.run(h, &msg));
}

test "an overflow into a free neighbour is found by the next alloc, which writes nothing" {
    for (1..65) |len| {
        const h = try testHeap(.{});
        defer done(h);
        const a = try h.alloc(bytes_family, 32, 0); // its successor is the page's free tail
        const stats_before = h.family(bytes_family).?.counters;
        @memset(a[32 .. 32 + len], 0xEE);
        if (h.alloc(bytes_family, 100, 0)) |p| {
            // The damage did not reach a field the alloc relies on (it hit
            // the tail's data, or left its header intact by chance).
            try h.free(@intFromPtr(p));
        } else |e| {
            try testing.expectEqual(error.Corrupted, e);
            try testing.expect(h.isPoisoned());
            try testing.expectEqual(stats_before, h.family(bytes_family).?.counters);
        }
    }
}

test "names: duplicate, empty, over-long, control bytes, zero size" {
    const h = try testHeap(.{});
    defer done(h);
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
    const h = try testHeap(.{ .page_size = 4096 });
    defer done(h);
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
    const h = try testHeap(.{});
    defer done(h);
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
    const big = try h.realloc(@intFromPtr(m), 20_000); // 200 KB: to a large page
    for (big[0..200]) |c| try testing.expectEqual(@as(u8, 9), c);
    try expectValid(h);
    const back = try h.realloc(@intFromPtr(big), 3); // and back to a regular block
    for (back[0..30]) |c| try testing.expectEqual(@as(u8, 9), c);
    try h.free(@intFromPtr(back));
    try h.free(@intFromPtr(blocker));
    try expectValid(h);
}

test "page cache: empty pages are kept up to the limit and reused by any family" {
    const h = try testHeap(.{ .page_size = 4096, .page_cache = 2 });
    defer done(h);
    const a = try h.register("a", 100);
    const b = try h.register("b", 200);
    var ptrs: [4][*]u8 = undefined;
    for (&ptrs) |*p| p.* = try h.alloc(a, 30, 0); // 3000 B: one page each
    for (ptrs) |p| try h.free(@intFromPtr(p));
    try testing.expectEqual(@as(usize, 2), h.idle.items.len);
    try testing.expectEqual(@as(u64, 2), h.pages_returned);
    const taken = h.pages_taken;
    const q = try h.alloc(b, 10, 0);
    try testing.expectEqual(taken, h.pages_taken);
    try testing.expectEqual(@as(usize, 1), h.idle.items.len);
    try expectValid(h);
    try h.free(@intFromPtr(q));
    try h.trim();
    try testing.expectEqual(@as(usize, 0), h.idle.items.len);
    try testing.expectEqual(h.pages_taken, h.pages_returned);
    try expectValid(h);
}

test "a large block freed and allocated again in a loop is placed once" {
    const h = try testHeap(.{});
    defer done(h);
    for (0..100) |i| {
        const p = try h.alloc(bytes_family, 1 << 20, 0);
        for (p[0 .. 1 << 20]) |c| if (c != 0) return error.TestUnexpectedResult;
        @memset(p[0 .. 1 << 20], @truncate(i + 1));
        try h.free(@intFromPtr(p));
    }
    try testing.expectEqual(@as(u64, 1), h.pages_taken);
    try expectValid(h);
    // A regular request of another family does not take the idle large page.
    const q = try h.alloc(try h.register("small", 8), 1, 0);
    try testing.expectEqual(@as(u64, 2), h.pages_taken);
    try h.free(@intFromPtr(q));
    try h.trim();
    try testing.expectEqual(h.pages_taken, h.pages_returned);
    try expectValid(h);
}

test "families rotating through pages do not thrash the kernel" {
    // The case where mimalloc 2.0.9 slows down 17x: many size classes each
    // emptying and refilling a page in turn. The cache makes it call-free.
    const h = try testHeap(.{ .page_size = 4096, .page_cache = 4 });
    defer done(h);
    var ids: [16]u32 = undefined;
    var name_buf: [16]u8 = undefined;
    for (&ids, 0..) |*id, i| id.* = try h.register(try std.fmt.bufPrint(&name_buf, "c{d}", .{i}), 16 * (i + 1));
    for (0..2000) |round| {
        const id = ids[round % ids.len];
        const p = try h.alloc(id, 3, 0);
        try h.free(@intFromPtr(p));
    }
    try testing.expect(h.pages_taken <= 4);
    try expectValid(h);
}

test "sites are recorded per block" {
    const h = try testHeap(.{});
    defer done(h);
    const s = try h.internSite("app.ts:3");
    const p = try h.alloc(bytes_family, 10, s);
    const r = try h.resolve(@intFromPtr(p));
    try testing.expectEqual(s, r.block.site());
    try h.free(@intFromPtr(p));
}

test "destroy returns every page and, unless kept, every arena" {
    const h = try testHeap(.{ .page_size = 4096 });
    const e = try h.register("emp_t", 36);
    for (0..1000) |_| _ = try h.alloc(e, 7, 0);
    try testing.expect(h.pages_taken > 10);
    const base = h.arenas[0].base;
    try testing.expect(h.destroy());
    try testing.expect(h.isDestroyed());
    var vec: [1]u8 = undefined;
    try testing.expectEqual(std.os.linux.E.NOMEM, std.os.linux.E.init(std.os.linux.mincore(@ptrFromInt(base), 4096, &vec)));
    try testing.expect(os.unmap(@alignCast(@as([*]u8, @ptrCast(h))), self_size));
}

test "kept arenas stay mapped after destroy, with their memory given back" {
    const h = try testHeap(.{ .keep_arenas = true });
    const p = try h.alloc(bytes_family, 100_000, 0);
    @memset(p[0..100_000], 1);
    const a = h.arenas[0];
    try testing.expect(h.destroyFully());
    try testing.expectEqual(@as(?usize, 0), os.residentPages(a.base, 1 << 20));
    try testing.expectEqual(@as(u8, 0), p[99_999]); // readable (zeros), and writable
    p[0] = 2;
    try testing.expect(os.Sys.real.unreserve(@ptrFromInt(a.base), a.len));
}

fn failDecommit(_: [*]align(os.os_page) u8, _: usize) bool {
    return false;
}

fn failUnreserve(_: [*]align(os.os_page) u8, _: usize) bool {
    return false;
}

test "decommit failures are counted and pages made on old memory are still zeroed" {
    const sys: os.Sys = .{ .decommit = failDecommit };
    const h = try testHeap(.{ .page_cache = 0, .sys = &sys });
    defer done(h);
    const p = try h.alloc(bytes_family, 5000, 0); // placing the page tries once
    try testing.expectEqual(@as(u64, 1), h.decommit_failures);
    @memset(p[0..5000], 0x77);
    try h.free(@intFromPtr(p)); // the page goes; its memory could not be dropped
    try testing.expectEqual(@as(u64, 2), h.decommit_failures);
    const q = try h.alloc(bytes_family, 5000, 0); // same place, old bytes still there
    try testing.expectEqual(@intFromPtr(p), @intFromPtr(q));
    for (q[0..5000]) |c| try testing.expectEqual(@as(u8, 0), c);
    try testing.expectEqual(@as(u64, 3), h.decommit_failures);
    try h.free(@intFromPtr(q));
    try expectValid(h);
}

test "an arena that cannot be unmapped is reported by destroy" {
    const sys: os.Sys = .{ .unreserve = failUnreserve };
    const h = try testHeap(.{ .sys = &sys });
    const base = h.arenas[0].base;
    const len = h.arenas[0].len;
    try testing.expect(!h.destroy());
    try testing.expect(os.Sys.real.unreserve(@ptrFromInt(base), len));
    try testing.expect(os.unmap(@alignCast(@as([*]u8, @ptrCast(h))), self_size));
}

fn failReserve(_: usize, _: usize) ?[*]align(os.os_page) u8 {
    return null;
}

test "a refused reservation is OutOfMemory at create" {
    const sys: os.Sys = .{ .reserve = failReserve };
    try testing.expectError(error.OutOfMemory, create(.{ .sys = &sys }));
}
