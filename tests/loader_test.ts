// The loader's paths: LMM_LIB, the repository build, the library a package carries (copied
// into the cache, verified) and every way that can fail; the platform names and what a user
// on a platform without a library is told. Over HTTP as a package user: tests/package_test.ts.
import { ABI_VERSION } from "../ffi/native/abi.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Heap, libraryInfo, LmmError } from "../mod.ts";
import {
  cachedPath,
  currentPlatform,
  fetchLibrary,
  open,
  platformOf,
  prebuiltFileName,
  sha256,
  unsupportedPlatformMessage,
} from "../ffi/native/loader.ts";
import { symbols } from "../ffi/native/symbols.ts";
import { repoPath, runCommand, runDeno } from "./_helpers.ts";
import { packageFiles, PLATFORMS } from "./_package.ts";

const BUILD = repoPath("zig/zig-out/lib/liblmm.so");
const LOAD_SCRIPT = repoPath("tests/fixtures/loader/load.ts");
const FILE = prebuiltFileName(currentPlatform());

interface LoadResult {
  ok: boolean;
  info?: { path: string; source: string; abiVersion: number };
  name?: string;
  code?: string;
  message?: string;
  cause?: string;
}

async function load(
  flags: string[],
  env: Record<string, string>,
  args: string[] = ["sync"],
): Promise<LoadResult> {
  const { code, stdout, stderr } = await runDeno(
    ["run", "--no-prompt", ...flags, LOAD_SCRIPT, ...args],
    { env, clearEnv: true },
  );
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

/** Every file under `dir` (recursively), relative; [] when it does not exist. */
function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (d: string, prefix: string): void => {
    for (const entry of Deno.readDirSync(d)) {
      if (entry.isDirectory) walk(join(d, entry.name), `${prefix}${entry.name}/`);
      else files.push(`${prefix}${entry.name}`);
    }
  };
  try {
    walk(dir, "");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return files.sort();
}

/** A local HTTP server: /good/… serves the library, /bad/… other bytes, the rest 404. */
async function withServer(
  fn: (base: string, hits: () => number) => Promise<void>,
): Promise<void> {
  const library = Deno.readFileSync(BUILD);
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    hits++;
    const path = new URL(request.url).pathname;
    if (path === `/good/${FILE}`) return new Response(library);
    if (path === `/bad/${FILE}`) return new Response(library.subarray(0, 1000));
    return new Response("not found", { status: 404 });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, () => hits);
  } finally {
    await server.shutdown();
  }
}

/** A local port nobody listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("this process loaded the repository build (or LMM_LIB)", () => {
  new Heap().close();
  const info = libraryInfo()!;
  assert.equal(info.abiVersion, ABI_VERSION);
  if (Deno.env.get("LMM_LIB")) assert.equal(info.source, "env");
  else assert.deepEqual(info, { path: BUILD, source: "build", abiVersion: ABI_VERSION });
});

Deno.test("open: a missing file or a non-library → LOAD_FAILED with the cause", () => {
  for (const path of ["/nonexistent/liblmm.so", LOAD_SCRIPT]) {
    assert.throws(() => open(path, "option"), (e: unknown) => {
      assert.ok(e instanceof LmmError);
      assert.equal(e.code, "LOAD_FAILED");
      assert.equal(e.status, -1);
      assert.ok(e.message.includes(path));
      assert.ok(e.cause instanceof Error);
      return true;
    });
  }
  const { library, info } = open(BUILD, "option");
  assert.equal(info.abiVersion, ABI_VERSION);
  library.close();
});

Deno.test("open: a library of another ABI version → ABI_MISMATCH", async () => {
  // A stand-in with every symbol of the table; lmm_abi_version() answers 999.
  const dir = Deno.makeTempDirSync({ prefix: "lmm-abi-" });
  try {
    const source = Object.keys(symbols).map((name) =>
      name === "lmm_abi_version"
        ? "unsigned lmm_abi_version(void) { return 999; }"
        : `void ${name}(void) {}`
    ).join("\n");
    Deno.writeTextFileSync(join(dir, "other.c"), source + "\n");
    const path = join(dir, "libother.so");
    const cc = await runCommand("cc", ["-shared", "-fPIC", "-o", path, join(dir, "other.c")]);
    assert.equal(cc.code, 0, cc.stderr);
    assert.throws(() => open(path, "option"), (e: unknown) => {
      assert.ok(e instanceof LmmError);
      assert.equal(e.code, "ABI_MISMATCH");
      assert.equal(
        e.message,
        `the LMM library ${path} has ABI version 999; this module needs ${ABI_VERSION}`,
      );
      return true;
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("LMM_LIB: used when set, an error (never a fallback) when wrong", async () => {
  const good = await load(["--allow-ffi", "--allow-env", "--allow-read"], { LMM_LIB: BUILD });
  assert.deepEqual(good, {
    ok: true,
    info: { path: BUILD, source: "env", abiVersion: ABI_VERSION },
  });
  const bad = await load(["--allow-ffi", "--allow-env", "--allow-read"], {
    LMM_LIB: "/nonexistent/liblmm.so",
  });
  assert.equal(bad.ok, false);
  assert.equal(bad.code, "LOAD_FAILED");
  assert.match(bad.message!, /\/nonexistent\/liblmm\.so \(env\)/);
  assert.ok(bad.cause);
});

Deno.test("the repository build is found next to the module when LMM_LIB is unset", async () => {
  const result = await load(["--allow-ffi", "--allow-env", "--allow-read"], {});
  assert.deepEqual(result, {
    ok: true,
    info: { path: BUILD, source: "build", abiVersion: ABI_VERSION },
  });
});

Deno.test("permissions: no env permission → LMM_LIB is not read (no prompt); no ffi → NotCapable passes through", async () => {
  const noEnv = await load(["--allow-ffi", "--allow-read"], { LMM_LIB: "/nonexistent/liblmm.so" });
  assert.equal(noEnv.ok, true);
  assert.equal(noEnv.info?.source, "build");
  const noFfi = await load(["--allow-env", "--allow-read"], {});
  assert.equal(noFfi.ok, false);
  assert.equal(noFfi.name, "NotCapable");
  assert.equal(noFfi.code, undefined, "not wrapped in an LmmError");
});

Deno.test("platform names: arch-os, and the libc on Linux", () => {
  const cases: [Parameters<typeof platformOf>[0], string][] = [
    [{ arch: "x86_64", os: "linux", target: "x86_64-unknown-linux-gnu" }, "x86_64-linux-gnu"],
    [{ arch: "aarch64", os: "linux", target: "aarch64-unknown-linux-gnu" }, "aarch64-linux-gnu"],
    [{ arch: "x86_64", os: "linux", target: "x86_64-unknown-linux-musl" }, "x86_64-linux-musl"],
    [{ arch: "aarch64", os: "darwin", target: "aarch64-apple-darwin" }, "aarch64-darwin"],
    [{ arch: "x86_64", os: "windows", target: "x86_64-pc-windows-msvc" }, "x86_64-windows"],
  ];
  for (const [build, platform] of cases) assert.equal(platformOf(build), platform);
  assert.equal(currentPlatform(), platformOf(Deno.build));
  assert.equal(prebuiltFileName("aarch64-linux-gnu"), "liblmm-aarch64-linux-gnu.so");
  assert.ok(PLATFORMS.includes(currentPlatform()), "this machine is a platform of the release");
});

Deno.test("no library for the platform: the user is told the platform and what to do", () => {
  const sums = Object.fromEntries(PLATFORMS.map((p) => [p, "0".repeat(64)]));
  const mac = unsupportedPlatformMessage("aarch64-darwin", sums);
  assert.match(mac, /^no LMM library for aarch64-darwin: /);
  assert.match(mac, /carries prebuilt libraries for aarch64-linux-gnu and x86_64-linux-gnu only/);
  assert.match(mac, /does not run on darwin: run your program in a Linux container or virtual/);
  const musl = unsupportedPlatformMessage("x86_64-linux-musl", sums);
  assert.match(musl, /^no LMM library for x86_64-linux-musl: /);
  assert.match(musl, /`scripts\/build -Dtarget=x86_64-linux-musl` and set LMM_LIB/);
  const riscv = unsupportedPlatformMessage("riscv64-linux-gnu", sums);
  assert.match(riscv, /build the library from the repository with `scripts\/build`/);
  const clone = unsupportedPlatformMessage("x86_64-linux-gnu", {});
  assert.match(
    clone,
    /carries no prebuilt library \(it was not made with `deno task release`\)/,
  );
});

Deno.test("fetchLibrary: verified, atomic, cached by content; reused without the network", async () => {
  const cacheDir = Deno.makeTempDirSync({ prefix: "lmm-cache-" });
  const sum = sha256(Deno.readFileSync(BUILD));
  try {
    await withServer(async (base, hits) => {
      const first = await fetchLibrary({ url: `${base}/good/${FILE}`, sha256: sum, cacheDir });
      const path = cachedPath(cacheDir, FILE, sum);
      assert.deepEqual(first, { path, fetched: true });
      assert.equal(path, join(cacheDir, sum.slice(0, 16), FILE));
      assert.deepEqual(listFiles(cacheDir), [`${sum.slice(0, 16)}/${FILE}`], "no temp file left");
      assert.equal(sha256(Deno.readFileSync(path)), sum);
      const { library, info } = open(path, "download");
      assert.equal(info.abiVersion, ABI_VERSION);
      library.close();
      assert.equal(hits(), 1);
      // A verified cached copy is reused: no request at all.
      const again = await fetchLibrary({
        url: `http://127.0.0.1:${closedPort()}/${FILE}`,
        sha256: sum.toUpperCase(),
        cacheDir,
      });
      assert.deepEqual(again, { path, fetched: false });
      assert.equal(hits(), 1);
      // A damaged cached copy is replaced.
      Deno.writeFileSync(path, new Uint8Array([1, 2, 3]));
      assert.equal(
        (await fetchLibrary({ url: `${base}/good/${FILE}`, sha256: sum, cacheDir })).fetched,
        true,
      );
      assert.equal(hits(), 2);
      assert.equal(sha256(Deno.readFileSync(path)), sum);
    });
    // A file: URL is read (a local package, or a compiled binary's embedded file).
    const other = Deno.makeTempDirSync({ prefix: "lmm-cache-" });
    try {
      const local = await fetchLibrary({ url: `file://${BUILD}`, sha256: sum, cacheDir: other });
      assert.deepEqual(local, { path: cachedPath(other, "liblmm.so", sum), fetched: true });
    } finally {
      Deno.removeSync(other, { recursive: true });
    }
  } finally {
    Deno.removeSync(cacheDir, { recursive: true });
  }
});

Deno.test("fetchLibrary failures: wrong checksum, 404, unreachable, missing file, unwritable cache — clear errors, nothing written", async () => {
  const cacheDir = Deno.makeTempDirSync({ prefix: "lmm-cache-" });
  const sum = sha256(Deno.readFileSync(BUILD));
  const expectFailure = async (
    options: Parameters<typeof fetchLibrary>[0],
    code: string,
    pattern: RegExp,
    withCause: boolean,
  ): Promise<void> => {
    await assert.rejects(fetchLibrary(options), (e: unknown) => {
      assert.ok(e instanceof LmmError, String(e));
      assert.equal(e.code, code);
      assert.match(e.message, pattern);
      assert.equal(e.cause !== undefined, withCause, "cause");
      return true;
    });
    assert.deepEqual(listFiles(cacheDir).filter((f) => !f.startsWith("blocker")), []);
  };
  try {
    await withServer(async (base) => {
      await expectFailure(
        { url: `${base}/bad/${FILE}`, sha256: sum, cacheDir },
        "CHECKSUM_MISMATCH",
        new RegExp(`expected ${sum}; nothing was written`),
        false,
      );
      await expectFailure(
        { url: `${base}/missing/${FILE}`, sha256: sum, cacheDir },
        "DOWNLOAD_FAILED",
        /HTTP 404/,
        true,
      );
    });
    await expectFailure(
      { url: `http://127.0.0.1:${closedPort()}/${FILE}`, sha256: sum, cacheDir },
      "DOWNLOAD_FAILED",
      /could not fetch the LMM library from http:\/\/127\.0\.0\.1:\d+\//,
      true,
    );
    await expectFailure(
      { url: "file:///nonexistent/liblmm.so", sha256: sum, cacheDir },
      "DOWNLOAD_FAILED",
      /could not fetch the LMM library from file:\/\/\/nonexistent\/liblmm\.so/,
      true,
    );
    // The cache directory cannot be made: a file stands where a folder should be.
    Deno.writeTextFileSync(join(cacheDir, "blocker"), "");
    await expectFailure(
      { url: `file://${BUILD}`, sha256: sum, cacheDir: join(cacheDir, "blocker") },
      "DOWNLOAD_FAILED",
      /could not write the LMM library to .*blocker/,
      true,
    );
  } finally {
    Deno.removeSync(cacheDir, { recursive: true });
  }
});

/** A copy of the package's published files (no zig/zig-out) in a temp dir. */
async function copyPackage(root: string): Promise<string> {
  for (const { path } of await packageFiles()) {
    const dest = join(root, "pkg", path);
    Deno.mkdirSync(join(dest, ".."), { recursive: true });
    Deno.copyFileSync(repoPath(path), dest);
  }
  return `file://${join(root, "pkg/mod.ts")}`;
}

Deno.test("a package without a build: loadLibrary copies its own library into the cache, verified", async () => {
  const root = Deno.makeTempDirSync({ prefix: "lmm-pkg-" });
  try {
    const moduleUrl = await copyPackage(root);
    const cacheDir = join(root, "cache");
    const env = { LMM_CACHE_DIR: cacheDir };
    const shipped = join(root, "pkg/ffi/native/prebuilt", FILE);
    const sum = sha256(Deno.readFileSync(shipped));
    // Synchronous loading finds no build and says what to do.
    const before = await load(["-A"], env, ["sync", moduleUrl]);
    assert.equal(before.code, "LOAD_FAILED");
    assert.match(before.message!, /not built .*await loadLibrary\(\)/);
    // loadLibrary(): fetched from beside the module into the cache, then from the cache.
    const fetched = await load(["-A"], env, ["async", moduleUrl]);
    assert.deepEqual(fetched, {
      ok: true,
      info: { path: cachedPath(cacheDir, FILE, sum), source: "download", abiVersion: ABI_VERSION },
    });
    const cached = await load(["-A"], env, ["async", moduleUrl]);
    assert.equal(cached.info?.source, "cache");
    // { download: false } never fetches.
    Deno.removeSync(cacheDir, { recursive: true });
    const noFetch = await load(["-A"], env, ["nofetch", moduleUrl]);
    assert.equal(noFetch.code, "LOAD_FAILED");
    assert.deepEqual(listFiles(cacheDir), []);
    // No cache directory at all (no LMM_CACHE_DIR, XDG_CACHE_HOME or HOME).
    const noCache = await load(["-A"], { HOME: "" }, ["async", moduleUrl]);
    assert.equal(noCache.code, "LOAD_FAILED");
    assert.match(noCache.message!, /set LMM_CACHE_DIR/);
    // Without write permission the permission error passes through.
    const noWrite = await load(["--allow-ffi", "--allow-env", "--allow-read"], env, [
      "async",
      moduleUrl,
    ]);
    assert.equal(noWrite.name, "NotCapable");
    // A library that does not match its sum is refused and not cached.
    Deno.writeFileSync(shipped, new Uint8Array([0x7f, 0x45, 0x4c, 0x46]));
    const damaged = await load(["-A"], env, ["async", moduleUrl]);
    assert.equal(damaged.code, "CHECKSUM_MISMATCH");
    assert.match(damaged.message!, new RegExp(`expected ${sum}`));
    assert.deepEqual(listFiles(cacheDir), []);
    // No release at all (a clone before `deno task release`): the platform error says so.
    Deno.removeSync(join(root, "pkg/ffi/native/prebuilt"), { recursive: true });
    const none = await load(["-A"], env, ["async", moduleUrl]);
    assert.equal(none.code, "UNSUPPORTED_PLATFORM");
    assert.equal(none.message, unsupportedPlatformMessage(currentPlatform(), {}));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
