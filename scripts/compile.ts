/**
 * `deno task compile` (through `scripts/compile`, after `scripts/release`):
 * one `lmm` executable per platform the package carries,
 * `dist/lmm-<platform>`, each with its platform's library embedded.
 *
 * `deno compile` downloads the runtime (`denort`) of each target while it
 * compiles; without internet, `DENORT_BIN` must name a `denort` (which serves
 * only its own platform). Run with platform names to build only those:
 * `scripts/compile x86_64-linux-gnu`.
 *
 * The embedded library sits at the path the loader looks for
 * (`ffi/native/prebuilt/liblmm-<platform>.so`); at run time the binary copies
 * it into the cache, verified, as the package does (see `cli/library.ts`).
 *
 * @module
 */

import { join } from "node:path";
import { prebuiltFileName } from "../ffi/native/loader.ts";
import { ROOT, type Target, TARGETS } from "./release.ts";

/**
 * The arguments of `deno compile` for one target (pure).
 *
 * @param target The platform.
 * @param outDir Where the executable goes.
 * @returns The arguments after `deno`.
 */
export function compileArgs(target: Target, outDir: string): string[] {
  return [
    "compile",
    "-A",
    "--target",
    target.deno,
    "--include",
    `ffi/native/prebuilt/${prebuiltFileName(target.platform)}`,
    "-o",
    join(outDir, `lmm-${target.platform}`),
    "cli.ts",
  ];
}

/**
 * The targets named on the command line (all when none).
 *
 * @param names Platform names.
 * @returns The targets.
 * @throws {Error} On a name that is not a target.
 */
export function selectTargets(names: string[]): Target[] {
  if (names.length === 0) return [...TARGETS];
  return names.map((name) => {
    const target = TARGETS.find((t) => t.platform === name);
    if (target === undefined) {
      throw new Error(
        `unknown platform '${name}': one of ${TARGETS.map((t) => t.platform).join(", ")}`,
      );
    }
    return target;
  });
}

if (import.meta.main) {
  let failed = 0;
  try {
    for (const target of selectTargets(Deno.args)) {
      const args = compileArgs(target, join(ROOT, "dist"));
      console.error(`compile: deno ${args.join(" ")}`);
      const { code } = await new Deno.Command(Deno.execPath(), {
        args,
        cwd: ROOT,
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (code !== 0) {
        failed++;
        console.error(
          `compile: lmm-${target.platform} failed: deno compile needs the runtime (denort) of ` +
            `${target.deno}, downloaded from the internet or named by DENORT_BIN`,
        );
      }
    }
  } catch (error) {
    console.error(`compile: ${(error as Error).message}`);
    Deno.exit(2);
  }
  Deno.exit(failed === 0 ? 0 : 1);
}
