//! Allocation sites of a heap: texts such as "app.ts:42" interned once and
//! named by a dense id that each occupied block keeps in its meta block.
//!
//! ## Basic Design
//! Id 0 means "no site". Texts live in an arena (never freed one by one, so
//! their addresses are stable and can key the index).

const std = @import("std");

const Sites = @This();

/// Longest site text accepted, in bytes.
pub const text_max = 1024;
/// Most sites a heap records, "no site" included (ids fit a meta block's site bits).
pub const limit = @import("block.zig").Block.site_limit;

arena: std.heap.ArenaAllocator,
texts: std.ArrayListUnmanaged([]const u8) = .{},
index: std.StringHashMapUnmanaged(u32) = .{},

pub fn init(gpa: std.mem.Allocator) Sites {
    return .{ .arena = std.heap.ArenaAllocator.init(gpa) };
}

pub fn deinit(s: *Sites, gpa: std.mem.Allocator) void {
    s.texts.deinit(gpa);
    s.index.deinit(gpa);
    s.arena.deinit();
}

/// Number of ids in use, "no site" included.
pub fn count(s: *const Sites) u32 {
    return @intCast(s.texts.items.len + 1);
}

pub const Error = error{ OutOfMemory, InvalidArg, SiteLimit };

/// The id of `text`, registering it on first sight.
pub fn intern(s: *Sites, gpa: std.mem.Allocator, str: []const u8) Error!u32 {
    if (str.len == 0 or str.len > text_max) return error.InvalidArg;
    if (s.index.get(str)) |id| return id;
    if (s.count() >= limit) return error.SiteLimit;
    try s.texts.ensureUnusedCapacity(gpa, 1);
    try s.index.ensureUnusedCapacity(gpa, 1);
    const copy = try s.arena.allocator().dupe(u8, str);
    s.texts.appendAssumeCapacity(copy);
    const id: u32 = @intCast(s.texts.items.len);
    s.index.putAssumeCapacity(copy, id);
    return id;
}

/// The text of `id`, or null for 0 and unknown ids.
pub fn text(s: *const Sites, id: u32) ?[]const u8 {
    if (id == 0 or id > s.texts.items.len) return null;
    return s.texts.items[id - 1];
}

test "intern gives one id per text, starting at 1" {
    var s = Sites.init(std.testing.allocator);
    defer s.deinit(std.testing.allocator);
    const a = try s.intern(std.testing.allocator, "a.ts:1");
    const b = try s.intern(std.testing.allocator, "b.ts:2");
    try std.testing.expectEqual(@as(u32, 1), a);
    try std.testing.expectEqual(@as(u32, 2), b);
    try std.testing.expectEqual(a, try s.intern(std.testing.allocator, "a.ts:1"));
    try std.testing.expectEqualStrings("b.ts:2", s.text(b).?);
    try std.testing.expect(s.text(0) == null);
    try std.testing.expect(s.text(3) == null);
    try std.testing.expectEqual(@as(u32, 3), s.count());
}

test "intern refuses empty and over-long texts" {
    var s = Sites.init(std.testing.allocator);
    defer s.deinit(std.testing.allocator);
    try std.testing.expectError(error.InvalidArg, s.intern(std.testing.allocator, ""));
    const long = [_]u8{'x'} ** (text_max + 1);
    try std.testing.expectError(error.InvalidArg, s.intern(std.testing.allocator, &long));
}
