/**
 * Which `liblmm.so` the CLI uses and hands to the programs it runs (`LMM_LIB`).
 *
 * In order: `LMM_LIB` when set; in a compiled `lmm` binary, the library
 * embedded with `deno compile --include zig/zig-out/lib/liblmm.so`; else the
 * repository's build output next to this file. `Deno.dlopen` needs a real
 * file, and the embedded one lives in the binary's virtual file system, so it
 * is copied once to `<cache>/embedded/liblmm-<sha256 prefix>.so` (the
 * module's download cache directory, else a temporary directory) — a
 * content-addressed name, so a copy is never stale and never half-written.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultCacheDir, sha256 } from "../ffi/native/loader.ts";

/** The library path relative to the repository root, as `--include` embeds it. */
const BUILD_URL = new URL("../zig/zig-out/lib/liblmm.so", import.meta.url);

/** Where the library comes from. */
export interface LibraryChoice {
  /** The file, or null when none was found (the program's own loader decides). */
  path: string | null;
  /** "env", "embedded", "build" or "none". */
  source: "env" | "embedded" | "build" | "none";
}

/**
 * Finds the library and sets `LMM_LIB` to it in this process's environment
 * (which the programs that `lmm run` starts inherit, and which the module's
 * loader reads for `lmm demo`).
 *
 * @returns The path and where it came from.
 */
export async function resolveLibrary(): Promise<LibraryChoice> {
  const fromEnv = Deno.env.get("LMM_LIB");
  if (fromEnv) return { path: fromEnv, source: "env" };
  let choice: LibraryChoice = { path: null, source: "none" };
  if (Deno.build.standalone) {
    const path = await extractEmbedded();
    if (path) choice = { path, source: "embedded" };
  } else {
    const path = fileURLToPath(BUILD_URL);
    if (await isFile(path)) choice = { path, source: "build" };
  }
  if (choice.path) Deno.env.set("LMM_LIB", choice.path);
  return choice;
}

/** Copies the embedded library to a real file; null when none is embedded. */
function extractEmbedded(): Promise<string | null> {
  const cache = defaultCacheDir();
  const dirs = [join(Deno.env.get("TMPDIR") ?? "/tmp", `lmm-${Deno.uid() ?? "user"}`)];
  if (cache !== undefined) dirs.unshift(join(cache, "embedded"));
  return extractLibrary(BUILD_URL, dirs);
}

/**
 * Copies a library file (for example one embedded in a compiled binary) to
 * `<dir>/liblmm-<first 16 hex digits of its SHA-256>.so` in the first of
 * `dirs` that can be written, unless a file of that name and size is there.
 * The copy is written to a temporary name and renamed: never half-written.
 *
 * @param source The library to copy.
 * @param dirs Directories to try, in order (created when missing).
 * @returns The copy's path, or null when `source` cannot be read or no
 * directory can be written.
 */
export async function extractLibrary(
  source: URL | string,
  dirs: string[],
): Promise<string | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(source);
  } catch {
    return null;
  }
  const name = `liblmm-${sha256(bytes).slice(0, 16)}.so`;
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      if ((await Deno.stat(path)).size === bytes.length) return path;
    } catch { /* not there yet */ }
    const temp = `${path}.${Deno.pid}.tmp`;
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      await Deno.writeFile(temp, bytes, { mode: 0o755 });
      await Deno.rename(temp, path);
      return path;
    } catch {
      await Deno.remove(temp).catch(() => {});
    }
  }
  return null;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
