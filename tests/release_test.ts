// The release layout (`deno task release`): one stripped library per platform, of the right
// architecture, with the sums the generated checksums.ts holds; what `deno publish --dry-run`
// ships; the version in one place; the command lines of `deno task compile`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { prebuiltFileName, sha256 } from "../ffi/native/loader.ts";
import { VERSION } from "../ffi/version.ts";
import { compileArgs, selectTargets } from "../scripts/compile.ts";
import {
  checksumsModule,
  packageVersion,
  release,
  TARGETS,
  versionMismatch,
} from "../scripts/release.ts";
import {
  CONFIG,
  elf,
  EM_AARCH64,
  EM_X86_64,
  packageFiles,
  PLATFORMS,
  PREBUILT,
} from "./_package.ts";

const ET_DYN = 3;

Deno.test("release: a stripped shared library per platform, for its architecture", async () => {
  await packageFiles(); // runs scripts/release when needed
  assert.deepEqual(PLATFORMS, ["x86_64-linux-gnu", "aarch64-linux-gnu"]);
  for (const platform of PLATFORMS) {
    const info = elf(Deno.readFileSync(join(PREBUILT, prebuiltFileName(platform))));
    assert.equal(info.type, ET_DYN, `${platform}: a shared object`);
    assert.equal(info.machine, platform.startsWith("x86_64") ? EM_X86_64 : EM_AARCH64, platform);
    assert.ok(info.sections.includes(".dynsym"), `${platform}: exports its symbols`);
    for (const debug of [".symtab", ".debug_info", ".debug_line"]) {
      assert.ok(!info.sections.includes(debug), `${platform}: not stripped (${debug})`);
    }
  }
});

Deno.test("release: checksums.ts is generated from the libraries' SHA-256", async () => {
  await packageFiles();
  const sums = Object.fromEntries(
    PLATFORMS.map((p) => [p, sha256(Deno.readFileSync(join(PREBUILT, prebuiltFileName(p))))]),
  );
  const { PREBUILT_SHA256 } = await import("../ffi/native/prebuilt/checksums.ts");
  assert.deepEqual(PREBUILT_SHA256, sums);
  assert.equal(Deno.readTextFileSync(join(PREBUILT, "checksums.ts")), checksumsModule(sums));
  assert.match(checksumsModule({ b: "2", a: "1" }), /"a": "1",\n {2}"b": "2",\n\};/);
});

Deno.test("deno publish --dry-run ships both libraries, their sums, the docs — and no tests or engine source", async () => {
  const files = (await packageFiles()).map((f) => f.path);
  for (
    const file of [
      "mod.ts",
      "seed.ts",
      "cli.ts",
      "ffi/heap.ts",
      "ffi/native/loader.ts",
      "ffi/native/prebuilt/checksums.ts",
      ...PLATFORMS.map((p) => `ffi/native/prebuilt/${prebuiltFileName(p)}`),
      "zig/include/lmm.h",
      "README.md",
      "LICENSE",
      "cli/report-screenshot.png",
    ]
  ) {
    assert.ok(files.includes(file), `${file} is not in the package:\n${files.join("\n")}`);
  }
  for (const file of files) {
    assert.doesNotMatch(file, /_test\.ts$|^tests\/|^zig\/src\/|zig-out|^scripts\/|^\.tools/);
  }
  // The release folder is git-ignored: never committed, always shipped.
  const ignored = await new Deno.Command("git", {
    args: ["check-ignore", "-q", `ffi/native/prebuilt/${prebuiltFileName(PLATFORMS[0])}`],
    cwd: join(PREBUILT, "../../.."),
  }).output();
  assert.equal(ignored.code, 0, "ffi/native/prebuilt/ is not git-ignored");
});

Deno.test("one version: deno.json and ffi/version.ts agree, and a release refuses when not", () => {
  assert.equal(packageVersion(), VERSION);
  assert.equal(CONFIG.version, VERSION);
  assert.equal(versionMismatch(VERSION, VERSION), null);
  assert.equal(
    versionMismatch("0.2.0", "0.1.0"),
    "deno.json says version 0.2.0, ffi/version.ts says 0.1.0: make them equal",
  );
});

Deno.test("release: a failed build leaves the previous release untouched and no work folder", async () => {
  await packageFiles();
  const snapshot = (): Record<string, string> =>
    Object.fromEntries(
      [...Deno.readDirSync(PREBUILT)].map((
        e,
      ) => [e.name, sha256(Deno.readFileSync(join(PREBUILT, e.name)))]),
    );
  const before = snapshot();
  await assert.rejects(release("false"), /false build -Dtarget=x86_64-linux-gnu\.2\.28 .* failed/);
  assert.deepEqual(snapshot(), before);
  const left = [...Deno.readDirSync(join(PREBUILT, ".."))].filter((e) =>
    e.name.startsWith(".release-")
  );
  assert.deepEqual(left, []);
});

Deno.test("compile: one lmm per platform, each embedding its own library", () => {
  assert.deepEqual(selectTargets([]), [...TARGETS]);
  assert.deepEqual(selectTargets(["aarch64-linux-gnu"]).map((t) => t.deno), [
    "aarch64-unknown-linux-gnu",
  ]);
  assert.throws(() => selectTargets(["x86_64-darwin"]), /unknown platform 'x86_64-darwin'/);
  assert.deepEqual(compileArgs(TARGETS[1], "/out"), [
    "compile",
    "-A",
    "--target",
    "aarch64-unknown-linux-gnu",
    "--include",
    "ffi/native/prebuilt/liblmm-aarch64-linux-gnu.so",
    "-o",
    "/out/lmm-aarch64-linux-gnu",
    "cli.ts",
  ]);
});
