/**
 * The one lazy loader of `liblmm.so`. Nothing happens at import: the library
 * is opened by the first `new Heap()` (synchronously) or by an explicit
 * `await loadLibrary()` (which may also download it).
 *
 * Where it looks, in order:
 * 1. `options.path`, else the `LMM_LIB` environment variable: that file or
 *    an error (a path that was asked for never falls through).
 * 2. The repository's own build output, `zig/zig-out/lib/liblmm.so` next to
 *    this module (`deno task build`), when the module is a local file.
 * 3. The download cache, `<cacheDir>/<version>/<file>`, when the file's
 *    SHA-256 matches the sum shipped in `checksums.ts`.
 * 4. Only in `loadLibrary()`: a download from `<base>/v<version>/<file>` into
 *    that cache, verified against the shipped sum before it is written
 *    (temp file + rename, so the cache never holds a partial file).
 *
 * Failures are `LmmError`s (`LOAD_FAILED`, `DOWNLOAD_FAILED`,
 * `CHECKSUM_MISMATCH`, `ABI_MISMATCH`) with the original error as `cause`;
 * permission errors (`Deno.errors.NotCapable`) pass through unchanged.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DOWNLOAD_BASE, LIBRARY_SHA256, LIBRARY_VERSION } from "./checksums.ts";
import { envGet, isPermissionError } from "../env.ts";
import { LmmError } from "../errors.ts";
import { ABI_VERSION } from "./abi.ts";
import { type LmmSymbols, symbols } from "./symbols.ts";

/**
 * Where the loaded library came from.
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
 * @example Load with an explicit download setup
 * ```ts
 * import { loadLibrary } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const info = await loadLibrary({ downloadBase: "https://example.invalid/lmm", download: false });
 * assert.equal(info.abiVersion, 2); // found locally: no download attempted
 * ```
 */
export interface LoadOptions {
  /** Load exactly this file (overrides `LMM_LIB`). */
  path?: string;
  /** Base URL of the downloads (default: `LMM_DOWNLOAD_BASE`, then the release's). */
  downloadBase?: string;
  /** Download cache directory (default: `LMM_CACHE_DIR`, then `~/.cache/lmm/lib`). */
  cacheDir?: string;
  /** SHA-256 sums by file name (default: the sums shipped with the package). */
  checksums?: Readonly<Record<string, string>>;
  /** Whether a download may happen (default `true`). */
  download?: boolean;
}

/** Options of {@linkcode downloadLibrary}. */
export interface DownloadOptions {
  /** Base URL; the file is fetched from `${baseUrl}/v${version}/${fileName}`. */
  baseUrl: string;
  /** Cache directory; the file lands in `${cacheDir}/${version}/${fileName}`. */
  cacheDir: string;
  /** SHA-256 sums by file name (default: the shipped sums). */
  checksums?: Readonly<Record<string, string>>;
  /** File name (default: {@linkcode libraryFileName}). */
  fileName?: string;
  /** Version (default: the package's library version). */
  version?: string;
}

interface Loaded {
  library: Deno.DynamicLibrary<typeof symbols>;
  info: LibraryInfo;
}

let loaded: Loaded | undefined;

/**
 * The library's functions, loading it synchronously on first use (steps 1–3
 * of the search; a download needs `await loadLibrary()` first).
 *
 * @returns The symbols of the loaded library.
 */
export function lib(): LmmSymbols {
  return (loaded ??= loadSync({})).library.symbols;
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
 * Loads the native library now, downloading it into the cache when neither
 * `LMM_LIB`, the repository build nor the cache has it. Needed before the
 * first `new Heap()` only when a download may be necessary (e.g. when the
 * module is imported from JSR); the first load wins and later calls return
 * its info.
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
 * @param options Explicit path, download base, cache directory, checksums.
 * @returns What was loaded.
 */
export async function loadLibrary(
  options: LoadOptions = {},
): Promise<LibraryInfo> {
  if (loaded !== undefined) return loaded.info;
  let syncError: unknown;
  try {
    loaded = loadSync(options);
    return loaded.info;
  } catch (error) {
    if (isPermissionError(error)) throw error;
    if (!(error instanceof LmmError) || error.code !== "LOAD_FAILED") {
      throw error;
    }
    if (options.path !== undefined || envGet("LMM_LIB") !== undefined) {
      throw error; // an explicit path never falls through to a download
    }
    if (options.download === false) throw error;
    syncError = error;
  }
  const baseUrl = options.downloadBase ?? envGet("LMM_DOWNLOAD_BASE") ??
    DOWNLOAD_BASE;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  if (baseUrl === "" || cacheDir === undefined) {
    throw new LmmError(
      "LOAD_FAILED",
      `${(syncError as Error).message}; no download possible: ` +
        (baseUrl === ""
          ? "no download base URL (set LMM_DOWNLOAD_BASE)"
          : "no cache directory (set LMM_CACHE_DIR or HOME)"),
      { cause: syncError },
    );
  }
  const path = await downloadLibrary({
    baseUrl,
    cacheDir,
    checksums: options.checksums,
  });
  loaded = open(path, "download");
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

/** Steps 1–3 of the search. */
function loadSync(options: LoadOptions): Loaded {
  if (options.path !== undefined) return open(options.path, "option");
  const fromEnv = envGet("LMM_LIB");
  if (fromEnv !== undefined) return open(fromEnv, "env");

  const tried: string[] = [];
  const build = buildPath();
  if (build !== undefined) {
    try {
      return open(build, "build");
    } catch (error) {
      if (!isMissingFile(error)) throw error;
      tried.push(build);
    }
  }

  const cacheDir = options.cacheDir ?? defaultCacheDir();
  if (cacheDir !== undefined) {
    const fileName = libraryFileName();
    const cached = join(cacheDir, LIBRARY_VERSION, fileName);
    const sum = (options.checksums ?? LIBRARY_SHA256)[fileName];
    if (sum !== undefined && verifiedFile(cached, sum)) {
      return open(cached, "cache");
    }
    tried.push(cached);
  }

  throw new LmmError(
    "LOAD_FAILED",
    `the LMM library was not found (looked at: ${tried.join(", ")}); ` +
      "set LMM_LIB to its path, build it (deno task build), " +
      "or call `await loadLibrary()` to download it",
  );
}

/**
 * Downloads the prebuilt library into the cache and returns its path. The
 * file is verified against its SHA-256 sum before anything is written, then
 * written to a temporary file and renamed into place, so the cache never
 * holds a partial or unverified file. A verified cached copy is reused.
 *
 * @param options Base URL, cache directory, checksums.
 * @returns Path of the verified file in the cache.
 */
export async function downloadLibrary(
  options: DownloadOptions,
): Promise<string> {
  const fileName = options.fileName ?? libraryFileName();
  const version = options.version ?? LIBRARY_VERSION;
  const sum = (options.checksums ?? LIBRARY_SHA256)[fileName];
  if (sum === undefined) {
    throw new LmmError(
      "DOWNLOAD_FAILED",
      `no SHA-256 sum is shipped for ${fileName} (version ${version}): ` +
        "there is no prebuilt library for this platform; set LMM_LIB or build it",
    );
  }
  const dir = join(options.cacheDir, version);
  const dest = join(dir, fileName);
  if (verifiedFile(dest, sum)) return dest;

  const url = `${options.baseUrl.replace(/\/+$/, "")}/v${version}/${fileName}`;
  let bytes: Uint8Array;
  try {
    const response = await fetch(url);
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status} ${response.statusText}`);
    }
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    if (isPermissionError(error)) throw error;
    throw new LmmError(
      "DOWNLOAD_FAILED",
      `could not download the LMM library from ${url}: ${(error as Error).message}`,
      { cause: error },
    );
  }

  const actual = sha256(bytes);
  if (actual !== sum.toLowerCase()) {
    throw new LmmError(
      "CHECKSUM_MISMATCH",
      `the LMM library downloaded from ${url} has SHA-256 ${actual}, expected ${sum}; nothing was written`,
    );
  }

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
  return dest;
}

/**
 * The prebuilt file name for this platform, e.g. `liblmm-x86_64-linux.so`.
 *
 * @returns The file name the download and the cache use.
 */
export function libraryFileName(): string {
  const ext = Deno.build.os === "darwin" ? "dylib" : Deno.build.os === "windows" ? "dll" : "so";
  return `liblmm-${Deno.build.arch}-${Deno.build.os}.${ext}`;
}

/** The default download cache: `LMM_CACHE_DIR`, else the user cache dir. */
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

/** Whether `path` is a file with SHA-256 `sum` (false when missing). */
function verifiedFile(path: string, sum: string): boolean {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  return sha256(bytes) === sum.toLowerCase();
}

/** Lowercase hex SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
