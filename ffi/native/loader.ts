/**
 * The one lazy loader of `liblmm.so`. Nothing happens at import: the library
 * is opened by the first `new Heap()` (synchronously) or by an explicit
 * `await loadLibrary()` (which may also fetch it).
 *
 * Where it looks, in order:
 * 1. `options.path`, else the `LMM_LIB` environment variable: that file or
 *    an error (a path that was asked for never falls through).
 * 2. The repository's own build, `zig/zig-out/lib/liblmm.so` next to this
 *    module (`scripts/build`), when the module is a local file.
 * 3. Only in `loadLibrary()`: the prebuilt library the package carries,
 *    `prebuilt/liblmm-<platform>.so` beside this module (written by
 *    `deno task release`), resolved with `new URL(…, import.meta.url)`: read
 *    or fetched, verified against the SHA-256 in the generated
 *    `prebuilt/checksums.ts`, copied into the cache (temp file + rename, so
 *    the cache never holds a partial or unverified file), then opened. A
 *    verified copy in the cache is opened without fetching anything.
 * 4. An `UNSUPPORTED_PLATFORM` error that names the platform and says what to
 *    do when the package carries no library for it (macOS, musl, …).
 *
 * The sums live in a TypeScript module on purpose: Deno's lockfile pins the
 * package's modules, so the sums — and through them the library — are as
 * trustworthy as the code that loads them.
 *
 * Failures are `LmmError`s (`LOAD_FAILED`, `DOWNLOAD_FAILED`,
 * `CHECKSUM_MISMATCH`, `ABI_MISMATCH`, `UNSUPPORTED_PLATFORM`) with the
 * original error as `cause`; permission errors (`Deno.errors.NotCapable`)
 * pass through unchanged.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { envGet, isPermissionError } from "../env.ts";
import { LmmError } from "../errors.ts";
import { ABI_VERSION } from "./abi.ts";
import { type LmmSymbols, symbols } from "./symbols.ts";

/**
 * Where the loaded library came from: an explicit `path` option, `LMM_LIB`,
 * the repository build, the cache, or fetched from the package just now.
 *
 * @example Where the library came from
 * ```ts
 * import { Heap, libraryInfo } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * new Heap().close();
 * assert.ok(["option", "env", "build", "cache", "download"].includes(libraryInfo()!.source));
 * ```
 */
export type LibrarySource = "option" | "env" | "build" | "cache" | "download";

/**
 * What {@linkcode loadLibrary} loaded.
 *
 * @example The loaded file
 * ```ts
 * import { Heap, libraryInfo } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * new Heap().close();
 * assert.match(libraryInfo()!.path, /liblmm/);
 * ```
 */
export interface LibraryInfo {
  /** File system path of the shared library. */
  path: string;
  /** Which step of the search found it. */
  source: LibrarySource;
  /** `lmm_abi_version()` of the library. */
  abiVersion: number;
}

/**
 * Options of {@linkcode loadLibrary}.
 *
 * @example Load without fetching anything
 * ```ts
 * import { loadLibrary } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const info = await loadLibrary({ download: false });
 * assert.equal(info.abiVersion, 2); // found locally: nothing fetched
 * ```
 */
export interface LoadOptions {
  /** Load exactly this file (overrides `LMM_LIB`). */
  path?: string;
  /** Cache directory (default: `LMM_CACHE_DIR`, then `$XDG_CACHE_HOME/lmm/lib`, then `~/.cache/lmm/lib`). */
  cacheDir?: string;
  /** Whether the package's library may be fetched into the cache (default `true`). */
  download?: boolean;
}

/** Options of {@linkcode fetchLibrary}. */
export interface FetchOptions {
  /** Where the library is: `file:`, `http:` or `https:`. */
  url: URL | string;
  /** Its SHA-256, lowercase hex. */
  sha256: string;
  /** Cache directory; the file lands in {@linkcode cachedPath}`(cacheDir, fileName, sha256)`. */
  cacheDir: string;
  /** File name in the cache (default: the last part of `url`). */
  fileName?: string;
}

interface Loaded {
  library: Deno.DynamicLibrary<typeof symbols>;
  info: LibraryInfo;
}

let loaded: Loaded | undefined;

/** Where the package's prebuilt libraries and their sums are. */
const PREBUILT = new URL("./prebuilt/", import.meta.url);

/**
 * The library's functions, loading it synchronously on first use (steps 1–2
 * of the search; the package's library needs `await loadLibrary()` first).
 *
 * @returns The symbols of the loaded library.
 */
export function lib(): LmmSymbols {
  if (loaded === undefined) {
    loaded = loadLocal({});
    if (loaded === undefined) throw notLoadedError();
  }
  return loaded.library.symbols;
}

/**
 * What is loaded, or `undefined` before the first heap or `loadLibrary()`.
 *
 * @example Inspect the loaded library
 * ```ts
 * import { Heap, libraryInfo } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * new Heap().close();
 * assert.equal(libraryInfo()?.abiVersion, 2);
 * ```
 *
 * @returns Path, source and ABI version, or `undefined`.
 */
export function libraryInfo(): LibraryInfo | undefined {
  return loaded?.info;
}

/**
 * Loads the native library now. When neither `LMM_LIB` nor a repository build
 * is there, it opens the library the package carries for this platform,
 * copying it into the cache first (verified against its SHA-256) unless a
 * verified copy is there already. Call it once before the first `new Heap()`
 * when the module comes from JSR (or any URL); the first load wins and later
 * calls return its info.
 *
 * Permissions: `--allow-ffi`, `--allow-env` (for `LMM_*` and `HOME`),
 * `--allow-read` and `--allow-write` on the cache, `--allow-net` to the
 * package's host (`jsr.io`) for the first fetch.
 *
 * @example Load before creating heaps
 * ```ts
 * import { Heap, loadLibrary } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const info = await loadLibrary();
 * assert.equal(info.abiVersion, 2);
 * using heap = new Heap();
 * ```
 *
 * @param options Explicit path, cache directory, whether to fetch.
 * @returns What was loaded.
 * @throws {LmmError} `UNSUPPORTED_PLATFORM` when the package carries no
 * library for this platform; `DOWNLOAD_FAILED`, `CHECKSUM_MISMATCH`,
 * `LOAD_FAILED`, `ABI_MISMATCH` as their names say.
 */
export async function loadLibrary(
  options: LoadOptions = {},
): Promise<LibraryInfo> {
  if (loaded !== undefined) return loaded.info;
  loaded = loadLocal(options);
  if (loaded !== undefined) return loaded.info;
  if (options.download === false) throw notLoadedError();
  const platform = currentPlatform();
  const sums = await prebuiltSums();
  const sum = sums[platform];
  if (sum === undefined) {
    throw new LmmError("UNSUPPORTED_PLATFORM", unsupportedPlatformMessage(platform, sums));
  }
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  if (cacheDir === undefined) {
    throw new LmmError(
      "LOAD_FAILED",
      "the LMM library has to be copied into a cache directory first, and there is none: " +
        "set LMM_CACHE_DIR (or HOME)",
    );
  }
  const url = new URL(prebuiltFileName(platform), PREBUILT);
  const { path, fetched } = await fetchLibrary({ url, sha256: sum, cacheDir });
  loaded = open(path, fetched ? "download" : "cache");
  return loaded.info;
}

/**
 * Opens the library at `path` without caching it as the module's library
 * (for tests and tools; `dlopen` of the same file twice shares one copy).
 *
 * @param path File system path of `liblmm.so`.
 * @param source What to report as its source.
 * @returns The opened library and its info.
 */
export function open(path: string, source: LibrarySource): Loaded {
  let library: Deno.DynamicLibrary<typeof symbols>;
  try {
    library = Deno.dlopen(path, symbols);
  } catch (error) {
    if (isPermissionError(error)) throw error;
    throw new LmmError(
      "LOAD_FAILED",
      `could not load the LMM library ${path} (${source}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const abiVersion = library.symbols.lmm_abi_version();
  if (abiVersion !== ABI_VERSION) {
    library.close();
    throw new LmmError(
      "ABI_MISMATCH",
      `the LMM library ${path} has ABI version ${abiVersion}; this module needs ${ABI_VERSION}`,
    );
  }
  return { library, info: { path, source, abiVersion } };
}

/**
 * Steps 1–2 of the search: the explicit path or `LMM_LIB` (loaded, or an
 * error), else the repository build when there is one.
 *
 * @returns The library, or `undefined` when there is no build to open.
 */
function loadLocal(options: LoadOptions): Loaded | undefined {
  if (options.path !== undefined) return open(options.path, "option");
  const fromEnv = envGet("LMM_LIB");
  if (fromEnv !== undefined) return open(fromEnv, "env");
  const build = buildPath();
  if (build === undefined) return undefined;
  try {
    return open(build, "build");
  } catch (error) {
    if (isMissingFile(error)) return undefined;
    throw error;
  }
}

/** What a synchronous load says when steps 1–2 found nothing. */
function notLoadedError(): LmmError {
  const build = buildPath();
  return new LmmError(
    "LOAD_FAILED",
    build === undefined
      ? "the LMM library is not loaded yet: call `await loadLibrary()` once before the first " +
        `heap (it opens the library this package carries for ${currentPlatform()}, ` +
        "fetching it into the cache the first time), or set LMM_LIB"
      : `the LMM library is not built (looked at ${build}): build it (scripts/build), ` +
        "set LMM_LIB to its path, or call `await loadLibrary()` to use a prebuilt one " +
        "(after `deno task release`)",
  );
}

/**
 * The SHA-256 sums of the prebuilt libraries by platform, from the
 * generated `prebuilt/checksums.ts`; empty when there is none (a clone of
 * the repository before `deno task release`, or a copy made without it).
 *
 * @returns Lowercase hex sums by platform, e.g. `{ "x86_64-linux-gnu": "…" }`.
 */
export async function prebuiltSums(): Promise<Readonly<Record<string, string>>> {
  try {
    const module = await import("./prebuilt/checksums.ts");
    return module.PREBUILT_SHA256 as Readonly<Record<string, string>>;
  } catch (error) {
    if (isPermissionError(error)) throw error;
    // Only a missing module means "no release here"; a broken one is a bug to show.
    if (/Module not found/.test(String(error))) return {};
    throw error;
  }
}

/**
 * Copies the library at `url` into the cache after checking its SHA-256 and
 * returns its path there. The bytes are verified before anything is written,
 * then written to a temporary file and renamed into place, so the cache
 * never holds a partial or unverified file. A verified cached copy is reused
 * without reading `url`. `file:` URLs are read (a local package, or the
 * virtual file system of a `deno compile`d binary), others fetched.
 *
 * @param options URL, expected sum, cache directory.
 * @returns Path of the verified file in the cache, and whether it was
 * fetched now (false: a verified copy was there).
 */
export async function fetchLibrary(
  options: FetchOptions,
): Promise<{ path: string; fetched: boolean }> {
  const url = new URL(options.url);
  const fileName = options.fileName ?? url.pathname.split("/").pop()!;
  const sum = options.sha256.toLowerCase();
  const dest = cachedPath(options.cacheDir, fileName, sum);
  if (verifiedFile(dest, sum)) return { path: dest, fetched: false };

  let bytes: Uint8Array;
  try {
    bytes = await readUrl(url);
  } catch (error) {
    if (isPermissionError(error)) throw error;
    throw new LmmError(
      "DOWNLOAD_FAILED",
      `could not fetch the LMM library from ${url.href}: ${(error as Error).message}`,
      { cause: error },
    );
  }

  const actual = sha256(bytes);
  if (actual !== sum) {
    throw new LmmError(
      "CHECKSUM_MISMATCH",
      `the LMM library fetched from ${url.href} has SHA-256 ${actual}, expected ${sum}; ` +
        "nothing was written",
    );
  }

  const dir = join(dest, "..");
  const temp = `${dest}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  try {
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeFileSync(temp, bytes, { mode: 0o755 });
    Deno.renameSync(temp, dest);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch { /* it was never created */ }
    if (isPermissionError(error)) throw error;
    throw new LmmError(
      "DOWNLOAD_FAILED",
      `could not write the LMM library to ${dest}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { path: dest, fetched: true };
}

/** The bytes at a `file:` (read) or network (fetched) URL. */
async function readUrl(url: URL): Promise<Uint8Array> {
  if (url.protocol === "file:") return await Deno.readFile(url);
  const response = await fetch(url);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} ${response.statusText}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Where the cache keeps a library: `<cacheDir>/<first 16 hex digits of its
 * SHA-256>/<fileName>`. Named by content, so a copy is never stale and two
 * versions of the package never fight over one file.
 *
 * @param cacheDir The cache directory.
 * @param fileName The library's file name.
 * @param sum Its SHA-256, hex.
 * @returns The path.
 */
export function cachedPath(cacheDir: string, fileName: string, sum: string): string {
  return join(cacheDir, sum.toLowerCase().slice(0, 16), fileName);
}

/** What {@linkcode platformOf} reads: `Deno.build`'s fields. */
export interface BuildInfo {
  /** CPU architecture, e.g. `x86_64`. */
  arch: string;
  /** Operating system, e.g. `linux`. */
  os: string;
  /** Target triple, e.g. `x86_64-unknown-linux-gnu`. */
  target: string;
}

/**
 * The platform name of a Deno build: `<arch>-<os>`, plus `-<libc>` on Linux
 * (`x86_64-linux-gnu`, `aarch64-linux-musl`, `aarch64-darwin`).
 *
 * @param build `Deno.build`, or a stand-in.
 * @returns The name prebuilt libraries are keyed by.
 */
export function platformOf(build: BuildInfo): string {
  if (build.os !== "linux") return `${build.arch}-${build.os}`;
  const libc = /-(gnu|musl)[^-]*$/.exec(build.target)?.[1] ?? "gnu";
  return `${build.arch}-linux-${libc}`;
}

/** This process's platform name. */
export function currentPlatform(): string {
  return platformOf(Deno.build);
}

/**
 * The file name of the prebuilt library for a platform.
 *
 * @param platform A platform name from {@linkcode platformOf}.
 * @returns For example `liblmm-x86_64-linux-gnu.so`.
 */
export function prebuiltFileName(platform: string): string {
  return `liblmm-${platform}.so`;
}

/**
 * What a user on a platform without a prebuilt library is told: which
 * platform they are on, which ones the package carries, and what to do.
 *
 * @param platform The user's platform name.
 * @param sums The package's sums by platform (their keys are the platforms it carries).
 * @returns One paragraph.
 */
export function unsupportedPlatformMessage(
  platform: string,
  sums: Readonly<Record<string, string>>,
): string {
  const carried = Object.keys(sums).sort();
  const has = carried.length === 0
    ? "this copy of LMM carries no prebuilt library (it was not made with `deno task release`)"
    : `this package carries prebuilt libraries for ${carried.join(" and ")} only (glibc 2.28 or ` +
      "later)";
  const [arch, os, libc] = platform.split("-");
  let advice: string;
  if (os === "linux" && libc === "musl") {
    advice = "on musl (Alpine and others), build the library from the repository with " +
      `\`scripts/build -Dtarget=${arch}-linux-musl\` and set LMM_LIB to ` +
      "zig/zig-out/lib/liblmm.so, or run on a glibc distribution";
  } else if (os === "linux") {
    advice = "build the library from the repository with `scripts/build` (it installs Zig) " +
      "and set LMM_LIB to zig/zig-out/lib/liblmm.so";
  } else {
    advice = `LMM manages memory with Linux system calls and does not run on ${os}: ` +
      "run your program in a Linux container or virtual machine (for example " +
      "`docker run -it denoland/deno`)";
  }
  return `no LMM library for ${platform}: ${has}; ${advice}`;
}

/** The default cache: `LMM_CACHE_DIR`, else `$XDG_CACHE_HOME/lmm/lib`, else `~/.cache/lmm/lib`. */
export function defaultCacheDir(): string | undefined {
  const explicit = envGet("LMM_CACHE_DIR");
  if (explicit !== undefined) return explicit;
  const xdg = envGet("XDG_CACHE_HOME");
  if (xdg !== undefined) return join(xdg, "lmm", "lib");
  const home = envGet("HOME");
  return home === undefined ? undefined : join(home, ".cache", "lmm", "lib");
}

/** The repository build output next to this module, if it is a local file. */
function buildPath(): string | undefined {
  const url = new URL("../../zig/zig-out/lib/liblmm.so", import.meta.url);
  return url.protocol === "file:" ? fileURLToPath(url) : undefined;
}

/** Whether a load failed only because the file is not there. */
function isMissingFile(error: unknown): boolean {
  return error instanceof LmmError && error.code === "LOAD_FAILED" &&
    /no such file|not found|cannot open shared object/i.test(
      String((error.cause as Error | undefined)?.message),
    );
}

/** Whether `path` is a file with SHA-256 `sum` (false when it or its folder is missing). */
function verifiedFile(path: string, sum: string): boolean {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw error;
  }
  return sha256(bytes) === sum.toLowerCase();
}

/**
 * Lowercase hex SHA-256 of `bytes`.
 *
 * @param bytes The data.
 * @returns 64 hex digits.
 */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
