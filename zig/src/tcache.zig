//! Thread caches: what lets one locked heap serve several threads at once.
//!
//! ## Basic Design
//! A locked heap (`Heap.Config.lock`, the C ABI's default) takes its mutex
//! around every call; two threads that allocate at once take turns, and the
//! lock's cache line moves between cores on every call. Production
//! allocators put a small cache per thread in front of the lock; so does
//! LMM. Each thread that allocates from a heap gets a `Cache`: one bin per
//! family (up to `bin_count` families, size classes included) holding up to
//! `bin_cap` blocks of the family's unit size (`Family.unit`).
//!
//! The blocks are lent the same way as to the Deno module's TypeScript tier
//! (`front.lend`): state `cached`, counted as free, `Family.loaned`. A
//! thread **allocates** by popping a block of its bin, setting the block's
//! `held` bit and slack (outside the seal of a cached block, so one 32-bit
//! store and no hash) and zeroing it; it **frees** a held block — its own or
//! any other thread's — by checking its seal, clearing the `held` bit and
//! pushing it on its own bin. Neither takes the lock. An empty bin refills
//! half way and a full one gives its older half back, under the lock.
//! What a thread did is counted in its bins (`Bin` deltas) and applied to
//! the family counters (`front.settle`) by `drain`, which every reader of the
//! heap calls first (statistics, listings, `check`, `trim`): statistics stay
//! exact. With several threads the peak of requested bytes is an upper bound
//! (the sum of each thread's own peak since the last drain); with one it is
//! exact.
//!
//! **Who may touch a cache.** Its thread, without the lock, between `begin`
//! and `end`; its thread holding the lock; any thread holding the lock after
//! `stopAll`. `begin` publishes `busy` and then reads `stop`; `stopAll` sets
//! `stop` on every cache and then waits for `busy` to clear. Either the
//! thread sees `stop` (and goes to the lock) or the stopper sees `busy`
//! (and waits): the store-then-load pairs need a full barrier between them
//! on both sides. The thread's side runs millions of times a second and the
//! stopper's a few, so the barrier is asymmetric: the thread has only a
//! compiler barrier and the stopper makes every running thread of the
//! process execute a full one with Linux's `membarrier` (expedited, private).
//! Where that system call is missing, the thread's store is sequentially
//! consistent instead (a locked instruction, ~8 ns an operation).
//!
//! **Which thread.** The thread pointer register (`fs:0` on x86-64,
//! `tpidr_el0` on AArch64) is unique among live threads; it keys a table of
//! `slot_count` caches in the heap (open addressing). A thread that exits
//! leaves its cache behind: its blocks go back at the next drain, a thread
//! that later gets the same thread pointer (the C library reuses exited
//! threads' stacks) takes the cache over, and when every slot is taken the
//! caches of threads that no longer run (`tgkill(pid, tid, 0)`) are taken
//! back for new ones (`reclaimExited`). Running threads beyond
//! `slot_count` use the lock. Nothing is global: heaps are independent.
//!
//! **What stays on the lock**: allocations with a site, typed allocations
//! of more than one unit, sizes above the unit of their family, families
//! numbered `bin_count` and above, and every block the engine itself handed
//! out. A held block the engine must handle (realloc, or a free from a
//! thread without a cache) is first adopted: every cache is drained and the
//! block becomes an ordinary occupied block.

const std = @import("std");
const builtin = @import("builtin");
const Heap = @import("Heap.zig");
const Family = @import("Family.zig");
const Block = @import("block.zig").Block;
const Page = @import("page.zig").Page;
const front = @import("front.zig");

const Error = Heap.Error;
const gpa = Heap.gpa;
const linux = std.os.linux;

/// Threads with a cache per heap.
pub const slot_count = 64;
/// Families a cache serves (ids 0 to bin_count - 1).
pub const bin_count = 128;
/// Blocks a bin holds at most (fewer for large units: `front.cacheCap`).
pub const bin_cap = 64;

/// One family's blocks in one thread's cache, and what the thread did with
/// them since the last drain.
pub const Bin = struct {
    /// Data bytes of a block (0: not set up).
    unit: u32 = 0,
    /// Bytes one structure takes (1 for a size class).
    struct_size: u32 = 0,
    alignment: u32 = 0,
    cap: u32 = 0,
    len: u32 = 0,
    allocs: u64 = 0,
    frees: u64 = 0,
    net_app: i64 = 0,
    net_hard: i64 = 0,
    peak: i64 = 0,
    /// Blocks given back to the engine, still counted as loose free blocks
    /// (`front.takeBack` without `count_out`).
    returned: u64 = 0,
    items: [bin_cap]*Block = undefined,

    fn pending(b: *const Bin) bool {
        return b.allocs != 0 or b.frees != 0 or b.returned != 0;
    }
};

pub const Cache = struct {
    /// Requested bytes the thread holds net since the last drain, and their peak.
    running: i64 = 0,
    peak: i64 = 0,
    bins: [bin_count]Bin = [_]Bin{.{}} ** bin_count,
};

/// One thread's entry: a cache line of its own, as the owner writes `busy`
/// on every operation.
pub const Slot = struct {
    /// Thread pointer of the owner (0: never used; `reclaimed`: free again).
    owner: usize align(64) = 0,
    cache: ?*Cache = null,
    /// The owner's thread id (`gettid`), to tell whether it still runs.
    tid: i32 = 0,
    /// Set by the owner while it works in its cache without the lock.
    busy: u32 = 0,
    /// Set by a stopper (lock held): the owner must take the lock.
    stop: u32 = 0,
};

pub const Slots = [slot_count]Slot;

/// `Slot.owner` of a slot whose thread exited: free for another thread,
/// and not the end of a probe sequence.
const reclaimed: usize = 1;

comptime {
    std.debug.assert(@sizeOf(Slot) == 64);
}

/// A heap's thread caches.
pub const Table = struct {
    /// The slots: one OS page, made when the first thread gets a cache and
    /// kept until the heap is released (a destroyed heap's caches are
    /// freed; its slots stay with its tombstone: a thread may still read
    /// them on its way to `DESTROYED`).
    slots: ?*Slots = null,
    /// Slots ever taken (reclaimed ones included: readers stop them too).
    count: u32 = 0,
    /// Caches taken back from threads that had exited.
    reclaims: u64 = 0,
    /// Thread caches are used (a locked heap that is not exact).
    enabled: bool = false,
    /// `membarrier` is available: owners need only a compiler barrier.
    asymmetric: bool = false,
    /// Target of the stopper's fallback full barrier.
    fence_word: u32 = 0,

    pub inline fn on(t: *const Table) bool {
        return t.enabled;
    }

    /// The slots that have a cache (lock held).
    fn taken(t: *Table) []Slot {
        const all = t.slots orelse return &.{};
        return all[0..];
    }
};

/// Sets up `t` for a heap; `on`: the heap uses thread caches.
pub fn init(t: *Table, on: bool) void {
    t.* = .{ .enabled = on };
    if (on) t.asymmetric = registerMembarrier();
}

/// True when the header of a block at `addr` lies inside a shared arena.
inline fn inShared(h: *const Heap, addr: usize) bool {
    const n = @atomicLoad(u32, &h.range_count, .acquire);
    for (h.ranges[0..n]) |r| {
        if (addr -% r.base < r.end - r.base) return addr - r.base >= Page.header_size + Block.header_size;
    }
    return false;
}

fn registerMembarrier() bool {
    if (builtin.os.tag != .linux) return false;
    const query = linux.syscall2(.membarrier, 0, 0); // MEMBARRIER_CMD_QUERY
    const expedited: usize = 1 << 3; // MEMBARRIER_CMD_PRIVATE_EXPEDITED
    const register: usize = 1 << 4; // MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
    if (@as(isize, @bitCast(query)) < 0 or query & expedited == 0) return false;
    return linux.syscall2(.membarrier, register, 0) == 0;
}

/// A full barrier on every running thread of the process (the stopper's side).
fn heavyBarrier(t: *Table) bool {
    if (t.asymmetric) return linux.syscall2(.membarrier, 1 << 3, 0) == 0;
    _ = @atomicRmw(u32, &t.fence_word, .Add, 0, .seq_cst);
    return true;
}

/// Frees the caches (lock held; the heap is being destroyed and its caches
/// are stopped for good).
pub fn freeCaches(t: *Table) void {
    for (t.taken()) |*s| if (s.cache) |c| {
        gpa.destroy(c);
        s.cache = null;
    };
}

/// Frees everything (the heap is being released; no thread uses it).
pub fn deinit(t: *Table) void {
    freeCaches(t);
    if (t.slots) |sl| gpa.destroy(sl);
    t.* = .{};
}

// ---------------------------------------------------------------- finding a thread's cache

/// The calling thread's identity: its thread pointer (0: unknown).
pub inline fn self() usize {
    return switch (builtin.cpu.arch) {
        .x86_64 => asm ("movq %%fs:0, %[r]"
            : [r] "=r" (-> usize),
        ),
        .aarch64 => asm ("mrs %[r], tpidr_el0"
            : [r] "=r" (-> usize),
        ),
        else => 0,
    };
}

inline fn firstSlot(tp: usize) usize {
    return @intCast((tp *% 0x9E3779B97F4A7C15) >> (64 - 6));
}

comptime {
    std.debug.assert(slot_count == 64); // firstSlot takes 6 bits
}

/// The slot of thread `tp`, without the lock.
pub inline fn find(t: *const Table, tp: usize) ?*Slot {
    if (tp == 0) return null;
    const all = @atomicLoad(?*Slots, &t.slots, .acquire) orelse return null;
    var i = firstSlot(tp);
    for (0..slot_count) |_| {
        const s = &all[i];
        const o = @atomicLoad(usize, &s.owner, .acquire);
        if (o == tp) return s;
        if (o == 0) return null;
        i = (i + 1) % slot_count;
    }
    return null;
}

/// The cache of the calling thread, made if need be (lock held); null when
/// every slot is taken by a running thread, or memory runs out.
fn mine(h: *Heap) ?*Cache {
    const t = &h.threads;
    const tp = self();
    if (tp <= reclaimed or !t.enabled or !h.isLive()) return null;
    if (find(t, tp)) |s| return s.cache;
    const all = t.slots orelse blk: {
        const made = gpa.create(Slots) catch return null;
        made.* = [_]Slot{.{}} ** slot_count;
        @atomicStore(?*Slots, &t.slots, made, .release);
        break :blk made;
    };
    const s = freeSlot(all, tp) orelse blk: {
        reclaimExited(h);
        break :blk freeSlot(all, tp) orelse return null;
    };
    const c = s.cache orelse blk: {
        const made = gpa.create(Cache) catch return null;
        made.* = .{};
        s.cache = made;
        t.count += 1;
        break :blk made;
    };
    s.tid = linux.gettid();
    @atomicStore(usize, &s.owner, tp, .release);
    return c;
}

/// The first never-used or reclaimed slot on `tp`'s probe sequence.
fn freeSlot(all: *Slots, tp: usize) ?*Slot {
    var i = firstSlot(tp);
    for (0..slot_count) |_| {
        const s = &all[i];
        if (s.owner == 0 or s.owner == reclaimed) return s;
        i = (i + 1) % slot_count;
    }
    return null;
}

/// Takes back the caches of threads that have exited (lock held; when every
/// slot is taken): their blocks go back to the engine and their slots to
/// new threads. A thread is gone when `tgkill(pid, tid, 0)` says no such
/// thread. A live thread that took a cache over (a new thread with an exited
/// one's thread pointer) loses it safely: it is stopped first, and its next
/// call finds no slot and asks for one.
fn reclaimExited(h: *Heap) void {
    const t = &h.threads;
    const all = t.slots orelse return;
    pause(h) catch return;
    defer resumeAll(h);
    const pid = linux.getpid();
    var any = false;
    for (all) |*s| {
        if (s.owner <= reclaimed) continue;
        const rc = linux.tgkill(pid, s.tid, 0);
        if (linux.E.init(rc) != .SRCH) continue;
        const c = s.cache.?;
        for (&c.bins, 0..) |*bin, id| {
            if (bin.len != 0) giveBack(h, h.family(@intCast(id)).?, bin, bin.len) catch return;
        }
        any = true;
        @atomicStore(usize, &s.owner, reclaimed, .release);
        t.reclaims += 1;
    }
    if (!any) return;
    // The blocks given back still count as loose: settle, then forget.
    settleAll(h) catch return;
    for (all) |*s| if (s.owner == reclaimed) {
        if (s.cache) |c| c.* = .{};
    };
}

/// Slots whose thread has a cache now (lock held).
pub fn inUse(t: *const Table) u32 {
    const all = t.slots orelse return 0;
    var n: u32 = 0;
    for (all) |*s| {
        if (s.owner > reclaimed) n += 1;
    }
    return n;
}

// ---------------------------------------------------------------- the owner, without the lock

/// Enters the thread's cache; false when a stopper holds it (the caller
/// takes the lock). Nothing of the heap is read before this returns true.
inline fn begin(t: *const Table, s: *Slot, tp: usize) bool {
    if (t.asymmetric) {
        @atomicStore(u32, &s.busy, 1, .monotonic);
        asm volatile ("" ::: "memory");
    } else {
        @atomicStore(u32, &s.busy, 1, .seq_cst);
    }
    // Still this thread's slot (a stopper may have reclaimed it in between).
    if (@atomicLoad(u32, &s.stop, .acquire) == 0 and @atomicLoad(usize, &s.owner, .monotonic) == tp) return true;
    @atomicStore(u32, &s.busy, 0, .release);
    return false;
}

inline fn end(s: *Slot) void {
    @atomicStore(u32, &s.busy, 0, .release);
}

/// The bin serving `units` of family `family`, and the bytes requested,
/// when a cache can serve it (the bin may still be empty).
const Want = struct { id: u32, requested: u32 };

inline fn want(h: *const Heap, family: u32, units: u64) ?Want {
    if (family == Heap.bytes_family) {
        if (units == 0 or units > front.max_class) return null;
        const id = @atomicLoad(u32, &h.classes[front.classOf(units).?], .monotonic);
        if (id == 0 or id >= bin_count) return null;
        return .{ .id = id, .requested = @intCast(units) };
    }
    if (units != 1 or family >= bin_count) return null;
    return .{ .id = family, .requested = 0 }; // the bin knows its struct size
}

/// Allocates from the calling thread's cache without the lock; null when it
/// cannot (the caller takes the lock and calls `allocLocked`).
pub inline fn allocFast(h: *Heap, family: u32, units: u64) ?[*]u8 {
    const w = want(h, family, units) orelse return null;
    const tp = self();
    const s = find(&h.threads, tp) orelse return null;
    if (!begin(&h.threads, s, tp)) return null;
    defer end(s);
    const c = s.cache.?;
    if (@atomicLoad(u8, &h.poison_len, .monotonic) != 0) return null;
    return pop(c, &c.bins[w.id], w.requested);
}

inline fn pop(c: *Cache, bin: *Bin, requested_or_0: u32) ?[*]u8 {
    if (bin.len == 0) return null;
    const requested = if (requested_or_0 == 0) bin.struct_size else requested_or_0;
    bin.len -= 1;
    const b = bin.items[bin.len];
    const unit = bin.unit;
    @atomicStore(u32, &b.tail, Block.held_bit | ((unit - requested) << 22), .monotonic);
    const p = b.data();
    zero(p, unit);
    const req: i64 = requested;
    bin.allocs += 1;
    bin.net_app += req;
    bin.net_hard += unit - std.mem.alignForward(u32, requested, bin.alignment);
    if (bin.net_app > bin.peak) bin.peak = bin.net_app;
    c.running += req;
    if (c.running > c.peak) c.peak = c.running;
    return p;
}

/// Zeroes a block: small ones (8 to 64 bytes) with a few stores, no call.
inline fn zero(p: [*]u8, unit: u32) void {
    if (unit > 64) return @memset(p[0..unit], 0);
    const q: [*]align(8) u64 = @ptrCast(@alignCast(p));
    inline for (0..8) |k| {
        if (k * 8 >= unit) return;
        q[k] = 0;
    }
}

/// Frees a held block into the calling thread's cache without the lock;
/// false when it cannot (the caller takes the lock and frees the usual way,
/// where every error is told apart).
pub inline fn freeFast(h: *Heap, addr: usize) bool {
    const tp = self();
    const s = find(&h.threads, tp) orelse return false;
    if (!begin(&h.threads, s, tp)) return false;
    defer end(s);
    const c = s.cache.?;
    if (@atomicLoad(u8, &h.poison_len, .monotonic) != 0) return false; // the engine says POISONED
    if (!inShared(h, addr) or addr % 8 != 0) return false;
    const b = Block.fromData(addr);
    const bin = heldBin(h, c, b, false) orelse return false;
    if (bin.len == bin.cap) return false;
    push(c, bin, b);
    return true;
}

/// The bin of a block that is held and intact and whose size is its bin's
/// unit; with `next`, also whose next header links back to it (a write past
/// the end lands there first); null otherwise. The fast path leaves `next`
/// out: that header is another cache miss on every free (it doubled the
/// cost of a free among 100k live blocks), and the damage is still found
/// when that block is freed or given back (both verify it).
inline fn heldBin(h: *const Heap, c: *Cache, b: *Block, comptime next: bool) ?*Bin {
    const tail = @atomicLoad(u32, &b.tail, .monotonic);
    // Cached (and the two bits below the state zero), held, and sealed.
    if (b.link >> 27 != @as(u32, @intFromEnum(Block.State.cached)) << 2 or tail & Block.held_bit == 0) return null;
    if (!b.validWithTail(h.key, tail)) return null;
    const page_base = @intFromPtr(b) & ~(h.page_size - 1);
    const id = @as(*const Page, @ptrFromInt(page_base)).family;
    if (id >= bin_count) return null;
    const bin = &c.bins[id];
    if (bin.unit == 0 or bin.unit != b.size()) return null;
    if (next) {
        const e = b.endAddr();
        if (e < page_base + h.page_size and @as(*const Block, @ptrFromInt(e)).prevDistance() != e - @intFromPtr(b)) return null;
    }
    return bin;
}

inline fn push(c: *Cache, bin: *Bin, b: *Block) void {
    const tail = b.tail;
    @atomicStore(u32, &b.tail, 0, .monotonic);
    const requested = bin.unit - (tail >> 22);
    const req: i64 = requested;
    bin.items[bin.len] = b;
    bin.len += 1;
    bin.frees += 1;
    bin.net_app -= req;
    bin.net_hard -= bin.unit - std.mem.alignForward(u32, requested, bin.alignment);
    c.running -= req;
}

// ---------------------------------------------------------------- the owner, holding the lock

/// Allocates `units` of `family` through the calling thread's cache (lock
/// held): sets the bin up and refills it if need be. Null when a cache does
/// not serve this request (the engine does).
pub fn allocLocked(h: *Heap, family: u32, units: u64) Error!?[*]u8 {
    if (!h.threads.on()) return null;
    try h.usable();
    var id = family;
    if (family == Heap.bytes_family) {
        if (units == 0 or units > front.max_class) return null;
        const k = front.classOf(units).?;
        if (front.classes[k] > Page.capacity(h.page_size)) return null;
        id = (try front.classFamily(h, k)).id;
    } else if (units != 1) return null;
    if (id >= bin_count) return null;
    const f = h.family(id) orelse return null;
    if (f.unit == 0 or Heap.needFor(f, if (f.class_size != 0) units else f.struct_size) != f.unit) return null;
    const c = mine(h) orelse return null;
    const bin = &c.bins[id];
    if (bin.unit == 0) bin.* = .{
        .unit = f.unit,
        .struct_size = @intCast(f.struct_size),
        .alignment = f.alignment,
        .cap = @intCast(@min(bin_cap, front.cacheCap(f.unit))),
    };
    if (bin.len == 0) {
        const n = front.lend(h, f, bin.items[0 .. bin.cap / 2], true) catch |e| {
            if (e == error.OutOfMemory) return null; // the engine says so
            return e;
        };
        if (n == 0) return null;
        bin.len = @intCast(n);
    }
    return pop(c, bin, if (family == Heap.bytes_family) @intCast(units) else 0);
}

/// Frees a held block (resolved) into the calling thread's cache (lock
/// held); false when the thread has no cache for it.
pub fn freeLocked(h: *Heap, r: Heap.Found) Error!bool {
    const c = mine(h) orelse return false;
    const bin = heldBin(h, c, r.block, true) orelse return false;
    if (bin.len == bin.cap) try giveBack(h, r.family, bin, bin.cap / 2);
    push(c, bin, r.block);
    return true;
}

/// Gives the oldest `n` blocks of `bin` (of family `f`) back to the engine.
fn giveBack(h: *Heap, f: *Family, bin: *Bin, n: u32) Error!void {
    try front.takeBack(h, f, *Block, bin.items[0..n], false);
    std.mem.copyForwards(*Block, bin.items[0 .. bin.len - n], bin.items[n..bin.len]);
    bin.len -= n;
    bin.returned += n;
}

// ---------------------------------------------------------------- readers

/// Stops every cache (lock held): when it returns, no thread works in one
/// until `resumeAll`.
pub fn stopAll(h: *Heap) Error!void {
    const t = &h.threads;
    if (t.count == 0) return;
    for (t.taken()) |*s| @atomicStore(u32, &s.stop, 1, .seq_cst);
    if (!heavyBarrier(t)) return h.poison("membarrier failed: thread caches cannot be stopped", .{});
    for (t.taken()) |*s| {
        var spins: u32 = 0;
        while (@atomicLoad(u32, &s.busy, .acquire) != 0) : (spins += 1) {
            if (spins < 128) std.atomic.spinLoopHint() else std.Thread.yield() catch {};
        }
    }
}

pub fn resumeAll(h: *Heap) void {
    if (h.threads.count == 0) return;
    for (h.threads.taken()) |*s| @atomicStore(u32, &s.stop, 0, .release);
}

/// Stops every cache and applies what their threads did to the counters
/// (lock held): statistics are exact and no thread flips a block until
/// `resumeAll`. Every reader of the heap calls it first.
pub fn pause(h: *Heap) Error!void {
    if (h.threads.count == 0) return;
    try stopAll(h);
    settleAll(h) catch |e| {
        resumeAll(h);
        return e;
    };
}

/// `pause`, then every block the caches hold goes back to the engine, then
/// `resumeAll` (lock held): before `trim` and on demand.
pub fn drain(h: *Heap) Error!void {
    if (h.threads.count == 0) return;
    try pause(h);
    defer resumeAll(h);
    for (h.threads.taken()) |*s| if (s.cache) |c| {
        for (&c.bins, 0..) |*bin, id| if (bin.len != 0) try giveBack(h, h.family(@intCast(id)).?, bin, bin.len);
    };
    try settleAll(h);
}

fn settleAll(h: *Heap) Error!void {
    const t = &h.threads;
    var deltas: [bin_count + 1]front.Delta = undefined;
    var n: usize = 0;
    var peak: i64 = 0;
    for (0..bin_count) |id| {
        var d: front.Delta = .{ .family = @intCast(id), .allocs = 0, .frees = 0, .net_size = 0, .net_app = 0, .net_hard = 0, .peak_app = 0 };
        for (t.taken()) |*s| if (s.cache) |c| {
            const bin = &c.bins[id];
            if (!bin.pending()) continue;
            d.allocs += bin.allocs;
            d.frees += bin.frees;
            d.net_size += (@as(i64, @intCast(bin.allocs)) - @as(i64, @intCast(bin.frees))) * bin.unit;
            d.net_app += bin.net_app;
            d.net_hard += bin.net_hard;
            d.peak_app += bin.peak;
        };
        if (d.allocs != 0 or d.frees != 0) {
            deltas[n] = d;
            n += 1;
        }
    }
    for (t.taken()) |*s| if (s.cache) |c| {
        peak += c.peak;
    };
    deltas[n] = .{ .family = front.all_families, .allocs = 0, .frees = 0, .net_size = 0, .net_app = 0, .net_hard = 0, .peak_app = peak };
    if (n > 0) front.settle(h, deltas[0 .. n + 1]) catch |e| {
        if (e == error.InvalidArg) return h.poison("thread cache counts do not match the heap's", .{});
        return e;
    };
    // Blocks given back count once as loose and once where they went.
    for (t.taken()) |*s| if (s.cache) |c| {
        for (&c.bins, 0..) |*bin, id| if (bin.returned != 0) h.family(@intCast(id)).?.uncountLoose(bin.returned, bin.unit);
    };
    for (t.taken()) |*s| if (s.cache) |c| {
        c.running = 0;
        c.peak = 0;
        for (&c.bins) |*bin| {
            bin.allocs = 0;
            bin.frees = 0;
            bin.net_app = 0;
            bin.net_hard = 0;
            bin.peak = 0;
            bin.returned = 0;
        }
    };
}

/// Makes a held block an ordinary occupied block of the engine (lock held):
/// for a realloc, or a free from a thread without a cache.
pub fn adopt(h: *Heap, r: Heap.Found) Error!void {
    try pause(h);
    defer resumeAll(h);
    const b = r.block;
    b.setUse(0, b.slack());
    b.setState(.occupied);
    b.sealWith(h.key);
    r.family.loaned -= 1;
}

// ---------------------------------------------------------------- tests

const testing = std.testing;
const check = @import("check.zig");
const introspect = @import("introspect.zig");

/// What the C ABI does (`c_api.zig`), minus the handle checks.
fn cAlloc(h: *Heap, family: u32, units: u64) Error![*]u8 {
    if (allocFast(h, family, units)) |p| return p;
    h.mutex.lock();
    defer h.mutex.unlock();
    if (try allocLocked(h, family, units)) |p| return p;
    return h.alloc(family, units, 0);
}

fn cFree(h: *Heap, p: [*]u8) Error!void {
    if (freeFast(h, @intFromPtr(p))) return;
    h.mutex.lock();
    defer h.mutex.unlock();
    return h.free(@intFromPtr(p));
}

fn cCheck(h: *Heap) !void {
    h.mutex.lock();
    defer h.mutex.unlock();
    try pause(h);
    defer resumeAll(h);
    try check.expectValid(h);
}

fn cStats(h: *Heap) !@import("abi.zig").Stats {
    h.mutex.lock();
    defer h.mutex.unlock();
    try pause(h);
    defer resumeAll(h);
    return introspect.stats(h, introspect.all_families);
}

test "one thread: alloc and free through the cache, exact counts, misuse told apart" {
    const h = try Heap.create(.{ .reserve = 1 << 20 });
    defer _ = h.destroyFully();
    const emp = try h.register("emp_t", 40);
    var ptrs: [200][*]u8 = undefined;
    for (&ptrs, 0..) |*p, i| {
        p.* = try cAlloc(h, if (i % 2 == 0) emp else Heap.bytes_family, if (i % 2 == 0) 1 else 1 + i % 100);
        @memset(p.*[0..8], 0xAB);
    }
    try testing.expectEqual(@as(u32, 1), h.threads.count);
    const s = try cStats(h);
    var expected: u64 = 0;
    for (0..200) |i| expected += if (i % 2 == 0) 40 else 1 + i % 100;
    try testing.expectEqual(expected, s.app_bytes);
    try testing.expectEqual(@as(u64, 200), s.occupied_blocks);
    try cCheck(h);
    // Interior, double free, foreign: the fast path declines, the engine says why.
    try testing.expectError(error.Interior, cFree(h, ptrs[0] + 8));
    try cFree(h, ptrs[0]);
    try testing.expectError(error.DoubleFree, cFree(h, ptrs[0]));
    var local: u64 = 0;
    try testing.expectError(error.NotOwned, cFree(h, @ptrCast(&local)));
    for (ptrs[1..]) |p| try cFree(h, p);
    try cCheck(h);
    const e = try cStats(h);
    try testing.expectEqual(@as(u64, 0), e.app_bytes);
    try testing.expectEqual(expected, e.peak_app_bytes);
    try h.trim();
    try testing.expectEqual(h.pages_taken, h.pages_returned);
    try cCheck(h);
}

test "a realloc of a block from a thread cache: adopted by the engine" {
    const h = try Heap.create(.{ .reserve = 1 << 20 });
    defer _ = h.destroyFully();
    const p = try cAlloc(h, Heap.bytes_family, 24);
    @memset(p[0..24], 7);
    const q = try h.realloc(@intFromPtr(p), 1000);
    for (q[0..24]) |c| try testing.expectEqual(@as(u8, 7), c);
    for (q[24..1000]) |c| try testing.expectEqual(@as(u8, 0), c);
    try cCheck(h);
    try cFree(h, q);
    try h.trim();
    try testing.expectEqual(h.pages_taken, h.pages_returned);
}

const Workload = struct {
    h: *Heap,
    fam: u32,
    /// Blocks handed between threads: each slot holds 0 or an address.
    mailbox: [256]usize = [_]usize{0} ** 256,
    failed: bool = false,
    ops: usize,
};

fn worker(sh: *Workload, seed: u64) void {
    workerRun(sh, seed) catch |e| {
        std.debug.print("worker {d}: {s}\n", .{ seed, @errorName(e) });
        @atomicStore(bool, &sh.failed, true, .seq_cst);
    };
}

fn workerRun(sh: *Workload, seed: u64) !void {
    var prng = std.Random.DefaultPrng.init(seed);
    const rand = prng.random();
    var mine_: [64]?[*]u8 = [_]?[*]u8{null} ** 64;
    for (0..sh.ops) |_| {
        const k = rand.uintLessThan(usize, mine_.len);
        if (mine_[k]) |p| {
            // Free it here, or post it for another thread to free.
            if (rand.boolean()) {
                try testing.expectEqual(@as(u8, @truncate(seed)), p[0]);
                try cFree(sh.h, p);
            } else {
                const slot = &sh.mailbox[rand.uintLessThan(usize, sh.mailbox.len)];
                const old = @atomicRmw(usize, slot, .Xchg, @intFromPtr(p), .acq_rel);
                if (old != 0) try cFree(sh.h, @ptrFromInt(old));
            }
            mine_[k] = null;
        } else {
            const n = 1 + rand.uintLessThan(u64, 300);
            const p = try (if (n % 3 == 0) cAlloc(sh.h, sh.fam, 1) else cAlloc(sh.h, Heap.bytes_family, n));
            if (p[0] != 0) return error.NotZeroed;
            p[0] = @truncate(seed);
            mine_[k] = p;
        }
    }
    for (mine_) |m| if (m) |p| try cFree(sh.h, p);
}

fn checker(sh: *Workload, rounds: usize) void {
    for (0..rounds) |_| {
        cCheck(sh.h) catch {
            @atomicStore(bool, &sh.failed, true, .seq_cst);
            return;
        };
        _ = cStats(sh.h) catch {};
        std.Thread.sleep(200 * std.time.ns_per_us);
    }
}

test "four threads with frees across threads, checked while they run" {
    const h = try Heap.create(.{ .reserve = 1 << 24 });
    defer _ = h.destroyFully();
    var sh: Workload = .{ .h = h, .fam = try h.register("node_t", 48), .ops = 50_000 };
    var threads: [4]std.Thread = undefined;
    for (&threads, 0..) |*t, i| t.* = try std.Thread.spawn(.{}, worker, .{ &sh, i + 1 });
    const c = try std.Thread.spawn(.{}, checker, .{ &sh, 50 });
    for (threads) |t| t.join();
    c.join();
    try testing.expect(!sh.failed);
    for (&sh.mailbox) |*slot| if (slot.* != 0) try cFree(h, @ptrFromInt(slot.*));
    try cCheck(h);
    const s = try cStats(h);
    try testing.expectEqual(@as(u64, 0), s.app_bytes);
    try testing.expectEqual(@as(u64, 0), s.occupied_blocks);
    try h.trim();
    try testing.expectEqual(h.pages_taken, h.pages_returned);
}

test "a heap destroyed while threads allocate: every call completes before or fails" {
    const h = try Heap.create(.{ .reserve = 1 << 22 });
    defer _ = h.destroyFully();
    const Ctx = struct {
        fn run(hh: *Heap, stop: *bool) void {
            while (!@atomicLoad(bool, stop, .acquire)) {
                const p = cAllocChecked(hh) orelse return;
                cFreeChecked(hh, p) orelse return;
            }
        }
        fn cAllocChecked(hh: *Heap) ?[*]u8 {
            if (!hh.isLive()) return null;
            if (allocFast(hh, Heap.bytes_family, 16)) |p| return p;
            hh.mutex.lock();
            defer hh.mutex.unlock();
            if (!hh.isLive()) return null;
            if (allocLocked(hh, Heap.bytes_family, 16) catch return null) |p| return p;
            return hh.alloc(Heap.bytes_family, 16, 0) catch null;
        }
        fn cFreeChecked(hh: *Heap, p: [*]u8) ?void {
            if (hh.isLive() and freeFast(hh, @intFromPtr(p))) return {};
            hh.mutex.lock();
            defer hh.mutex.unlock();
            if (!hh.isLive()) return null;
            hh.free(@intFromPtr(p)) catch return null;
        }
    };
    var stop = false;
    var threads: [3]std.Thread = undefined;
    for (&threads) |*t| t.* = try std.Thread.spawn(.{}, Ctx.run, .{ h, &stop });
    std.Thread.sleep(20 * std.time.ns_per_ms);
    h.mutex.lock();
    _ = h.destroy();
    h.mutex.unlock();
    @atomicStore(bool, &stop, true, .release);
    for (threads) |t| t.join();
}

test "threads that come and go: exited threads' caches are taken back, new threads get one" {
    const h = try Heap.create(.{ .reserve = 1 << 24 });
    defer _ = h.destroyFully();
    // 64 threads alive at once (so 64 thread pointers) fill the table; each
    // leaves blocks in its cache and 8 live blocks for the main thread.
    const Ctx = struct {
        fn run(hh: *Heap, keep: *[8]usize, got: *bool, ready: *std.atomic.Value(u32), go: *std.atomic.Value(bool)) void {
            defer _ = ready.fetchAdd(1, .acq_rel);
            var ptrs: [16][*]u8 = undefined;
            for (&ptrs, 0..) |*p, i| p.* = cAlloc(hh, Heap.bytes_family, 16 + 32 * (i % 4)) catch return;
            got.* = find(&hh.threads, self()) != null;
            for (ptrs[8..]) |p| cFree(hh, p) catch return;
            for (keep, ptrs[0..8]) |*k, p| k.* = @intFromPtr(p); // freed later, by the main thread
            _ = ready.fetchAdd(1, .acq_rel);
            while (!go.load(.acquire)) std.Thread.yield() catch {};
        }
    };
    var kept: [slot_count][8]usize = undefined;
    var got = [_]bool{false} ** slot_count;
    var ready = std.atomic.Value(u32).init(0);
    var go = std.atomic.Value(bool).init(false);
    var threads: [slot_count]std.Thread = undefined;
    for (&threads, &kept, &got) |*t, *k, *g| t.* = try std.Thread.spawn(.{}, Ctx.run, .{ h, k, g, &ready, &go });
    while (ready.load(.acquire) < slot_count) std.Thread.yield() catch {};
    go.store(true, .release);
    for (threads) |t| t.join();
    for (got) |g| try testing.expect(g);
    try testing.expectEqual(@as(u32, slot_count), inUse(&h.threads));
    // The table is full of exited threads: the next thread takes one back.
    const p = try cAlloc(h, Heap.bytes_family, 24);
    try testing.expect(find(&h.threads, self()) != null);
    try testing.expectEqual(@as(u64, slot_count), h.threads.reclaims);
    try testing.expectEqual(@as(u32, 1), inUse(&h.threads));
    try cCheck(h);
    try cFree(h, p);
    for (kept) |k| for (k) |a| try cFree(h, @ptrFromInt(a));
    const s = try cStats(h);
    try testing.expectEqual(@as(u64, 0), s.app_bytes);
    try testing.expectEqual(@as(u64, 0), s.occupied_blocks);
    try h.trim();
    try testing.expectEqual(h.pages_taken, h.pages_returned);
    try cCheck(h);
}
