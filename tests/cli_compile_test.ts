// The compiled `lmm` (deno task compile: the library embedded with --include). The binary is
// tested when dist/lmm exists (or LMM_BIN names one), or built here when DENORT_BIN names a
// denort; otherwise a visible SKIP line. The extraction of the embedded library is tested
// always, on a plain file.
import assert from "node:assert/strict";
import { join } from "node:path";
import { extractLibrary } from "../cli/library.ts";
import { sha256 } from "../ffi/native/loader.ts";
import { exists, FIXTURES, LIBRARY, libraryBuilt, ROOT } from "./fixtures/cli/helpers.ts";

Deno.test("extractLibrary: a content-addressed copy, reused, in the first writable directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmm-extract-" });
  try {
    const source = join(dir, "embedded.so");
    const bytes = new TextEncoder().encode("not really a shared library");
    await Deno.writeFile(source, bytes);
    const blocked = join(dir, "a-file");
    await Deno.writeTextFile(blocked, "");
    const cache = join(dir, "cache", "embedded");

    const path = await extractLibrary(source, [join(blocked, "sub"), cache]);
    assert.equal(path, join(cache, `liblmm-${sha256(bytes).slice(0, 16)}.so`));
    assert.deepEqual(await Deno.readFile(path!), bytes);
    assert.equal((await Deno.stat(path!)).mode! & 0o777, 0o755);
    const before = (await Deno.stat(path!)).mtime;
    assert.equal(await extractLibrary(source, [cache]), path);
    assert.deepEqual((await Deno.stat(path!)).mtime, before, "rewritten");
    assert.deepEqual([...Deno.readDirSync(cache)].map((e) => e.name), [path!.split("/").pop()]);

    assert.equal(await extractLibrary(join(dir, "missing.so"), [cache]), null);
    assert.equal(await extractLibrary(source, [join(blocked, "sub")]), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const GIVEN = Deno.env.get("LMM_BIN") ?? join(ROOT, "dist", "lmm");
const skip = exists(GIVEN)
  ? null
  : !Deno.env.get("DENORT_BIN")
  ? "no dist/lmm and no DENORT_BIN (deno compile cannot download denort here)"
  : !libraryBuilt()
  ? `${LIBRARY} is not built`
  : null;
if (skip !== null) console.log(`SKIP compiled binary test: ${skip}`);

/** The binary to test: LMM_BIN or dist/lmm, else one compiled now with DENORT_BIN. */
async function binary(work: string): Promise<string> {
  if (exists(GIVEN)) return GIVEN;
  const out = join(work, "lmm");
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["compile", "-A", "--include", "zig/zig-out/lib/liblmm.so", "-o", out, "cli.ts"],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, `deno compile failed: ${new TextDecoder().decode(stderr)}`);
  return out;
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
    await t.step("run hands the extracted library to the program", async () => {
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
      assert.match(lib, /\/embedded\/liblmm-[0-9a-f]{16}\.so$/);
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
