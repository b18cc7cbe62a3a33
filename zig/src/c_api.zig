//! The C ABI (`include/lmm.h`): only `export fn` wrappers. Each one checks the
//! handle, takes the heap's lock, converts arguments, calls the engine and
//! turns its error into a status code. Nothing here allocates or decides.

const std = @import("std");
const abi = @import("abi.zig");
const Heap = @import("Heap.zig");
const check = @import("check.zig");
const introspect = @import("introspect.zig");
const Block = @import("block.zig").Block;
const Page = @import("page.zig").Page;
const os = @import("os.zig");
const front = @import("front.zig");
const tcache = @import("tcache.zig");

const Error = abi.Error;

fn code(e: Error) c_int {
    return @intFromEnum(abi.fromError(e));
}

fn status(r: Error!void) c_int {
    r catch |e| return code(e);
    return 0;
}

/// Checks the handle and locks the heap; the caller calls `leave`. The lock
/// is taken before the heap's state is read, so a call racing
/// `lmm_heap_destroy` either completes before it or sees `DESTROYED`.
fn enter(handle: ?*Heap) Error!*Heap {
    const h = handle orelse return error.BadHandle;
    const magic = @atomicLoad(u64, &h.magic, .monotonic);
    if (!h.isLiveMagic(magic) and !h.isDeadMagic(magic)) return error.BadHandle;
    if (h.locked) h.mutex.lock();
    if (!h.isLive()) {
        if (h.locked) h.mutex.unlock();
        return error.Destroyed;
    }
    return h;
}

fn leave(h: *Heap) void {
    if (h.locked) h.mutex.unlock();
}

fn out(comptime T: type, p: ?*T) Error!*T {
    return p orelse error.InvalidArg;
}

fn slice(ptr: ?[*]const u8, len: u32) Error![]const u8 {
    if (len == 0) return &.{};
    return (ptr orelse return error.InvalidArg)[0..len];
}

// ---------------------------------------------------------------- library

export fn lmm_abi_version() u32 {
    return abi.version;
}

export fn lmm_meta_block_size() u32 {
    return @intCast(Block.header_size);
}

export fn lmm_page_header_size() u32 {
    return @intCast(Page.header_size);
}

export fn lmm_status_name(s: c_int) [*:0]const u8 {
    if (s < 0 or s >= abi.status_count) return "LMM_E_UNKNOWN";
    return @as(abi.Status, @enumFromInt(s)).name();
}

export fn lmm_status_message(s: c_int) [*:0]const u8 {
    if (s < 0 or s >= abi.status_count) return "unknown status code";
    return @as(abi.Status, @enumFromInt(s)).message();
}

export fn lmm_config_default(config: ?*abi.Config) void {
    const c = config orelse return;
    c.* = .{ .size = @sizeOf(abi.Config), .version = abi.version, .page_size = Heap.default_page_size, .page_cache = Heap.default_page_cache, .flags = 0, .reserve = Heap.default_reserve };
}

// ---------------------------------------------------------------- heaps

export fn lmm_heap_create(config: ?*const abi.Config, result: ?*?*Heap) c_int {
    return status(heapCreate(config, result));
}

fn heapCreate(config: ?*const abi.Config, result: ?*?*Heap) Error!void {
    const r = try out(?*Heap, result);
    var cfg: Heap.Config = .{};
    if (config) |c| {
        if (c.size != @sizeOf(abi.Config) or c.version != abi.version or c.flags & ~(abi.heap_no_lock | abi.heap_keep_arenas | abi.heap_exact | abi.heap_no_thread_cache) != 0) return error.BadConfig;
        if (c.page_size > std.math.maxInt(usize) or c.reserve > Heap.max_bytes) return error.BadConfig;
        cfg = .{
            .page_size = @intCast(c.page_size),
            .page_cache = c.page_cache,
            .lock = c.flags & abi.heap_no_lock == 0,
            .keep_arenas = c.flags & abi.heap_keep_arenas != 0,
            .exact = c.flags & abi.heap_exact != 0,
            .thread_caches = c.flags & abi.heap_no_thread_cache == 0,
            .reserve = if (c.reserve == 0) Heap.default_reserve else @intCast(c.reserve),
        };
    }
    r.* = try Heap.create(cfg);
}

export fn lmm_heap_destroy(handle: ?*Heap) c_int {
    const h = enter(handle) catch |e| return code(e);
    defer leave(h);
    return if (h.destroy()) 0 else code(error.Syscall);
}

export fn lmm_heap_release(handle: ?*Heap) c_int {
    // A destroyed heap's tombstone goes too (no call may use the handle after this one).
    const h = enter(handle) catch |e| {
        if (e != error.Destroyed) return code(e);
        return if (handle.?.destroyFully()) 0 else code(error.Syscall);
    };
    leave(h);
    return if (h.destroyFully()) 0 else code(error.Syscall);
}

export fn lmm_heap_trim(handle: ?*Heap) c_int {
    return status(trimHeap(handle));
}

fn trimHeap(handle: ?*Heap) Error!void {
    const h = try enter(handle);
    defer leave(h);
    try h.trim();
}

export fn lmm_heap_info(handle: ?*Heap, result: ?*abi.HeapInfo) c_int {
    return status(heapInfo(handle, result));
}

fn heapInfo(handle: ?*Heap, result: ?*abi.HeapInfo) Error!void {
    const h = try enter(handle);
    defer leave(h);
    const r = try out(abi.HeapInfo, result);
    r.* = .{
        .key = h.key,
        .page_size = @intCast(h.page_size),
        .page_header_size = @intCast(Page.header_size),
        .meta_block_size = @intCast(Block.header_size),
        .arenas = h.arena_count,
        .flags = (if (h.locked) 0 else abi.heap_no_lock) | (if (h.keep_arenas) abi.heap_keep_arenas else 0) | (if (h.exact) abi.heap_exact else 0) |
            (if (h.locked and !h.exact and !h.threads.on()) abi.heap_no_thread_cache else 0),
        .thread_caches = tcache.inUse(&h.threads),
        .thread_cache_reclaims = @intCast(@min(h.threads.reclaims, std.math.maxInt(u32))),
    };
}

export fn lmm_heap_arenas(handle: ?*Heap, buf: ?[*]abi.ArenaInfo, cap: u64, result: ?*u64) c_int {
    return status(heapArenas(handle, buf, cap, result));
}

fn heapArenas(handle: ?*Heap, buf: ?[*]abi.ArenaInfo, cap: u64, result: ?*u64) Error!void {
    const h = try enter(handle);
    defer leave(h);
    const dest = try listing(abi.ArenaInfo, buf, cap, result);
    for (h.arenas[0..h.arena_count], 0..) |a, i| {
        if (i < dest.len) dest[i] = .{ .base = a.base, .len = a.len };
    }
    result.?.* = h.arena_count;
    if (h.arena_count > cap) return error.BufferTooSmall;
}

/// Unmaps an arena that a heap made with `LMM_HEAP_KEEP_ARENAS` left behind
/// (as listed by `lmm_heap_arenas` before the heap was released).
export fn lmm_arena_unmap(base: ?*anyopaque, len: u64) c_int {
    const b = @intFromPtr(base orelse return code(error.InvalidArg));
    if (b % os.os_page != 0 or len == 0 or len % os.os_page != 0 or len > Heap.max_bytes) return code(error.InvalidArg);
    return if (os.Sys.real.unreserve(@ptrFromInt(b), @intCast(len))) 0 else code(error.Syscall);
}

// ---------------------------------------------------------------- families

export fn lmm_register(handle: ?*Heap, name: ?[*]const u8, name_len: u32, struct_size: u32, result: ?*u32) c_int {
    return status(register(handle, name, name_len, struct_size, result));
}

fn register(handle: ?*Heap, name: ?[*]const u8, name_len: u32, struct_size: u32, result: ?*u32) Error!void {
    const h = try enter(handle);
    defer leave(h);
    const r = try out(u32, result);
    r.* = try h.register(try slice(name, name_len), struct_size);
}

export fn lmm_family_find(handle: ?*Heap, name: ?[*]const u8, name_len: u32, result: ?*u32) c_int {
    return status(familyFind(handle, name, name_len, result));
}

fn familyFind(handle: ?*Heap, name: ?[*]const u8, name_len: u32, result: ?*u32) Error!void {
    const h = try enter(handle);
    defer leave(h);
    const r = try out(u32, result);
    const f = h.familyByName(try slice(name, name_len)) orelse return error.UnknownFamily;
    r.* = f.id;
}

export fn lmm_family_count(handle: ?*Heap, result: ?*u32) c_int {
    return status(familyCount(handle, result));
}

fn familyCount(handle: ?*Heap, result: ?*u32) Error!void {
    const h = try enter(handle);
    defer leave(h);
    (try out(u32, result)).* = h.family_count;
}

export fn lmm_family_info(handle: ?*Heap, family: u32, result: ?*abi.FamilyInfo) c_int {
    return status(familyInfo(handle, family, result));
}

fn familyInfo(handle: ?*Heap, family: u32, result: ?*abi.FamilyInfo) Error!void {
    const h = try enter(handle);
    defer leave(h);
    const r = try out(abi.FamilyInfo, result);
    const f = h.family(family) orelse return error.UnknownFamily;
    r.* = .{ .id = f.id, .name_len = f.name_len, .struct_size = f.struct_size, .unit = f.unit, .class_size = f.class_size, .alignment = f.alignment, .name = f.name_buf };
}

// ---------------------------------------------------------------- blocks

export fn lmm_alloc(handle: ?*Heap, family: u32, units: u64, result: ?*?*anyopaque) c_int {
    return status(allocPtr(handle, family, units, 0, result));
}

export fn lmm_alloc_site(handle: ?*Heap, family: u32, units: u64, site: u32, result: ?*?*anyopaque) c_int {
    return status(allocPtr(handle, family, units, site, result));
}

fn allocPtr(handle: ?*Heap, family: u32, units: u64, site: u32, result: ?*?*anyopaque) Error!void {
    const r = try out(?*anyopaque, result);
    // The thread's cache first, without the lock (`tcache.zig`).
    if (site == 0) if (fastHeap(handle)) |h| if (tcache.allocFast(h, family, units)) |p| {
        r.* = p;
        return;
    };
    const h = try enter(handle);
    defer leave(h);
    if (site == 0) if (try tcache.allocLocked(h, family, units)) |p| {
        r.* = p;
        return;
    };
    r.* = try h.alloc(family, units, site);
}

/// The heap behind `handle` for the thread-cache fast paths, which read it
/// without the lock: a live heap's handle (anything else goes to `enter`,
/// which says what it is). A heap without caches has no slot for the
/// thread, and one destroyed meanwhile keeps its slots stopped.
inline fn fastHeap(handle: ?*Heap) ?*Heap {
    const h = handle orelse return null;
    return if (h.isLive()) h else null;
}

export fn lmm_free(handle: ?*Heap, ptr: ?*anyopaque) c_int {
    return status(freePtr(handle, ptr));
}

fn freePtr(handle: ?*Heap, ptr: ?*anyopaque) Error!void {
    if (ptr) |p| if (fastHeap(handle)) |h| if (tcache.freeFast(h, @intFromPtr(p))) return;
    const h = try enter(handle);
    defer leave(h);
    if (ptr) |p| try h.free(@intFromPtr(p)); // free(NULL) does nothing, as in C
}

export fn lmm_realloc(handle: ?*Heap, ptr: ?*anyopaque, units: u64, result: ?*?*anyopaque) c_int {
    return status(reallocPtr(handle, ptr, units, result));
}

fn reallocPtr(handle: ?*Heap, ptr: ?*anyopaque, units: u64, result: ?*?*anyopaque) Error!void {
    const h = try enter(handle);
    defer leave(h);
    const r = try out(?*anyopaque, result);
    r.* = try h.realloc(@intFromPtr(ptr orelse return error.InvalidArg), units);
}

export fn lmm_validate(handle: ?*Heap, ptr: ?*const anyopaque) c_int {
    return status(validatePtr(handle, ptr));
}

fn validatePtr(handle: ?*Heap, ptr: ?*const anyopaque) Error!void {
    const h = try enter(handle);
    defer leave(h);
    _ = try h.resolve(@intFromPtr(ptr orelse return error.NotOwned));
}

export fn lmm_block_info(handle: ?*Heap, ptr: ?*const anyopaque, result: ?*abi.BlockInfo) c_int {
    return status(blockInfo(handle, ptr, result));
}

fn blockInfo(handle: ?*Heap, ptr: ?*const anyopaque, result: ?*abi.BlockInfo) Error!void {
    const h = try enter(handle);
    defer leave(h);
    const r = try out(abi.BlockInfo, result);
    const found = try h.resolve(@intFromPtr(ptr orelse return error.NotOwned));
    const b = found.block;
    r.* = .{ .size = found.size(), .requested = found.requested(), .units = found.requested() / found.family.struct_size, .family = found.family.id, .site = b.site() };
}

// ---------------------------------------------------------------- sites

export fn lmm_site_register(handle: ?*Heap, text: ?[*]const u8, text_len: u32, result: ?*u32) c_int {
    return status(siteRegister(handle, text, text_len, result));
}

fn siteRegister(handle: ?*Heap, text: ?[*]const u8, text_len: u32, result: ?*u32) Error!void {
    const h = try enter(handle);
    defer leave(h);
    const r = try out(u32, result);
    r.* = try h.internSite(try slice(text, text_len));
}

export fn lmm_site_text(handle: ?*Heap, site: u32, buf: ?[*]u8, cap: u32, result: ?*u32) c_int {
    return status(siteText(handle, site, buf, cap, result));
}

fn siteText(handle: ?*Heap, site: u32, buf: ?[*]u8, cap: u32, result: ?*u32) Error!void {
    const h = try enter(handle);
    defer leave(h);
    const r = try out(u32, result);
    const t = h.sites.text(site) orelse return error.InvalidArg;
    r.* = @intCast(t.len);
    if (cap < t.len + 1) return error.BufferTooSmall;
    const b = buf orelse return error.InvalidArg;
    @memcpy(b[0..t.len], t);
    b[t.len] = 0;
}

// ---------------------------------------------------------------- introspection

export fn lmm_stats(handle: ?*Heap, family: u32, result: ?*abi.Stats) c_int {
    return status(statsOf(handle, family, result));
}

fn statsOf(handle: ?*Heap, family: u32, result: ?*abi.Stats) Error!void {
    const h = try enter(handle);
    defer leave(h);
    const r = try out(abi.Stats, result);
    try tcache.pause(h);
    defer tcache.resumeAll(h);
    r.* = try introspect.stats(h, family);
}

fn listing(comptime T: type, buf: ?[*]T, cap: u64, result: ?*u64) Error![]T {
    _ = try out(u64, result);
    if (cap == 0) return &.{};
    if (cap > std.math.maxInt(usize) / @sizeOf(T)) return error.InvalidArg;
    return (buf orelse return error.InvalidArg)[0..@intCast(cap)];
}

export fn lmm_pages(handle: ?*Heap, family: u32, buf: ?[*]abi.PageInfo, cap: u64, result: ?*u64) c_int {
    return status(pagesOf(handle, family, buf, cap, result));
}

fn pagesOf(handle: ?*Heap, family: u32, buf: ?[*]abi.PageInfo, cap: u64, result: ?*u64) Error!void {
    const h = try enter(handle);
    defer leave(h);
    const dest = try listing(abi.PageInfo, buf, cap, result);
    try tcache.pause(h);
    defer tcache.resumeAll(h);
    const n = try introspect.pages(h, family, dest);
    result.?.* = n;
    if (n > cap) return error.BufferTooSmall;
}

export fn lmm_blocks(handle: ?*Heap, family: u32, flags: u32, buf: ?[*]abi.BlockRecord, cap: u64, result: ?*u64) c_int {
    return status(blocksOf(handle, family, flags, buf, cap, result));
}

fn blocksOf(handle: ?*Heap, family: u32, flags: u32, buf: ?[*]abi.BlockRecord, cap: u64, result: ?*u64) Error!void {
    const h = try enter(handle);
    defer leave(h);
    if (flags & ~abi.walk_live_only != 0) return error.InvalidArg;
    const dest = try listing(abi.BlockRecord, buf, cap, result);
    try tcache.pause(h);
    defer tcache.resumeAll(h);
    const n = try introspect.blocks(h, family, flags, dest);
    result.?.* = n;
    if (n > cap) return error.BufferTooSmall;
}

export fn lmm_check(handle: ?*Heap, msg: ?[*]u8, cap: u32) c_int {
    const h = enter(handle) catch |e| return code(e);
    defer leave(h);
    const m: []u8 = if (msg) |p| p[0..cap] else &.{};
    const was_poisoned = h.isPoisoned();
    // Thread caches stay stopped while the walker reads every header.
    tcache.pause(h) catch |e| return code(e);
    defer tcache.resumeAll(h);
    check.run(h, m) catch return code(if (was_poisoned) error.Poisoned else error.Corrupted);
    return 0;
}

// ---------------------------------------------------------------- front tier

export fn lmm_front_flush(handle: ?*Heap) c_int {
    return status(frontFlush(handle));
}

fn frontFlush(handle: ?*Heap) Error!void {
    const h = try enter(handle);
    defer leave(h);
    try h.usable();
    try tcache.drain(h);
    try front.flushAll(h);
}

/// The family serving an untyped request of `bytes` (its size class,
/// registered on first use, or family 0), or -status.
export fn lmm_class_family_f64(handle: ?*Heap, bytes: f64) i32 {
    return classFamily(handle, bytes) catch |e| -code(e);
}

fn classFamily(handle: ?*Heap, bytes: f64) Error!i32 {
    const h = try enter(handle);
    defer leave(h);
    try h.usable();
    const n = try countFromF64(bytes);
    if (!h.fronted) return Heap.bytes_family;
    const c = front.classOf(n) orelse return Heap.bytes_family;
    if (front.classes[c] > @import("page.zig").Page.capacity(h.page_size)) return Heap.bytes_family;
    return @intCast((try front.classFamily(h, c)).id);
}

/// Lends up to `cap` cached blocks of `family`'s front unit to the caller's
/// own cache (the Deno module's): their addresses go to `out`; returns how
/// many, or -status.
export fn lmm_front_refill_f64(handle: ?*Heap, family: u32, out_addrs: ?[*]f64, cap: u32) i32 {
    return frontRefill(handle, family, out_addrs, cap) catch |e| -code(e);
}

fn frontRefill(handle: ?*Heap, family: u32, out_addrs: ?[*]f64, cap: u32) Error!i32 {
    const h = try enter(handle);
    defer leave(h);
    try h.usable();
    if (h.threads.on()) return error.InvalidArg; // thread caches lend the blocks of a locked heap
    if (cap == 0 or cap > 1 << 20) return error.InvalidArg;
    const f = h.family(family) orelse return error.UnknownFamily;
    const n = try front.refill(h, f, (out_addrs orelse return error.InvalidArg)[0..cap]);
    return @intCast(n);
}

/// Takes back `n` lent blocks of `family` that the caller's cache holds.
export fn lmm_front_return_f64(handle: ?*Heap, family: u32, addrs: ?[*]const f64, n: u32) c_int {
    return status(frontReturn(handle, family, addrs, n));
}

fn frontReturn(handle: ?*Heap, family: u32, addrs: ?[*]const f64, n: u32) Error!void {
    const h = try enter(handle);
    defer leave(h);
    try h.usable();
    if (h.threads.on()) return error.InvalidArg; // thread caches lend the blocks of a locked heap
    const f = h.family(family) orelse return error.UnknownFamily;
    if (n == 0) return;
    try front.giveBack(h, f, (addrs orelse return error.InvalidArg)[0..n]);
}

/// Applies what the caller's cache did to the counters (`lmm_front_delta_t`).
export fn lmm_front_settle(handle: ?*Heap, deltas: ?[*]const front.Delta, n: u32) c_int {
    return status(frontSettle(handle, deltas, n));
}

fn frontSettle(handle: ?*Heap, deltas: ?[*]const front.Delta, n: u32) Error!void {
    const h = try enter(handle);
    defer leave(h);
    try h.usable();
    if (h.threads.on()) return error.InvalidArg; // thread caches lend the blocks of a locked heap
    if (n == 0) return;
    try front.settle(h, (deltas orelse return error.InvalidArg)[0..n]);
}

// ---------------------------------------------------------------- FFI-shaped variants

const two53: f64 = 9007199254740992.0;

fn neg(e: Error) f64 {
    return -@as(f64, @floatFromInt(code(e)));
}

/// A count from a double: a whole number in [1, 2^53].
fn countFromF64(x: f64) Error!u64 {
    if (std.math.isNan(x) or std.math.isInf(x) or x < 0 or @floor(x) != x) return error.BadSize;
    if (x == 0) return error.ZeroSize;
    if (x > two53) return error.Overflow;
    return @intFromFloat(x);
}

/// An address from a double: a whole number in [1, 2^53).
fn addrFromF64(x: f64) Error!usize {
    if (!(x >= 1 and x < two53) or @floor(x) != x) return error.BadAddress;
    return @intFromFloat(x);
}

export fn lmm_alloc_f64(handle: ?*Heap, family: u32, units: f64, site: u32) f64 {
    return allocF64(handle, family, units, site) catch |e| neg(e);
}

fn allocF64(handle: ?*Heap, family: u32, units: f64, site: u32) Error!f64 {
    const h = try enter(handle);
    defer leave(h);
    const p = try h.alloc(family, try countFromF64(units), site);
    return @floatFromInt(@intFromPtr(p));
}

export fn lmm_free_f64(handle: ?*Heap, addr: f64) i32 {
    return -status(freeF64(handle, addr));
}

fn freeF64(handle: ?*Heap, addr: f64) Error!void {
    const h = try enter(handle);
    defer leave(h);
    try h.free(try addrFromF64(addr));
}

export fn lmm_realloc_f64(handle: ?*Heap, addr: f64, units: f64) f64 {
    return reallocF64(handle, addr, units) catch |e| neg(e);
}

fn reallocF64(handle: ?*Heap, addr: f64, units: f64) Error!f64 {
    const h = try enter(handle);
    defer leave(h);
    const a = try addrFromF64(addr);
    const n = try countFromF64(units);
    return @floatFromInt(@intFromPtr(try h.realloc(a, n)));
}

export fn lmm_validate_f64(handle: ?*Heap, addr: f64) i32 {
    return -status(validateF64(handle, addr));
}

fn validateF64(handle: ?*Heap, addr: f64) Error!void {
    const h = try enter(handle);
    defer leave(h);
    _ = try h.resolve(try addrFromF64(addr));
}

export fn lmm_size_f64(handle: ?*Heap, addr: f64) f64 {
    return sizeF64(handle, addr) catch |e| neg(e);
}

fn sizeF64(handle: ?*Heap, addr: f64) Error!f64 {
    const h = try enter(handle);
    defer leave(h);
    const found = try h.resolve(try addrFromF64(addr));
    return @floatFromInt(found.requested());
}

export fn lmm_family_of_f64(handle: ?*Heap, addr: f64) i32 {
    return familyOfF64(handle, addr) catch |e| -code(e);
}

fn familyOfF64(handle: ?*Heap, addr: f64) Error!i32 {
    const h = try enter(handle);
    defer leave(h);
    const found = try h.resolve(try addrFromF64(addr));
    if (found.family.id > std.math.maxInt(i32)) return error.Overflow;
    return @intCast(found.family.id);
}

// ---------------------------------------------------------------- tests

const testing = std.testing;

test "a heap through the C ABI: create, register, alloc, free, destroy" {
    var h: ?*Heap = null;
    try testing.expectEqual(@as(c_int, 0), lmm_heap_create(null, &h));
    var id: u32 = 0;
    try testing.expectEqual(@as(c_int, 0), lmm_register(h, "emp_t", 5, 36, &id));
    try testing.expectEqual(@as(u32, 1), id);
    var p: ?*anyopaque = null;
    try testing.expectEqual(@as(c_int, 0), lmm_alloc(h, id, 2, &p));
    try testing.expectEqual(@as(c_int, 0), lmm_validate(h, p));
    try testing.expectEqual(@as(c_int, 0), lmm_free(h, p));
    try testing.expectEqual(@intFromEnum(abi.Status.double_free), lmm_free(h, p));
    try testing.expectEqual(@as(c_int, 0), lmm_free(h, null));
    try testing.expectEqual(@as(c_int, 0), lmm_check(h, null, 0));
    try testing.expectEqual(@as(c_int, 0), lmm_heap_destroy(h));
    try testing.expectEqual(@intFromEnum(abi.Status.destroyed), lmm_alloc(h, id, 2, &p));
    try testing.expectEqual(@intFromEnum(abi.Status.destroyed), lmm_heap_destroy(h));
    try testing.expectEqual(@intFromEnum(abi.Status.bad_handle), lmm_free(null, p));
    _ = Heap.destroyFully(h.?);
}

test "release returns the heap's own page too" {
    var h: ?*Heap = null;
    try testing.expectEqual(@as(c_int, 0), lmm_heap_create(null, &h));
    var p: ?*anyopaque = null;
    try testing.expectEqual(@as(c_int, 0), lmm_alloc(h, 0, 100, &p));
    const base = @intFromPtr(h.?);
    try testing.expectEqual(@as(c_int, 0), lmm_heap_release(h));
    // The heap's page is unmapped: mincore on it fails with ENOMEM.
    var vec: [1]u8 = undefined;
    const rc = std.os.linux.mincore(@ptrFromInt(base), 4096, &vec);
    try testing.expectEqual(std.os.linux.E.NOMEM, std.os.linux.E.init(rc));
    try testing.expectEqual(@intFromEnum(abi.Status.bad_handle), lmm_heap_release(null));
}

test "f64 variants: bad numbers come back as negative statuses" {
    var h: ?*Heap = null;
    try testing.expectEqual(@as(c_int, 0), lmm_heap_create(null, &h));
    defer _ = Heap.destroyFully(h.?);
    const bad_size = -@as(f64, @floatFromInt(@intFromEnum(abi.Status.bad_size)));
    try testing.expectEqual(bad_size, lmm_alloc_f64(h, 0, std.math.nan(f64), 0));
    try testing.expectEqual(bad_size, lmm_alloc_f64(h, 0, -1, 0));
    try testing.expectEqual(bad_size, lmm_alloc_f64(h, 0, 1.5, 0));
    try testing.expectEqual(bad_size, lmm_alloc_f64(h, 0, std.math.inf(f64), 0));
    try testing.expectEqual(-@as(f64, @floatFromInt(@intFromEnum(abi.Status.zero_size))), lmm_alloc_f64(h, 0, 0, 0));
    try testing.expectEqual(-@as(f64, @floatFromInt(@intFromEnum(abi.Status.overflow))), lmm_alloc_f64(h, 0, 1e300, 0));
    const a = lmm_alloc_f64(h, 0, 100, 0);
    try testing.expect(a > 0);
    try testing.expectEqual(@as(f64, 100), lmm_size_f64(h, a));
    try testing.expectEqual(@as(i32, 1), lmm_family_of_f64(h, a)); // its size class, "bytes/112"
    const bad_addr = -@as(i32, @intFromEnum(abi.Status.bad_address));
    try testing.expectEqual(bad_addr, lmm_free_f64(h, -5));
    try testing.expectEqual(bad_addr, lmm_free_f64(h, a + 0.5));
    try testing.expectEqual(bad_addr, lmm_free_f64(h, std.math.nan(f64)));
    try testing.expectEqual(bad_addr, lmm_free_f64(h, 0));
    const b = lmm_realloc_f64(h, a, 5000);
    try testing.expect(b > 0);
    try testing.expectEqual(@as(i32, 0), lmm_free_f64(h, b));
    try testing.expectEqual(@as(c_int, 0), lmm_check(h, null, 0));
}

test "config and output-pointer errors" {
    var h: ?*Heap = null;
    var cfg: abi.Config = undefined;
    lmm_config_default(&cfg);
    cfg.page_size = 12345;
    try testing.expectEqual(@intFromEnum(abi.Status.bad_config), lmm_heap_create(&cfg, &h));
    lmm_config_default(&cfg);
    cfg.version = 99;
    try testing.expectEqual(@intFromEnum(abi.Status.bad_config), lmm_heap_create(&cfg, &h));
    lmm_config_default(&cfg);
    cfg.flags = 16; // unknown flag
    try testing.expectEqual(@intFromEnum(abi.Status.bad_config), lmm_heap_create(&cfg, &h));
    lmm_config_default(&cfg);
    cfg.reserve = Heap.max_bytes + 1;
    try testing.expectEqual(@intFromEnum(abi.Status.bad_config), lmm_heap_create(&cfg, &h));
    lmm_config_default(&cfg);
    cfg.flags = abi.heap_no_lock;
    try testing.expectEqual(@as(c_int, 0), lmm_heap_create(&cfg, &h));
    try testing.expect(!h.?.locked);
    var q: ?*anyopaque = null;
    try testing.expectEqual(@as(c_int, 0), lmm_alloc(h, 0, 8, &q));
    try testing.expectEqual(@as(c_int, 0), lmm_free(h, q));
    try testing.expectEqual(@as(c_int, 0), lmm_heap_release(h));
    try testing.expectEqual(@intFromEnum(abi.Status.invalid_arg), lmm_heap_create(null, null));
    lmm_config_default(&cfg);
    cfg.page_size = 4096;
    try testing.expectEqual(@as(c_int, 0), lmm_heap_create(&cfg, &h));
    defer _ = Heap.destroyFully(h.?);
    try testing.expectEqual(@intFromEnum(abi.Status.invalid_arg), lmm_register(h, "x", 1, 8, null));
    try testing.expectEqual(@intFromEnum(abi.Status.invalid_arg), lmm_register(h, null, 3, 8, null));
    var n: u64 = 0;
    var one: [1]abi.BlockRecord = undefined;
    _ = lmm_alloc_f64(h, 0, 10, 0);
    _ = lmm_alloc_f64(h, 0, 10, 0);
    try testing.expectEqual(@intFromEnum(abi.Status.buffer_too_small), lmm_blocks(h, introspect.all_families, 0, &one, 1, &n));
    try testing.expectEqual(@as(u64, 3), n);
    try testing.expectEqual(@intFromEnum(abi.Status.invalid_arg), lmm_blocks(h, introspect.all_families, 8, &one, 1, &n));
    var st: abi.Stats = undefined;
    try testing.expectEqual(@as(c_int, 0), lmm_stats(h, introspect.all_families, &st));
    try testing.expectEqual(@as(u32, @sizeOf(abi.Stats)), st.size);
    try testing.expectEqual(@as(u64, 20), st.app_bytes);
}

test "layout sizes match the header's constants" {
    try testing.expectEqual(@as(u32, 16), lmm_meta_block_size());
    try testing.expectEqual(@as(u32, 48), lmm_page_header_size());
}

test "status names cover the table and reject the rest" {
    try testing.expectEqualStrings("LMM_E_DOUBLE_FREE", std.mem.span(lmm_status_name(13)));
    try testing.expectEqualStrings("LMM_E_UNKNOWN", std.mem.span(lmm_status_name(-1)));
    try testing.expectEqualStrings("LMM_E_UNKNOWN", std.mem.span(lmm_status_name(abi.status_count)));
}

test "site texts round-trip and report the needed length" {
    var h: ?*Heap = null;
    try testing.expectEqual(@as(c_int, 0), lmm_heap_create(null, &h));
    defer _ = Heap.destroyFully(h.?);
    var id: u32 = 0;
    try testing.expectEqual(@as(c_int, 0), lmm_site_register(h, "main.ts:10", 10, &id));
    var buf: [4]u8 = undefined;
    var len: u32 = 0;
    try testing.expectEqual(@intFromEnum(abi.Status.buffer_too_small), lmm_site_text(h, id, &buf, buf.len, &len));
    try testing.expectEqual(@as(u32, 10), len);
    var big: [32]u8 = undefined;
    try testing.expectEqual(@as(c_int, 0), lmm_site_text(h, id, &big, big.len, &len));
    try testing.expectEqualStrings("main.ts:10", big[0..len]);
    try testing.expectEqual(@intFromEnum(abi.Status.invalid_arg), lmm_site_text(h, 99, &big, big.len, &len));
}
