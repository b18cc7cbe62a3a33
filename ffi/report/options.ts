/**
 * How a new heap records stacks: its own options first, then `LMM_SITES`
 * (which `lmm run --sites` sets for the program), then `"sample"` when the
 * program writes a report (`LMM_REPORT` is set) and `"none"` when not.
 *
 * `LMM_SITES` is a mode, optionally followed by settings:
 * `sample`, `all,depth=16`, `sample,depth=4,interval=16384`, `none`.
 *
 * @module
 */

import { envGet } from "../env.ts";
import { LmmError, Status } from "../errors.ts";
import {
  DEFAULT_SAMPLE_INTERVAL,
  DEFAULT_STACK_DEPTH,
  MAX_STACK_DEPTH,
  type SiteMode,
  type SiteSettings,
} from "../sites.ts";

/** The heap options that decide stack recording. */
export interface SiteOptions {
  /** `true` = `"all"`, `false` = `"none"`; unset: `LMM_SITES`, else none. */
  trackSites?: boolean | SiteMode;
  /** Frames per stack (1–64). */
  stackDepth?: number;
  /** Mean bytes between sampled allocations in `"sample"` mode (≥ 1). */
  sampleInterval?: number;
}

const MODES: readonly string[] = ["all", "sample", "none"];

/**
 * Parses an `LMM_SITES` value.
 *
 * @example Values
 * ```ts
 * import { parseSites } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseSites("all,depth=16"), { mode: "all", depth: 16 });
 * assert.deepEqual(parseSites("sample,interval=4096"), { mode: "sample", interval: 4096 });
 * assert.throws(() => parseSites("most"), /LMM_SITES/);
 * ```
 *
 * @param text The value.
 * @returns The mode and the settings it names.
 * @throws {Error} On a value that is not of that form.
 */
export function parseSites(text: string): Partial<SiteSettings> & { mode: SiteMode } {
  const [mode, ...settings] = text.split(",").map((part) => part.trim());
  if (!MODES.includes(mode)) {
    throw new Error(`LMM_SITES: '${mode}' is not all, sample or none`);
  }
  const result: Partial<SiteSettings> & { mode: SiteMode } = { mode: mode as SiteMode };
  for (const setting of settings) {
    const match = /^(depth|interval)=(\d+)$/.exec(setting);
    if (match === null) {
      throw new Error(`LMM_SITES: '${setting}' is not depth=N or interval=N`);
    }
    result[match[1] as "depth" | "interval"] = Number(match[2]);
  }
  return result;
}

let warned = false;

function fromEnv(): (Partial<SiteSettings> & { mode: SiteMode }) | null {
  const text = envGet("LMM_SITES");
  if (text === undefined) return null;
  try {
    return parseSites(text);
  } catch (error) {
    if (!warned) {
      warned = true;
      console.error(`lmm: ${(error as Error).message}; ignored`);
    }
    return null;
  }
}

/**
 * The stack recording of a new heap.
 *
 * @param options The heap's options.
 * @param reporting Whether the program writes a report (`LMM_REPORT`).
 * @returns The settings (mode "none" when nothing asks for stacks).
 * @throws {LmmError} `BAD_CONFIG` for a bad mode, depth or interval.
 */
export function siteSettings(options: SiteOptions, reporting: boolean): SiteSettings {
  const env = options.trackSites === undefined ||
      options.stackDepth === undefined || options.sampleInterval === undefined
    ? fromEnv()
    : null;
  const track = options.trackSites;
  const mode: unknown = track === true
    ? "all"
    : track === false
    ? "none"
    : track ?? env?.mode ?? (reporting ? "sample" : "none");
  if (typeof mode !== "string" || !MODES.includes(mode)) {
    throw badConfig(
      `trackSites ${JSON.stringify(track)} is not true, false, "all", "sample" or "none"`,
    );
  }
  const depth = options.stackDepth ?? env?.depth ?? DEFAULT_STACK_DEPTH;
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_STACK_DEPTH) {
    throw badConfig(`stackDepth ${depth} is not an integer from 1 to ${MAX_STACK_DEPTH}`);
  }
  const interval = options.sampleInterval ?? env?.interval ?? DEFAULT_SAMPLE_INTERVAL;
  if (!Number.isSafeInteger(interval) || interval < 1) {
    throw badConfig(`sampleInterval ${interval} is not a positive integer`);
  }
  return { mode: mode as SiteMode, depth, interval };
}

function badConfig(message: string): LmmError {
  return new LmmError("BAD_CONFIG", `new Heap(): ${message}`, { status: Status.BAD_CONFIG });
}
