// The loader's paths: LMM_LIB, the repository build, the download cache and the download
// itself (against a local HTTP server: good file, wrong checksum, 404, unreachable URL).
import assert from "node:assert/strict";
import { join } from "node:path";
import { Heap, libraryInfo, LmmError } from "../mod.ts";
import { downloadLibrary, libraryFileName, open, sha256 } from "../ffi/native/loader.ts";
import { LIBRARY_VERSION } from "../ffi/native/checksums.ts";
import { repoPath, runDeno } from "./_helpers.ts";

const BUILD = repoPath("zig/zig-out/lib/liblmm.so");
const LOAD_SCRIPT = repoPath("tests/fixtures/loader/load.ts");
const FILE = libraryFileName();

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
    if (path === `/good/v${LIBRARY_VERSION}/${FILE}`) return new Response(library);
    if (path === `/bad/v${LIBRARY_VERSION}/${FILE}`) return new Response(library.subarray(0, 1000));
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
  assert.equal(info.abiVersion, 1);
  if (Deno.env.get("LMM_LIB")) assert.equal(info.source, "env");
  else assert.deepEqual(info, { path: BUILD, source: "build", abiVersion: 1 });
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
  assert.equal(info.abiVersion, 1);
  library.close();
});

Deno.test("LMM_LIB: used when set, an error (never a fallback) when wrong", async () => {
  const good = await load(["--allow-ffi", "--allow-env", "--allow-read"], { LMM_LIB: BUILD });
  assert.deepEqual(good, { ok: true, info: { path: BUILD, source: "env", abiVersion: 1 } });
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
  assert.deepEqual(result, { ok: true, info: { path: BUILD, source: "build", abiVersion: 1 } });
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

Deno.test("download: verified, atomic, cached; reused without the network", async () => {
  const cacheDir = Deno.makeTempDirSync({ prefix: "lmm-cache-" });
  const sum = sha256(Deno.readFileSync(BUILD));
  try {
    await withServer(async (base, hits) => {
      const path = await downloadLibrary({
        baseUrl: `${base}/good/`,
        cacheDir,
        checksums: { [FILE]: sum },
      });
      assert.equal(path, join(cacheDir, LIBRARY_VERSION, FILE));
      assert.deepEqual(listFiles(cacheDir), [`${LIBRARY_VERSION}/${FILE}`], "no temp file left");
      assert.equal(sha256(Deno.readFileSync(path)), sum);
      const { library, info } = open(path, "download");
      assert.equal(info.abiVersion, 1);
      library.close();
      assert.equal(hits(), 1);
      // A verified cached copy is reused: no request at all.
      const again = await downloadLibrary({
        baseUrl: `http://127.0.0.1:${closedPort()}`,
        cacheDir,
        checksums: { [FILE]: sum },
      });
      assert.equal(again, path);
      assert.equal(hits(), 1);
      // A damaged cached copy is replaced.
      Deno.writeFileSync(path, new Uint8Array([1, 2, 3]));
      await downloadLibrary({ baseUrl: `${base}/good`, cacheDir, checksums: { [FILE]: sum } });
      assert.equal(hits(), 2);
      assert.equal(sha256(Deno.readFileSync(path)), sum);
    });
  } finally {
    Deno.removeSync(cacheDir, { recursive: true });
  }
});

Deno.test("download failures: wrong checksum, 404, unreachable, no sum — clear errors, nothing written", async () => {
  const cacheDir = Deno.makeTempDirSync({ prefix: "lmm-cache-" });
  const sum = sha256(Deno.readFileSync(BUILD));
  const expectFailure = async (
    options: Parameters<typeof downloadLibrary>[0],
    code: string,
    pattern: RegExp,
    withCause: boolean,
  ): Promise<void> => {
    await assert.rejects(downloadLibrary(options), (e: unknown) => {
      assert.ok(e instanceof LmmError, String(e));
      assert.equal(e.code, code);
      assert.match(e.message, pattern);
      assert.equal(e.cause !== undefined, withCause, "cause");
      return true;
    });
    assert.deepEqual(listFiles(cacheDir), [], "nothing (half-)written in the cache");
  };
  try {
    await withServer(async (base) => {
      await expectFailure(
        { baseUrl: `${base}/bad`, cacheDir, checksums: { [FILE]: sum } },
        "CHECKSUM_MISMATCH",
        new RegExp(`expected ${sum}; nothing was written`),
        false,
      );
      await expectFailure(
        { baseUrl: `${base}/missing`, cacheDir, checksums: { [FILE]: sum } },
        "DOWNLOAD_FAILED",
        /HTTP 404/,
        true,
      );
    });
    await expectFailure(
      { baseUrl: `http://127.0.0.1:${closedPort()}`, cacheDir, checksums: { [FILE]: sum } },
      "DOWNLOAD_FAILED",
      /could not download the LMM library from http:\/\/127\.0\.0\.1:\d+\/v/,
      true,
    );
    await expectFailure(
      { baseUrl: "http://127.0.0.1:1", cacheDir, checksums: {} },
      "DOWNLOAD_FAILED",
      /no SHA-256 sum is shipped/,
      false,
    );
  } finally {
    Deno.removeSync(cacheDir, { recursive: true });
  }
});

Deno.test("the whole chain from a package without a build: loadLibrary downloads, new Heap uses the cache", async () => {
  // A copy of the package as JSR would install it: mod.ts and ffi/, with shipped sums.
  const root = Deno.makeTempDirSync({ prefix: "lmm-pkg-" });
  const sum = sha256(Deno.readFileSync(BUILD));
  try {
    Deno.mkdirSync(join(root, "pkg/ffi/native"), { recursive: true });
    Deno.mkdirSync(join(root, "pkg/ffi/report"), { recursive: true });
    Deno.copyFileSync(repoPath("mod.ts"), join(root, "pkg/mod.ts"));
    for (const dir of ["ffi", "ffi/native", "ffi/report"]) {
      for (const entry of Deno.readDirSync(repoPath(dir))) {
        if (entry.isFile) {
          Deno.copyFileSync(repoPath(`${dir}/${entry.name}`), join(root, "pkg", dir, entry.name));
        }
      }
    }
    const moduleUrl = `file://${join(root, "pkg/mod.ts")}`;
    const cacheDir = join(root, "cache");
    await withServer(async (base, hits) => {
      Deno.writeTextFileSync(
        join(root, "pkg/ffi/native/checksums.ts"),
        `export const LIBRARY_VERSION = "${LIBRARY_VERSION}";\n` +
          `export const DOWNLOAD_BASE = "${base}/good";\n` +
          `export const LIBRARY_SHA256: Readonly<Record<string, string>> = { "${FILE}": "${sum}" };\n`,
      );
      const env = { LMM_CACHE_DIR: cacheDir };
      // Synchronous loading finds nothing and says what to do.
      const before = await load(["-A"], env, ["sync", moduleUrl]);
      assert.equal(before.code, "LOAD_FAILED");
      assert.match(before.message!, /await loadLibrary\(\)/);
      // loadLibrary downloads into the cache.
      const downloaded = await load(["-A"], env, ["async", moduleUrl]);
      assert.deepEqual(downloaded, {
        ok: true,
        info: { path: join(cacheDir, LIBRARY_VERSION, FILE), source: "download", abiVersion: 1 },
      });
      assert.equal(hits(), 1);
      // Later processes load it from the cache, synchronously, without the network.
      const cached = await load(["-A"], env, ["sync", moduleUrl]);
      assert.equal(cached.info?.source, "cache");
      assert.equal(hits(), 1);
      // No net permission: the permission error passes through.
      Deno.removeSync(cacheDir, { recursive: true });
      const noNet = await load(
        ["--allow-ffi", "--allow-env", "--allow-read", "--allow-write"],
        env,
        [
          "async",
          moduleUrl,
        ],
      );
      assert.equal(noNet.name, "NotCapable");
    });
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
