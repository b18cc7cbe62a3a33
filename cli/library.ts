/**
 * Which `liblmm.so` the CLI uses and hands to the programs it runs (`LMM_LIB`).
 *
 * `LMM_LIB`, when set, is the user's choice and is handed on as it is. Else
 * the module's loader decides, in its order: the repository's build when
 * `lmm` runs from a clone; else the library the package carries for this
 * platform — beside the module on JSR or any URL, or embedded in a compiled
 * `lmm` (`deno task compile` includes it) — copied into the cache and
 * verified. Then `LMM_LIB` is set to that file in this process's
 * environment, so that `lmm demo` and every program `lmm run` starts load
 * the very same library.
 *
 * @module
 */

import { type LibrarySource, loadLibrary } from "../ffi/native/loader.ts";

/** The library the CLI settled on. */
export interface LibraryChoice {
  /** Its path, now also in `LMM_LIB`. */
  path: string;
  /** Where it came from (`env`: `LMM_LIB` was set). */
  source: LibrarySource;
}

/**
 * Finds the library and sets `LMM_LIB` to its path.
 *
 * @returns The path and where it came from.
 * @throws {LmmError} When `LMM_LIB` is unset and there is no library for
 * this platform, or it cannot be fetched, verified or opened.
 */
export async function resolveLibrary(): Promise<LibraryChoice> {
  const fromEnv = Deno.env.get("LMM_LIB");
  if (fromEnv) return { path: fromEnv, source: "env" };
  const { path, source } = await loadLibrary();
  Deno.env.set("LMM_LIB", path);
  return { path, source };
}
