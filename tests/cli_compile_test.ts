// The compiled `lmm` (deno task compile: this platform's library embedded with --include). The
// binary is tested when dist/lmm-<platform> exists (or LMM_BIN names one), or built here when
// DENORT_BIN names a denort; otherwise a visible SKIP line. How the binary gets at its embedded
// library — the loader copies the package's file: library into the cache, verified — is tested
// on a plain file in tests/loader_test.ts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { currentPlatform } from "../ffi/native/loader.ts";
import { compileArgs } from "../scripts/compile.ts";
import { TARGETS } from "../scripts/release.ts";
import { ensureRelease } from "./_package.ts";
import { exists, FIXTURES, ROOT } from "./fixtures/cli/helpers.ts";

const TARGET = TARGETS.find((t) => t.platform === currentPlatform())!;
const GIVEN = Deno.env.get("LMM_BIN") ?? join(ROOT, "dist", `lmm-${TARGET.platform}`);
const skip = exists(GIVEN) || Deno.env.get("DENORT_BIN")
  ? null
  : `no dist/lmm-${TARGET.platform} and no DENORT_BIN (deno compile cannot download denort here)`;
if (skip !== null) console.log(`SKIP compiled binary test: ${skip}`);

/** The binary to test: LMM_BIN or dist/lmm-<platform>, else one compiled now with DENORT_BIN. */
async function binary(work: string): Promise<string> {
  if (exists(GIVEN)) return GIVEN;
  await ensureRelease();
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(TARGET, work),
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, `deno compile failed: ${new TextDecoder().decode(stderr)}`);
  return join(work, `lmm-${TARGET.platform}`);
}

Deno.test({
  name: "the compiled lmm finds its embedded library",
  ignore: skip !== null,
}, async (t) => {
  const work = await Deno.makeTempDir({ prefix: "lmm-compile-" });
  try {
    const bin = await binary(work);
    // No LMM_LIB: the binary must use the library it carries.
    const env = Deno.env.toObject();
    delete env.LMM_LIB;
    env.NO_COLOR = "1";
    env.LMM_CACHE_DIR = join(work, "cache");
    const run = async (args: string[]): Promise<Deno.CommandOutput & { out: string }> => {
      const output = await new Deno.Command(bin, {
        args,
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { ...output, out: new TextDecoder().decode(output.stdout) };
    };

    await t.step("--version", async () => {
      const r = await run(["--version"]);
      assert.equal(r.code, 0);
      assert.match(r.out, /^lmm \d+\.\d+\.\d+ /);
    });
    await t.step("demo", async () => {
      const r = await run(["demo"]);
      assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
      assert.match(r.out, /SCENARIO 3/);
    });
    await t.step("run hands the program the library it copied into the cache", async () => {
      const r = await run([
        "run",
        "--",
        Deno.execPath(),
        "run",
        "-A",
        join(FIXTURES, "fake_program.ts"),
        join(FIXTURES, "clean.report.jsonl"),
        "0",
      ]);
      assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
      const lib = /LMM_LIB=(\S+)/.exec(r.out)?.[1] ?? "";
      assert.ok(lib.startsWith(env.LMM_CACHE_DIR), lib);
      assert.match(lib, new RegExp(`/[0-9a-f]{16}/liblmm-${TARGET.platform}\\.so$`));
      assert.ok(exists(lib));
    });
    await t.step("run --fail-on-leak on a leaky program", async () => {
      const r = await run([
        "run",
        "--fail-on-leak",
        "--",
        Deno.execPath(),
        "run",
        "-A",
        join(FIXTURES, "leaky.ts"),
      ]);
      assert.equal(r.code, 3, new TextDecoder().decode(r.stderr));
    });
    await t.step("a missing report: exit 2", async () => {
      assert.equal((await run(["report", join(work, "none.json")])).code, 2);
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
