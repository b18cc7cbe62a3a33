/**
 * Allocation sites: the `file:line` of the code that called into LMM, taken
 * from a stack trace. Only heaps created with `trackSites` pay for this
 * (capturing a stack costs microseconds).
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** URL prefix of this package's own files, whose frames are skipped. */
const OWN_DIR = new URL("./", import.meta.url).href;

/** Whether a frame location is in one of this package's files (`<dir>/heap.ts:1:2`). */
function isOwnFrame(location: string): boolean {
  return location.startsWith(OWN_DIR) &&
    /^[a-z_]+\.ts:\d+:\d+$/.test(location.slice(OWN_DIR.length));
}

let cwdPrefix: string | null | undefined;

/** The working directory + "/", if reading it is permitted (never prompts). */
function cwd(): string | null {
  if (cwdPrefix === undefined) {
    cwdPrefix = null;
    try {
      if (Deno.permissions.querySync({ name: "read" }).state === "granted") {
        cwdPrefix = Deno.cwd().replace(/\/?$/, "/");
      }
    } catch { /* keep absolute paths */ }
  }
  return cwdPrefix;
}

/** `file:line` of one stack frame's location (`file:///a/b.ts:12:5`). */
function siteOf(location: string): string {
  const match = /^(.*):(\d+):\d+$/.exec(location);
  if (match === null) return location;
  let file = match[1];
  if (file.startsWith("file://")) {
    try {
      file = fileURLToPath(file);
    } catch { /* keep the URL */ }
    const base = cwd();
    if (base !== null && file.startsWith(base)) file = file.slice(base.length);
  }
  return `${file}:${match[2]}`;
}

/**
 * The allocation site of the current call: the first stack frame outside
 * this package, as `file:line` (relative to the working directory when it
 * is below it), or `"unknown"`.
 *
 * @param stack A stack trace (`new Error().stack`).
 * @returns The site text.
 */
export function callerSite(stack: string | undefined): string {
  if (stack === undefined) return "unknown";
  for (const line of stack.split("\n")) {
    const frame = /^\s+at (?:.*? \()?(.+?)\)?$/.exec(line);
    if (frame === null) continue;
    const location = frame[1];
    if (isOwnFrame(location) || location.startsWith("ext:")) continue;
    if (location === "<anonymous>" || location === "native") continue;
    return siteOf(location);
  }
  return "unknown";
}
