// LMM as a package user gets it: the files `deno publish` would upload, served from 127.0.0.1
// (tests/_package.ts) as a plain URL tree and as a JSR registry (JSR_URL). Every program runs
// in a fresh HOME and DENO_DIR (empty caches), without LMM_LIB, in a folder with no deno.json,
// and the served tree has no zig-out: the library can only come from the package.
import { ABI_VERSION } from "../ffi/native/abi.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { currentPlatform, prebuiltFileName } from "../ffi/native/loader.ts";
import { VERSION } from "../ffi/version.ts";
import { type CommandResult, runCommand } from "./_helpers.ts";
import { type PackageServer, servePackage } from "./_package.ts";

const LIBRARY = `ffi/native/prebuilt/${prebuiltFileName(currentPlatform())}`;

/** A fresh user: an empty home with empty caches. */
interface User {
  home: string;
  /** Runs a command in the home folder with the user's environment only. */
  run(cmd: string, args: string[]): Promise<CommandResult>;
  /** Writes a file into the home folder; returns its path. */
  write(name: string, text: string): string;
}

async function withUser(
  fn: (user: User, server: PackageServer) => Promise<void>,
  server?: PackageServer,
): Promise<void> {
  const served = server ?? await servePackage();
  const home = await Deno.makeTempDir({ prefix: "lmm-user-" });
  const env = {
    HOME: home,
    DENO_DIR: join(home, ".deno-cache"),
    DENO_NO_UPDATE_CHECK: "1",
    NO_COLOR: "1",
    JSR_URL: served.jsrUrl,
  };
  const user: User = {
    home,
    run: (cmd, args) => runCommand(cmd, args, { env, clearEnv: true, cwd: home }),
    write: (name, text) => {
      Deno.writeTextFileSync(join(home, name), text);
      return join(home, name);
    },
  };
  try {
    await fn(user, served);
  } finally {
    if (server === undefined) await served.close();
    await Deno.remove(home, { recursive: true });
  }
}

/** A program that allocates, frees and prints what it saw as one JSON line. */
function appSource(mod: string, load: boolean): string {
  return `import { Heap, libraryInfo, loadLibrary } from "${mod}";
try {
  ${load ? "await loadLibrary();" : ""}
  using heap = new Heap();
  const emp = heap.register("emp_t", 36);
  const a = heap.alloc(emp, 3);
  const b = heap.alloc(emp);
  heap.free(a);
  const s = heap.stats().families[emp.id];
  console.log(JSON.stringify({ ...libraryInfo(), appBytes: s.appBytes, used: s.occupiedBlocks,
    allocs: s.allocCount, frees: s.freeCount }));
  heap.free(b);
  heap.check();
} catch (e) {
  console.log(JSON.stringify({ code: e.code, message: e.message }));
}
`;
}

/** The permissions the README asks a package user for (net: the package's host). */
const NARROW = [
  "--allow-ffi",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-net=127.0.0.1",
];

function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

Deno.test("over http://, empty caches, no build: loadLibrary fetches the package's library; the program allocates, frees, prints stats", async () => {
  await withUser(async (user, server) => {
    const app = user.write("app.ts", appSource(`${server.tree}mod.ts`, true));
    const first = await user.run(Deno.execPath(), ["run", ...NARROW, app]);
    assert.equal(first.code, 0, first.stderr);
    const cacheDir = join(user.home, ".cache/lmm/lib");
    const seen = lastJson(first.stdout);
    assert.deepEqual({ ...seen, path: undefined }, {
      path: undefined,
      source: "download",
      abiVersion: ABI_VERSION,
      appBytes: 36,
      used: 1,
      allocs: 2,
      frees: 1,
    });
    assert.match(
      String(seen.path),
      new RegExp(`^${cacheDir}/[0-9a-f]{16}/${prebuiltFileName(currentPlatform())}$`),
    );
    assert.equal(server.hits(LIBRARY), 1);
    assert.equal(server.hits("ffi/native/prebuilt/checksums.ts"), 1);

    // The next run opens the verified copy in the cache: the library is not fetched again.
    const second = await user.run(Deno.execPath(), ["run", ...NARROW, app]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(lastJson(second.stdout), { ...seen, source: "cache" });
    assert.equal(server.hits(LIBRARY), 1);

    // Without loadLibrary() the first heap says what to do.
    const sync = user.write("sync.ts", appSource(`${server.tree}mod.ts`, false));
    const told = lastJson((await user.run(Deno.execPath(), ["run", ...NARROW, sync])).stdout);
    assert.equal(told.code, "LOAD_FAILED");
    assert.match(String(told.message), /call `await loadLibrary\(\)` once before the first heap/);
    assert.match(String(told.message), new RegExp(currentPlatform()));
  });
});

Deno.test("over http://: a library that does not match its sum is refused and not cached", async () => {
  const server = await servePackage((path, bytes) => {
    if (path !== LIBRARY) return bytes;
    const changed = bytes.slice();
    changed[changed.length - 1] ^= 0xff;
    return changed;
  });
  try {
    await withUser(async (user) => {
      const app = user.write("app.ts", appSource(`${server.tree}mod.ts`, true));
      const r = await user.run(Deno.execPath(), ["run", ...NARROW, app]);
      const seen = lastJson(r.stdout);
      assert.equal(seen.code, "CHECKSUM_MISMATCH", r.stdout + r.stderr);
      assert.match(String(seen.message), /nothing was written/);
      assert.equal(server.hits(LIBRARY), 1);
      const cache = join(user.home, ".cache/lmm/lib");
      assert.throws(() => Deno.statSync(cache), Deno.errors.NotFound, "the cache holds nothing");
    }, server);
  } finally {
    await server.close();
  }
});

Deno.test("over http://: a package served without its libraries says so (UNSUPPORTED_PLATFORM), not a module error", async () => {
  const server = await servePackage((path, bytes) =>
    path.startsWith("ffi/native/prebuilt/") ? null : bytes
  );
  try {
    await withUser(async (user) => {
      const app = user.write("app.ts", appSource(`${server.tree}mod.ts`, true));
      const seen = lastJson((await user.run(Deno.execPath(), ["run", ...NARROW, app])).stdout);
      assert.equal(seen.code, "UNSUPPORTED_PLATFORM");
      assert.match(String(seen.message), new RegExp(`^no LMM library for ${currentPlatform()}: `));
      assert.match(String(seen.message), /carries no prebuilt library/);
    }, server);
  } finally {
    await server.close();
  }
});

Deno.test("cli.ts from the URL: --version, demo, and run on a program that imports the module over http://", async () => {
  await withUser(async (user, server) => {
    const cli = `${server.tree}cli.ts`;
    const version = await user.run(Deno.execPath(), ["run", "-A", cli, "--version"]);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, new RegExp(`^lmm ${VERSION.replaceAll(".", "\\.")} `));

    const demo = await user.run(Deno.execPath(), ["run", "-A", cli, "demo"]);
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stdout, /^SCENARIO 3 : \*+ $/m);
    assert.match(demo.stdout, /^emp_t +TBC : 4 +FBC : 1 +OBC : 3 +AppMemUsage : 108$/m);
    assert.equal(server.hits(LIBRARY), 1);

    const leaky = user.write(
      "leaky.ts",
      `import { Heap } from "${server.tree}mod.ts";
console.log("child LMM_LIB=" + Deno.env.get("LMM_LIB"));
const heap = new Heap({ label: "app" }); // lmm run set LMM_LIB: no loadLibrary() needed
heap.register("emp_t", 36);
heap.alloc("emp_t", 2);
`,
    );
    const run = await user.run(Deno.execPath(), [
      "run",
      "-A",
      cli,
      "run",
      "--fail-on-leak",
      "--",
      Deno.execPath(),
      "run",
      "-A",
      leaky,
    ]);
    assert.equal(run.code, 3, run.stderr);
    const childLib = /child LMM_LIB=(\S+)/.exec(run.stdout)?.[1] ?? "";
    assert.ok(childLib.startsWith(join(user.home, ".cache/lmm/lib/")), run.stdout);
    assert.match(run.stdout, /^ {2}emp_t +36 B +1 +\d+ +1 +\d+ +72 B /m);
    assert.match(
      run.stderr,
      /lmm: the program exited 0 but left 1 live block \(72 B\) in 1 heap: exit 3 \(--fail-on-leak\)/,
    );
    assert.equal(server.hits(LIBRARY), 1, "the cached copy served the second process");
  });
});

Deno.test("JSR: deno add jsr:@lmm/lmm, imports of '.' and './seed', deno install -g -A -n lmm jsr:@lmm/lmm/cli", async () => {
  await withUser(async (user) => {
    user.write("deno.json", "{}\n");
    const add = await user.run(Deno.execPath(), ["add", "jsr:@lmm/lmm"]);
    assert.equal(add.code, 0, add.stderr);
    const config = JSON.parse(Deno.readTextFileSync(join(user.home, "deno.json")));
    assert.equal(config.imports["@lmm/lmm"], `jsr:@lmm/lmm@^${VERSION}`);

    const app = user.write(
      "app.ts",
      `import { Heap, loadLibrary } from "@lmm/lmm";
import { formatBlockUsage, mmRegStruct, xcalloc } from "@lmm/lmm/seed";
await loadLibrary();
mmRegStruct("emp_t", 36);
xcalloc("emp_t", 2);
using heap = new Heap({ pageSize: 4096 });
heap.register("node_t", 24);
heap.alloc("node_t", 3);
console.log(formatBlockUsage(heap.report().heaps[0]));
`,
    );
    const r = await user.run(Deno.execPath(), ["run", ...NARROW, app]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^node_t +TBC : 2 +FBC : 1 +OBC : 1 +AppMemUsage : 72$/m);

    const root = join(user.home, ".deno");
    const install = await user.run(Deno.execPath(), [
      "install",
      "-g",
      "-A",
      "-n",
      "lmm",
      "--root",
      root,
      "jsr:@lmm/lmm/cli",
    ]);
    assert.equal(install.code, 0, install.stderr);
    const lmm = join(root, "bin", "lmm");
    const version = await user.run(lmm, ["--version"]);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^lmm \d+\.\d+\.\d+ /);
    const demo = await user.run(lmm, ["demo", "--json"]);
    assert.equal(demo.code, 0, demo.stderr);
    const { steps } = JSON.parse(demo.stdout);
    assert.deepEqual(
      steps.map((s: { report: { heaps: { totals: { appBytes: number } }[] } }) =>
        s.report.heaps[0].totals.appBytes
      ),
      [3 * 36 + 2 * 56, 36 + 56, 0],
    );
  });
});
