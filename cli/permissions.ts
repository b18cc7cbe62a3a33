/**
 * Whether a `deno` command line lets the LMM module write its report.
 *
 * The module reads `LMM_REPORT` (and `LMM_SITES`, `LMM_LIB`) only with env
 * permission, and never prompts; it appends to the report file only with
 * write permission. A program run without them writes no report, and cannot
 * say so (without env permission it does not even know it was asked to). So
 * `lmm run` reads the flags of the `deno` command it is given and names the
 * exact flag to add, before the run and again when no report came.
 *
 * The reading is deliberately modest: `deno run|test|bench|eval|serve` with
 * `--allow-*`/`--deny-*` flags (long, short and `-A`). A permission set
 * (`-P`), a `deno task`, or anything but `deno` is left alone (null).
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";

/** The variables the module reads, as `--allow-env=` wants them. */
export const ENV_VARIABLES = ["LMM_REPORT", "LMM_SITES", "LMM_LIB"];

/** What the command lacks for the report. */
export interface Missing {
  /** `--allow-env` (for `LMM_REPORT`) is missing or denied. */
  env: boolean;
  /** `--allow-write` for the report file is missing or denied. */
  write: boolean;
}

const SUBCOMMANDS = ["run", "test", "bench", "eval", "serve"];
/** Flags of those subcommands that take a separate value (`--config x`). */
const WITH_VALUE = new Set([
  "--config",
  "-c",
  "--import-map",
  "--lock",
  "--cert",
  "--location",
  "--seed",
  "--v8-flags",
  "--inspect-wait",
  "--env-file",
  "--filter",
  "--reporter",
  "--junit-path",
  "--coverage",
  "--port",
  "--host",
  "--preload",
  "--require",
  "--ext",
  "--conditions",
  "--minimum-dependency-age",
]);

/**
 * Reads a command line's permission flags.
 *
 * @example What `deno run --allow-ffi app.ts` lacks
 * ```ts
 * import { missingPermissions } from "./permissions.ts";
 * import assert from "node:assert/strict";
 *
 * const report = "/tmp/lmm-run-x/report.jsonl";
 * assert.deepEqual(missingPermissions(["deno", "run", "--allow-ffi", "app.ts"], report), {
 *   env: true,
 *   write: true,
 * });
 * assert.deepEqual(missingPermissions(["deno", "run", "-A", "app.ts"], report), {
 *   env: false,
 *   write: false,
 * });
 * assert.equal(missingPermissions(["node", "app.js"], report), null);
 * ```
 *
 * @param command The program and its arguments.
 * @param reportPath The report file the program must write.
 * @returns What is missing, or null when the command is not one this can read.
 */
export function missingPermissions(command: string[], reportPath: string): Missing | null {
  if (command.length < 2 || !/^deno(\.exe)?$/.test(basename(command[0]))) return null;
  if (!SUBCOMMANDS.includes(command[1])) return null;
  let all = false;
  let env: string[] | "all" | null = null;
  let write: string[] | "all" | null = null;
  let denyEnv: string[] | "all" | null = null;
  let denyWrite: string[] | "all" | null = null;
  const args = command.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") break;
    if (!arg.startsWith("-")) {
      if (command[1] === "test" || command[1] === "bench") continue; // several files
      break; // the script: what follows is its own
    }
    const [flag, value] = splitFlag(arg);
    if (flag === "-P" || flag === "--permission-set") return null;
    if (WITH_VALUE.has(flag) && value === undefined) {
      i++;
      continue;
    }
    if (flag === "-A" || flag === "--allow-all") all = true;
    else if (flag === "--allow-env" || flag === "-E") env = merge(env, value);
    else if (flag === "--allow-write" || flag === "-W") write = merge(write, value);
    else if (flag === "--deny-env") denyEnv = merge(denyEnv, value);
    else if (flag === "--deny-write") denyWrite = merge(denyWrite, value);
    else if (/^-[A-Za-z]{2,}$/.test(flag)) {
      // Short flags together: -AE, -RW …
      if (flag.includes("A")) all = true;
      if (flag.includes("E")) env = "all";
      if (flag.includes("W")) write = "all";
    }
  }
  const envOk = (all || covers(env, (v) => matchesVariable(v, "LMM_REPORT"))) &&
    !covers(denyEnv, (v) => matchesVariable(v, "LMM_REPORT"));
  const writeOk = (all || covers(write, (p) => underPath(reportPath, p))) &&
    !covers(denyWrite, (p) => underPath(reportPath, p));
  return { env: !envOk, write: !writeOk };
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf("=");
  return eq < 0 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)];
}

/** `--allow-x` (no value) allows everything; `--allow-x=a,b` adds a and b. */
function merge(current: string[] | "all" | null, value: string | undefined): string[] | "all" {
  if (value === undefined || current === "all") return "all";
  return [...(current ?? []), ...value.split(",").filter((v) => v !== "")];
}

function covers(list: string[] | "all" | null, test: (item: string) => boolean): boolean {
  return list === "all" || (list !== null && list.some(test));
}

/** `LMM_REPORT`, or a pattern ending in `*` (`LMM_*`). */
function matchesVariable(pattern: string, name: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

function underPath(file: string, allowed: string): boolean {
  const dir = resolve(allowed);
  const target = resolve(file);
  return target === dir || target.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/**
 * The flags to add for what is missing, as one phrase.
 *
 * @param missing What is missing.
 * @param reportPath The report file (its folder's parent is named for write access).
 * @returns For example `--allow-env=LMM_REPORT,LMM_SITES,LMM_LIB --allow-write=/tmp`.
 */
export function flagsToAdd(missing: Missing, reportPath: string): string {
  const flags: string[] = [];
  if (missing.env) flags.push(`--allow-env=${ENV_VARIABLES.join(",")}`);
  if (missing.write) flags.push(`--allow-write=${dirname(dirname(reportPath))}`);
  return flags.join(" ");
}
