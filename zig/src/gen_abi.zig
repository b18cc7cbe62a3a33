//! Writes the derived copies of the ABI from `abi.zig`, the one source:
//!
//!     lmm-gen-abi ts        the Deno module's tables (ffi/native/abi.ts)
//!     lmm-gen-abi defines   include/lmm.h's block of #defines
//!     lmm-gen-abi asserts   include/lmm.h's block of layout checks
//!
//! (each lmm.h block runs from its "BEGIN GENERATED" line to "END GENERATED")
//!
//! Both go to standard output; `deno task gen-abi` puts them in place and a
//! test compares the committed files with a fresh generation.

const std = @import("std");
const abi = @import("abi.zig");

pub fn main() !void {
    var args = std.process.args();
    _ = args.next();
    const what = args.next() orelse return usage();
    const out = std.io.getStdOut().writer();
    var buf = std.io.bufferedWriter(out);
    if (std.mem.eql(u8, what, "ts")) {
        try writeTs(buf.writer());
    } else if (std.mem.eql(u8, what, "defines")) {
        try writeDefines(buf.writer());
    } else if (std.mem.eql(u8, what, "asserts")) {
        try writeAsserts(buf.writer());
    } else return usage();
    try buf.flush();
}

fn usage() !void {
    try std.io.getStdErr().writeAll("usage: lmm-gen-abi ts|defines|asserts\n");
    std.process.exit(2);
}

/// `LMM_E_DOUBLE_FREE` → `DOUBLE_FREE`; `LMM_OK` → `OK`.
fn shortName(s: abi.Status) []const u8 {
    const n = s.name();
    return if (std.mem.startsWith(u8, n, "LMM_E_")) n[6..] else n[4..];
}

fn cType(comptime T: type) []const u8 {
    return switch (@typeInfo(T)) {
        .int => |i| if (i.bits == 32) "u32" else if (i.bits == 64) "u64" else @compileError("field width"),
        .array => |a| std.fmt.comptimePrint("u8[{d}]", .{a.len}),
        else => @compileError("field type"),
    };
}

fn writeTs(w: anytype) !void {
    try w.writeAll(
        \\/**
        \\ * The C ABI's numbers for the Deno module: status codes and messages,
        \\ * constants, and the byte layout of every struct of `zig/include/lmm.h`
        \\ * (x86-64 / aarch64, little endian).
        \\ *
        \\ * GENERATED from `zig/src/abi.zig` by `zig/src/gen_abi.zig` — do not edit;
        \\ * `deno task gen-abi` rewrites it, and a test fails when it is stale.
        \\ *
        \\ * @module
        \\ */
        \\
        \\
    );
    try w.print("/** `LMM_ABI_VERSION`: the ABI this module is written against. */\nexport const ABI_VERSION = {d};\n", .{abi.version});
    for (abi.constants) |c| {
        try w.print("/** `LMM_{s}`: {s}. */\nexport const {s} = {d};\n", .{ c.name, c.doc, c.name, c.value });
    }
    try w.writeAll("\n/** Status codes by number: `[code, message]` (the code is the name without `LMM_E_`). */\nexport const STATUS = [\n");
    inline for (@typeInfo(abi.Status).@"enum".fields) |f| {
        const s: abi.Status = @enumFromInt(f.value);
        try w.print("  [\"{s}\", \"{s}\"], // {d}\n", .{ shortName(s), s.message(), f.value });
    }
    try w.writeAll("] as const;\n\n/** Status numbers by code. */\nexport const Status = {\n");
    inline for (@typeInfo(abi.Status).@"enum".fields) |f| {
        try w.print("  {s}: {d},\n", .{ shortName(@enumFromInt(f.value)), f.value });
    }
    try w.writeAll("} as const;\n");
    inline for (abi.structs) |st| {
        try w.print("\n/** `{s}` ({d} bytes): offsets of its fields. */\nexport const {s} = {{\n  SIZE: {d},\n", .{ st.c_name, @sizeOf(st.T), st.ts_name, @sizeOf(st.T) });
        inline for (@typeInfo(st.T).@"struct".fields) |f| {
            try w.print("  {s}: {d}, // {s}\n", .{ f.name, @offsetOf(st.T, f.name), cType(f.type) });
        }
        try w.writeAll("} as const;\n");
    }
    try w.writeAll("\n/** The `uint64_t` fields of `lmm_stats_t`, in order. */\nexport const STATS_U64 = [\n");
    inline for (@typeInfo(abi.Stats).@"struct".fields) |f| {
        if (f.type == u64) try w.print("  \"{s}\",\n", .{f.name});
    }
    try w.writeAll("] as const;\n");
}

fn writeDefines(w: anytype) !void {
    try w.print("/* BEGIN GENERATED from zig/src/abi.zig by `deno task gen-abi` — do not edit this block. */\n#define LMM_ABI_VERSION {d}u\n\n/* Status codes. Stable numbers: they cross the FFI boundary. */\n", .{abi.version});
    inline for (@typeInfo(abi.Status).@"enum".fields) |f| {
        const s: abi.Status = @enumFromInt(f.value);
        try w.print("#define {s} {d} /* {s} */\n", .{ s.name(), f.value, s.message() });
    }
    try w.print("#define LMM_STATUS_COUNT {d}\n\n", .{abi.status_count});
    for (abi.constants) |c| {
        const suffix = if (c.value > std.math.maxInt(u32)) "ull" else "u";
        try w.print("#define LMM_{s} {d}{s} /* {s} */\n", .{ c.name, c.value, suffix, c.doc });
    }
    try w.writeAll("/* END GENERATED */\n");
}

fn writeAsserts(w: anytype) !void {
    try w.writeAll(
        \\/* BEGIN GENERATED layout checks from zig/src/abi.zig — do not edit this block. */
        \\#ifdef __cplusplus
        \\#define LMM_LAYOUT_CHECK(c, m) static_assert(c, m)
        \\#else
        \\#define LMM_LAYOUT_CHECK(c, m) _Static_assert(c, m)
        \\#endif
        \\
    );
    inline for (abi.structs) |st| {
        try w.print("LMM_LAYOUT_CHECK(sizeof({s}) == {d}, \"{s} size\");\n", .{ st.c_name, @sizeOf(st.T), st.c_name });
        inline for (@typeInfo(st.T).@"struct".fields) |f| {
            try w.print("LMM_LAYOUT_CHECK(offsetof({s}, {s}) == {d}, \"{s}.{s}\");\n", .{ st.c_name, f.name, @offsetOf(st.T, f.name), st.c_name, f.name });
        }
    }
    try w.writeAll("/* END GENERATED */\n");
}
