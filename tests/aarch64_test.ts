// The aarch64 library of a release is real: the C API test (tests/c/api_test.c) and the threads
// test (tests/c/threads_test.c: thread caches keyed by tpidr_el0, stopped with membarrier or its
// fallback), cross-built with `zig cc -target aarch64-linux-gnu`, run against it under
// qemu-aarch64 with Debian's aarch64 glibc as its sysroot. qemu-user and libc6-arm64-cross are installed with apt-get when missing
// (as root); where they cannot be, a visible SKIP line.
import assert from "node:assert/strict";
import { join } from "node:path";
import { prebuiltFileName } from "../ffi/native/loader.ts";
import { repoPath, runCommand } from "./_helpers.ts";
import { elf, EM_AARCH64, ensureRelease, PREBUILT } from "./_package.ts";
import { aptInstall, which } from "./fixtures/apt.ts";
import { exists } from "./fixtures/cli/helpers.ts";

/** Debian's aarch64 glibc (libc6-arm64-cross): the dynamic loader and libc the program runs with. */
const SYSROOT = "/usr/aarch64-linux-gnu";
const LOADER = `${SYSROOT}/lib/ld-linux-aarch64.so.1`;

async function findQemu(): Promise<{ qemu: string } | { reason: string }> {
  const ready = async (): Promise<string | null> =>
    exists(LOADER) ? await which("qemu-aarch64") : null;
  let qemu = await ready();
  if (qemu === null) {
    const failed = await aptInstall(["qemu-user", "libc6-arm64-cross"]);
    if (failed !== null) return { reason: failed };
    qemu = await ready();
  }
  return qemu === null
    ? { reason: "qemu-aarch64 or the aarch64 glibc is still missing" }
    : { qemu };
}

const found = await findQemu();
const qemu = "qemu" in found ? found.qemu : null;
if ("reason" in found) console.log(`SKIP aarch64_test: ${found.reason}`);

for (const name of ["api_test", "threads_test"]) {
  const SOURCE = repoPath(`tests/c/${name}.c`);
  Deno.test({
    name:
      `aarch64: tests/c/${name}.c, cross-built with zig cc, passes against the release's aarch64 library under qemu-aarch64`,
    ignore: qemu === null,
    async fn(): Promise<void> {
      await ensureRelease();
      const work = await Deno.makeTempDir({ prefix: "lmm-aarch64-" });
      try {
        // The release's file, under the name the program links against (its soname).
        const library = join(PREBUILT, prebuiltFileName("aarch64-linux-gnu"));
        Deno.copyFileSync(library, join(work, "liblmm.so"));
        const exe = join(work, name);
        const zig = await which("zig") ?? repoPath(".tools/bin/zig");
        const cc = await runCommand(zig, [
          "cc",
          "-target",
          "aarch64-linux-gnu.2.28",
          "-std=c11",
          "-Wall",
          "-Wextra",
          "-Werror",
          "-O1",
          "-pthread",
          "-I",
          repoPath("zig/include"),
          "-o",
          exe,
          SOURCE,
          "-L",
          work,
          "-llmm",
          `-Wl,-rpath,${work}`,
        ]);
        assert.equal(cc.code, 0, `zig cc failed:\n${cc.stderr}`);
        assert.equal(elf(Deno.readFileSync(exe)).machine, EM_AARCH64, "an aarch64 program");

        const r = await runCommand(qemu!, ["-L", SYSROOT, exe]);
        const tests = [...Deno.readTextFileSync(SOURCE).matchAll(/^\s+run\(test_\w+\);$/gm)].length;
        assert.ok(tests >= 4, `only ${tests} tests found in ${SOURCE}`);
        const summary = r.stdout.trim().split("\n").at(-1);
        assert.equal(summary, `${tests} passed, 0 failed`, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.code, 0);
        console.log(`aarch64 ${name} under ${qemu}: ${summary}`);
      } finally {
        await Deno.remove(work, { recursive: true });
      }
    },
  });
}
