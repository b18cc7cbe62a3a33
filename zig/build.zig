//! Builds liblmm.so (the product, ReleaseFast unless -Doptimize says
//! otherwise) and the tests (Debug and ReleaseSafe).
//!
//! The rule of this file: create every artifact first, wire the steps last.
//!
//!   zig build                      zig-out/lib/liblmm.so and zig-out/include/lmm.h
//!   zig build -Dtarget=aarch64-linux-gnu -Dstrip   a stripped cross build (scripts/release)
//!   zig build test                 every file's tests, in Debug and ReleaseSafe
//!   zig build test -Dtest-filter=worst -Dfuzz-ops=1000000 -Dfuzz-seeds=100
//!   zig build test -Dtest-filter=corruption -Dcorrupt-cases=1000000 -Dcorrupt-seed=1
//!   zig build gen-abi -- ts        print a derived copy of the ABI (src/gen_abi.zig)

const std = @import("std");

pub fn build(b: *std.Build) void {
    // The library is shipped: baseline CPU unless -Dtarget/-Dcpu say otherwise
    // (a native build would use whatever this machine has, AVX-512 included).
    const target = b.standardTargetOptions(.{ .default_target = .{ .cpu_model = .baseline } });
    const optimize = b.option(std.builtin.OptimizeMode, "optimize", "Library build mode (default ReleaseFast)") orelse .ReleaseFast;
    const test_filters = b.option([]const []const u8, "test-filter", "Run only tests whose name contains this") orelse &.{};
    const fuzz_ops = b.option(usize, "fuzz-ops", "Operations per randomized sequence (default 100000; Debug runs a tenth)") orelse 100_000;
    const fuzz_seeds = b.option(usize, "fuzz-seeds", "Randomized sequences (seeds) to run (default 100)") orelse 100;
    const corrupt_cases = b.option(usize, "corrupt-cases", "Corruption fuzzer cases (default 100000; Debug runs a tenth)") orelse 100_000;
    const corrupt_seed = b.option(u64, "corrupt-seed", "Seed of the corruption fuzzer's first case (default 1)") orelse 1;
    const corrupt_trace = b.option(bool, "corrupt-trace", "Print each corruption case's damage and operations (default false)") orelse false;
    const strip = b.option(bool, "strip", "Leave symbols and debug info out of the library (default false; scripts/release sets it)") orelse false;

    // ---- artifacts
    const lib = b.addLibrary(.{
        .name = "lmm",
        .linkage = .dynamic,
        .root_module = b.createModule(.{
            .root_source_file = b.path("src/lmm.zig"),
            .target = target,
            .optimize = optimize,
            .strip = strip,
            // libc's memset/memcpy (vectorised) zero and move blocks; the
            // engine itself calls the kernel directly.
            .link_libc = true,
        }),
    });

    // The ABI generator (see src/gen_abi.zig), run by `deno task gen-abi`.
    const gen_abi = b.addExecutable(.{
        .name = "lmm-gen-abi",
        .root_module = b.createModule(.{
            .root_source_file = b.path("src/gen_abi.zig"),
            .target = b.graph.host,
            .optimize = .Debug,
        }),
    });

    const test_modes = [_]std.builtin.OptimizeMode{ .Debug, .ReleaseSafe };
    var test_runs: [test_modes.len]*std.Build.Step.Run = undefined;
    for (test_modes, &test_runs) |mode, *run| {
        const opts = b.addOptions();
        opts.addOption(usize, "fuzz_ops", if (mode == .Debug) fuzz_ops / 10 else fuzz_ops);
        opts.addOption(usize, "fuzz_seeds", fuzz_seeds);
        opts.addOption(usize, "corrupt_cases", if (mode == .Debug) @max(1, corrupt_cases / 10) else corrupt_cases);
        opts.addOption(u64, "corrupt_seed", corrupt_seed);
        opts.addOption(bool, "corrupt_trace", corrupt_trace);
        const mod = b.createModule(.{
            .root_source_file = b.path("src/lmm.zig"),
            .target = target,
            .optimize = mode,
        });
        mod.addOptions("build_options", opts);
        const t = b.addTest(.{
            .name = b.fmt("lmm-test-{s}", .{@tagName(mode)}),
            .root_module = mod,
            .filters = test_filters,
        });
        run.* = b.addRunArtifact(t);
    }

    // ---- steps
    b.installArtifact(lib);
    b.getInstallStep().dependOn(&b.addInstallHeaderFile(b.path("include/lmm.h"), "lmm.h").step);

    const test_step = b.step("test", "Run every file's tests in Debug and ReleaseSafe");
    for (test_runs) |run| test_step.dependOn(&run.step);

    const gen_step = b.step("gen-abi", "Print a derived copy of the ABI: zig build gen-abi -- ts|defines|asserts");
    const gen_run = b.addRunArtifact(gen_abi);
    if (b.args) |args| gen_run.addArgs(args);
    gen_step.dependOn(&gen_run.step);
}
