/**
 * Allocation stacks: which code allocated each block, recorded with V8's
 * structured stack trace API and resolved to `file:line:column` frames.
 *
 * ## Basic design
 *
 * A heap that tracks sites has a {@linkcode SiteTracker}. On an allocation it
 * asks the process-wide {@linkcode Sampler} whether this allocation gets a
 * stack (always in `"all"` mode, byte-weighted sampling in `"sample"` mode);
 * if so, the engine stores a marker site id in the block's meta block and
 * the tracker keeps a stack *capture* under the block's address.
 *
 * A capture is `Error.captureStackTrace(holder)` with `stackTraceLimit` set to
 * the depth: V8 records the raw frames (≈ 2 µs) and formats nothing until
 * `holder.stack` is read. Resolving a frame to file, line and column costs
 * ≈ 1.7 µs more per frame in Deno (its CallSite getters apply source maps), so
 * the tracker resolves lazily: captures wait in a batch, and when the batch
 * is full (or a report needs them) those whose block is still live and still
 * tracked are resolved — through `Error.prepareStackTrace`, which hands over
 * the CallSite objects, never by parsing text — and interned in the stack
 * table; the others (blocks freed meanwhile, the common case in allocation
 * heavy code) are dropped unresolved. Frames of this package and of the
 * runtime (`ext:`, `node:`) are dropped before the depth is counted.
 *
 * ## Sampling
 *
 * `"sample"` mode treats the bytes a program allocates as one long line and
 * picks points on it at random, on average one every `interval` bytes (a
 * Poisson process; the gaps are drawn from an exponential distribution). An
 * allocation gets a stack when a point falls inside its bytes, so a block of
 * `s` bytes is sampled with probability `p(s) = 1 − e^(−s/interval)`, and
 * independently of every other block. A site whose leaked blocks add up to
 * `B` bytes is therefore missed only if no point fell in any of them:
 * probability `e^(−B/interval)`. With the default interval of 64 KiB, a site
 * leaking 1 MiB is seen with probability 1 − e^(−16) > 0.9999998, 256 KiB
 * with 0.982, 64 KiB with 0.63. A sampled block of `s` bytes stands for
 * `1 / p(s)` blocks and `s / p(s)` bytes, which makes the per-site estimates
 * unbiased (the method of tcmalloc's and Go's heap profilers). Leaks are still
 * counted exactly by family: only the stacks are sampled. The first
 * `warmup` allocations of the process all get a stack (weight 1), so small
 * programs and tests see every site for a few milliseconds of work.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** How a heap records allocation stacks. */
export type SiteMode = "all" | "sample" | "none";

/** The stack recording of a heap, as reports show it. */
export interface SiteSettings {
  /** `"all"`: every allocation; `"sample"`: byte-weighted sampling; `"none"`. */
  mode: SiteMode;
  /** Frames kept per stack (after this package's own frames are dropped). */
  depth: number;
  /** Mean bytes between two sampled allocations (`"sample"` mode). */
  interval: number;
}

/** Frames per stack unless configured (`stackDepth`, `LMM_SITES=…,depth=N`). */
export const DEFAULT_STACK_DEPTH = 8;
/** Largest accepted stack depth. */
export const MAX_STACK_DEPTH = 64;
/** Mean bytes between samples unless configured (`LMM_SITES=sample,interval=N`). */
export const DEFAULT_SAMPLE_INTERVAL = 64 * 1024;
/** Allocations of a process that all get a stack before sampling starts. */
export const SAMPLE_WARMUP = 1000;
/**
 * Captures that wait unresolved before the tracker resolves those whose
 * blocks are still live. A capture takes ≈ 1 KiB of V8 memory while it
 * waits (depth 8), so at most ≈ 64 MiB per heap; the longer captures wait,
 * the more of them belong to blocks freed meanwhile, which are never
 * resolved.
 */
const BATCH = 65_536;
/** Captured beyond the depth, for frames that get dropped (this package's, the runtime's). */
const OWN_FRAMES_SLACK = 2;

/** One resolved stack frame. */
export interface StackFrame {
  /** Function name (`Type.method` for methods), or null at a module's top level. */
  fn: string | null;
  /** File path, relative to the working directory when it is below it, or URL. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
}

/**
 * A frame as one line of text: `fn (file:line:col)`, or `file:line:col` at
 * the top level.
 *
 * @example Format a frame
 * ```ts
 * import { formatFrame } from "./sites.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatFrame({ fn: "main", file: "app.ts", line: 3, col: 7 }), "main (app.ts:3:7)");
 * assert.equal(formatFrame({ fn: null, file: "app.ts", line: 9, col: 1 }), "app.ts:9:1");
 * ```
 *
 * @param frame A frame.
 * @returns Its text.
 */
export function formatFrame(frame: StackFrame): string {
  const where = `${frame.file}:${frame.line}:${frame.col}`;
  return frame.fn === null ? where : `${frame.fn} (${where})`;
}

/**
 * The `file:line` of a frame, the short name of an allocation site.
 *
 * @param frame A frame.
 * @returns For example `app.ts:12`.
 */
export function frameSite(frame: StackFrame): string {
  return `${frame.file}:${frame.line}`;
}

// ── The stack table (one per isolate) ───────────────────────────────────────

const stackIds = new Map<string, number>();
/** Stack id → frames; id 0 is "no stack". */
const stacks: (readonly StackFrame[])[] = [[]];

/**
 * The frames of an interned stack (empty for id 0 or an unknown id).
 *
 * @param id A stack id from a tracker.
 * @returns The frames, innermost first.
 */
export function stackFrames(id: number): readonly StackFrame[] {
  return stacks[id] ?? [];
}

function internStack(frames: StackFrame[]): number {
  let key = "";
  for (const f of frames) key += `${f.fn}\u0000${f.file}\u0000${f.line}\u0000${f.col}\n`;
  let id = stackIds.get(key);
  if (id === undefined) {
    id = stacks.length;
    stacks.push(Object.freeze(frames));
    stackIds.set(key, id);
  }
  return id;
}

// ── Capture and resolution ──────────────────────────────────────────────────

/**
 * V8's CallSite, as `Error.prepareStackTrace` receives it (the parts used
 * here). In Deno each call crosses into native code (≈ 0.3 µs) and the first
 * of file, line or column applies the source map (≈ 1.8 µs), so a frame is
 * read with as few calls as possible.
 */
interface CallSite {
  getScriptNameOrSourceURL(): string | null;
  getFileName(): string | null;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  getFunctionName(): string | null;
}

/** The V8 extensions of `Error` used here (not in TypeScript's lib). */
const V8Error = Error as unknown as {
  stackTraceLimit: number;
  prepareStackTrace?: (error: unknown, sites: CallSite[]) => unknown;
  captureStackTrace(target: object, constructorOpt?: unknown): void;
};

/** A stack captured but not resolved yet. */
type Capture = { stack?: unknown };

/**
 * Captures the current stack without formatting it (cheap). Frames from
 * `below` upwards (the function that called this one and its callers stay).
 */
function capture(limit: number, below: unknown): Capture {
  const holder: Capture = {};
  const saved = V8Error.stackTraceLimit;
  V8Error.stackTraceLimit = limit;
  V8Error.captureStackTrace(holder, below);
  V8Error.stackTraceLimit = saved;
  return holder;
}

/** This package's root and `ffi/` folder, as URLs and (for local files) paths. */
const ROOT = new URL("../", import.meta.url);
const FFI = new URL("./", import.meta.url);
const ROOTS = [ROOT.href, ROOT.protocol === "file:" ? fileURLToPath(ROOT) : ROOT.href];
const FFIS = [FFI.href, FFI.protocol === "file:" ? fileURLToPath(FFI) : FFI.href];

/**
 * Whether a frame's file belongs to this package (a module of its `ffi/`
 * folder, or a top-level module such as `mod.ts`) or to the runtime (`ext:`,
 * `node:`). Module names are plain (`report/process.ts`): a name with
 * anything else in it, such as the `ffi/sites.ts#12-30.ts` of a doc test's
 * example, is not one of them. (Its source map points back at
 * `ffi/sites.ts`, so a frame that looks like one of ours is checked again
 * by its script's own URL.)
 */
function isOwnFile(file: string): boolean {
  if (file.startsWith("ext:") || file.startsWith("node:")) return true;
  for (const dir of FFIS) {
    if (file.startsWith(dir) && /^[a-z_/]+\.ts$/.test(file.slice(dir.length))) return true;
  }
  for (const dir of ROOTS) {
    if (file.startsWith(dir) && /^[a-z_]+\.ts$/.test(file.slice(dir.length))) return true;
  }
  return false;
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

const displayFiles = new Map<string, string>();

/** A file for reports: a path relative to the working directory when below it. */
function displayFile(name: string): string {
  let shown = displayFiles.get(name);
  if (shown === undefined) {
    let file = name;
    if (file.startsWith("file://")) {
      try {
        file = fileURLToPath(file);
      } catch { /* keep the URL */ }
    }
    const base = cwd();
    shown = base !== null && file.startsWith(base) ? file.slice(base.length) : file;
    displayFiles.set(name, shown);
  }
  return shown;
}

const passSites = (_error: unknown, sites: CallSite[]): CallSite[] => sites;

/**
 * Resolves a capture into frames: this package's and the runtime's frames
 * dropped, at most `depth` kept.
 */
function resolve(holder: Capture, depth: number): StackFrame[] {
  const saved = V8Error.prepareStackTrace;
  V8Error.prepareStackTrace = passSites;
  let sites: unknown;
  try {
    sites = holder.stack;
  } finally {
    V8Error.prepareStackTrace = saved;
  }
  const frames: StackFrame[] = [];
  if (!Array.isArray(sites)) return frames;
  for (const site of sites as CallSite[]) {
    if (frames.length === depth) break;
    const file = site.getFileName();
    if (file !== null && isOwnFile(file) && isOwnFile(site.getScriptNameOrSourceURL() ?? file)) {
      continue;
    }
    frames.push({
      fn: site.getFunctionName() || null,
      file: file === null ? "<anonymous>" : displayFile(file),
      line: site.getLineNumber() ?? 0,
      col: site.getColumnNumber() ?? 0,
    });
  }
  return frames;
}

/**
 * The current call stack as frames (what a tracker records for a block),
 * without the frames of this package and of the runtime.
 *
 * @example The caller's frame comes first
 * ```ts
 * import { currentStack } from "./sites.ts";
 * import assert from "node:assert/strict";
 *
 * function helper() {
 *   return currentStack(4);
 * }
 * const [top] = helper();
 * assert.equal(top.fn, "helper");
 * assert.ok(top.line > 0);
 * ```
 *
 * @param depth Frames to keep, at most.
 * @returns The frames, innermost first.
 */
export function currentStack(depth: number = DEFAULT_STACK_DEPTH): StackFrame[] {
  return resolve(capture(depth + OWN_FRAMES_SLACK, currentStack), depth);
}

// ── Sampling (one sampler per isolate) ──────────────────────────────────────

/**
 * The probability that byte-weighted sampling picks an allocation of `bytes`
 * bytes: `1 − e^(−bytes/interval)`.
 *
 * @example Probabilities
 * ```ts
 * import { sampleProbability } from "./sites.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(Math.abs(sampleProbability(65536, 65536) - (1 - Math.exp(-1))) < 1e-12);
 * assert.ok(sampleProbability(16, 65536) < 0.001);
 * ```
 *
 * @param bytes Bytes of the allocation.
 * @param interval Mean bytes between samples.
 * @returns A probability in [0, 1].
 */
export function sampleProbability(bytes: number, interval: number): number {
  return -Math.expm1(-bytes / interval);
}

/**
 * Decides which allocations get a stack: all of the first `warmup`, then
 * byte-weighted sampling with a mean of `interval` bytes between samples
 * (see the module's documentation for the math).
 */
export class Sampler {
  #interval: number;
  #warmup: number;
  #random: () => number;
  /** Bytes until the next sample point. */
  #left: number;

  /**
   * @param interval Mean bytes between samples (> 0).
   * @param warmup Allocations that are all sampled first.
   * @param random A uniform random source in [0, 1) (injectable for tests).
   */
  constructor(
    interval: number,
    warmup: number = SAMPLE_WARMUP,
    random: () => number = Math.random,
  ) {
    this.#interval = interval;
    this.#warmup = warmup;
    this.#random = random;
    this.#left = this.#gap();
  }

  /** The mean bytes between samples. */
  get interval(): number {
    return this.#interval;
  }

  /** An exponentially distributed gap with mean `interval`. */
  #gap(): number {
    return -Math.log(1 - this.#random()) * this.#interval;
  }

  /**
   * Whether an allocation of `bytes` bytes gets a stack, as the weight it
   * stands for in estimates: 0 (not sampled), 1 (warm-up), or 1 / p(bytes).
   *
   * @param bytes Bytes requested.
   * @returns The weight, 0 when not sampled.
   */
  take(bytes: number): number {
    if (this.#warmup > 0) {
      this.#warmup--;
      return 1;
    }
    this.#left -= bytes;
    if (this.#left > 0) return 0;
    // Skip every further point that fell inside this allocation.
    do this.#left += this.#gap(); while (this.#left <= 0);
    return 1 / sampleProbability(bytes, this.#interval);
  }
}

const samplers = new Map<number, Sampler>();

function samplerFor(interval: number): Sampler {
  let sampler = samplers.get(interval);
  if (sampler === undefined) {
    // The warm-up belongs to the process, not to each interval: only the first sampler gets it.
    sampler = new Sampler(interval, samplers.size === 0 ? SAMPLE_WARMUP : 0);
    samplers.set(interval, sampler);
  }
  return sampler;
}

// ── The per-heap tracker ────────────────────────────────────────────────────

/** Allocations between two calls of the allocation hook. */
const HOOK_EVERY = 1024;
let allocationHook: (() => void) | null = null;
let untilHook = HOOK_EVERY;

/**
 * Sets a function that trackers call every {@link HOOK_EVERY} allocations
 * (the report's timeline uses it to sample programs that never yield).
 *
 * @param hook The function, or null for none.
 */
export function onAllocations(hook: (() => void) | null): void {
  allocationHook = hook;
}

/** What a tracker knows about one tracked block. */
interface Entry {
  address: number;
  /** The capture, until it is resolved (then null). */
  holder: Capture | null;
  /** The interned stack id once resolved. */
  stack: number;
  /** How many allocations this one stands for (1 unless sampled). */
  weight: number;
}

/** The stack of a tracked block and the weight it carries in estimates. */
export interface TrackedStack {
  /** Stack id (see {@linkcode stackFrames}); 0 when it had no user frame. */
  stack: number;
  /** Allocations this block stands for: 1, or 1 / p(size) when sampled. */
  weight: number;
}

/**
 * Records allocation stacks for one heap. The heap tells it about every
 * allocation ({@linkcode SiteTracker.prototype.sample} before,
 * {@linkcode SiteTracker.prototype.record} after) and every move by
 * `realloc`; it never hears of frees: a capture whose block is no longer live
 * and tracked (asked through `isTracked`, the engine's view) is dropped when
 * the tracker next looks at it.
 *
 * @example Track a heap's allocations by hand
 * ```ts
 * import { SiteTracker, stackFrames } from "./sites.ts";
 * import assert from "node:assert/strict";
 *
 * const live = new Set<number>();
 * const tracker = new SiteTracker({ mode: "all", depth: 4 }, 7, (a) => live.has(a));
 * function allocate(address: number): void {
 *   if (tracker.sample(16) !== 0) tracker.record(address);
 *   live.add(address);
 * }
 * allocate(0x1000);
 * const tracked = tracker.stackOf(0x1000)!;
 * assert.equal(stackFrames(tracked.stack)[0].fn, "allocate");
 * live.delete(0x1000); // freed: the tracker forgets it when it next looks
 * assert.equal(tracker.stackOf(0x1000), null);
 * ```
 */
export class SiteTracker {
  /** The settings this tracker records with. */
  readonly settings: SiteSettings;
  /** The engine site id stored in tracked blocks. */
  readonly marker: number;
  readonly #isTracked: (address: number) => boolean;
  readonly #sampler: Sampler | null;
  readonly #entries = new Map<number, Entry>();
  readonly #batch: number;
  #pending: Entry[] = [];
  /** Entries after the last prune; the next prune comes when they double. */
  #pruneAt: number;
  /** The weight of the allocation that `sample` just accepted. */
  #weight = 1;

  /**
   * @param settings Mode, depth and (for `"sample"`) interval; missing ones
   *   take the defaults.
   * @param marker The engine site id that marks a tracked block.
   * @param isTracked Whether `address` is a live block carrying `marker`.
   * @param batch Captures that wait before the live ones are resolved.
   */
  constructor(
    settings: Partial<SiteSettings> & { mode: SiteMode },
    marker: number,
    isTracked: (address: number) => boolean,
    batch: number = BATCH,
  ) {
    this.settings = {
      mode: settings.mode,
      depth: settings.depth ?? DEFAULT_STACK_DEPTH,
      interval: settings.interval ?? DEFAULT_SAMPLE_INTERVAL,
    };
    this.marker = marker;
    this.#isTracked = isTracked;
    this.#batch = batch;
    this.#pruneAt = 2 * batch;
    this.#sampler = settings.mode === "sample" ? samplerFor(this.settings.interval) : null;
  }

  /**
   * Called before an allocation of `bytes` bytes: the site id to give the
   * engine (the marker, or 0 for none). When it is the marker, call
   * {@linkcode SiteTracker.prototype.record} with the new address.
   *
   * @param bytes Bytes requested.
   * @returns The marker or 0.
   */
  sample(bytes: number): number {
    if (allocationHook !== null && --untilHook === 0) {
      untilHook = HOOK_EVERY;
      allocationHook();
    }
    switch (this.settings.mode) {
      case "all":
        this.#weight = 1;
        return this.marker;
      case "none":
        return 0;
      case "sample":
        this.#weight = this.#sampler!.take(bytes);
        return this.#weight === 0 ? 0 : this.marker;
    }
  }

  /**
   * Records the stack of the allocation that just returned `address`
   * (after {@linkcode SiteTracker.prototype.sample} returned the marker).
   *
   * @param address The new block.
   * @param below The allocating function: it and what it called are left
   *   out of the stack (default: this method).
   */
  record(address: number, below: unknown = this.record): void {
    const entry: Entry = {
      address,
      holder: capture(this.settings.depth + OWN_FRAMES_SLACK, below),
      stack: 0,
      weight: this.#weight,
    };
    this.#entries.set(address, entry);
    this.#pending.push(entry);
    if (this.#pending.length >= this.#batch) this.flush();
  }

  /**
   * A tracked block moved (`realloc`): its stack follows it.
   *
   * @param from The old address.
   * @param to The new address.
   */
  moved(from: number, to: number): void {
    const entry = this.#entries.get(from);
    if (entry === undefined) return;
    this.#entries.delete(from);
    entry.address = to;
    this.#entries.set(to, entry);
  }

  /**
   * Resolves the waiting captures of blocks that are still tracked and
   * drops the others; now and then also forgets resolved entries of blocks
   * that were freed.
   */
  flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const entry of pending) {
      if (this.#entries.get(entry.address) !== entry || entry.holder === null) continue;
      if (!this.#isTracked(entry.address)) {
        this.#entries.delete(entry.address);
        continue;
      }
      this.#resolveEntry(entry);
    }
    if (this.#entries.size >= this.#pruneAt) {
      for (const [address, entry] of this.#entries) {
        if (entry.holder === null && !this.#isTracked(address)) this.#entries.delete(address);
      }
      this.#pruneAt = Math.max(2 * this.#batch, 2 * this.#entries.size);
    }
  }

  #resolveEntry(entry: Entry): void {
    entry.stack = internStack(resolve(entry.holder!, this.settings.depth));
    entry.holder = null;
  }

  /**
   * The stack of a live tracked block (resolving it now if needed), or null
   * when the block carries none.
   *
   * @param address A block address.
   * @returns Its stack id and weight, or null.
   */
  stackOf(address: number): TrackedStack | null {
    const entry = this.#entries.get(address);
    if (entry === undefined) return null;
    if (!this.#isTracked(address)) {
      this.#entries.delete(address);
      return null;
    }
    if (entry.holder !== null) this.#resolveEntry(entry);
    return { stack: entry.stack, weight: entry.weight };
  }

  /**
   * The stack of a block the caller knows to be live and marked (from an
   * engine walk): no engine call. Null when the tracker has no entry for it.
   *
   * @param address A live block carrying the marker.
   * @returns Its stack id and weight, or null.
   */
  stackOfLive(address: number): TrackedStack | null {
    const entry = this.#entries.get(address);
    if (entry === undefined) return null;
    if (entry.holder !== null) this.#resolveEntry(entry);
    return { stack: entry.stack, weight: entry.weight };
  }
}
