/**
 * The process report: every heap of this isolate counted, whatever its end.
 *
 * - A heap that is open when the isolate ends is reported with all its
 *   blocks (`"open"`).
 * - A heap closed with live blocks — `close()`, or the end of a `using`
 *   scope — or taken by the garbage collector without `close()` is read
 *   just before its pages go back (`"closed"`, `"collected"`): its live
 *   blocks leaked at close. The summary stays in a ledger for `report()`;
 *   with `LMM_REPORT` set the heap is also appended to the report file at
 *   once, so nothing that happens later can lose it. A heap that records no
 *   stacks, closed while no report file is asked for, is summarised from
 *   its statistics alone (closing with live blocks may be a deliberate
 *   free-everything: it stays O(families)).
 *
 * With `LMM_REPORT` set, this isolate appends its part of the report (its
 * open heaps and its timeline) when it ends: at `unload` (a normal end,
 * `Deno.exit`, the end of a test file under `deno test`), on an uncaught
 * error or unhandled rejection, and on SIGINT or SIGTERM — after which the
 * signal is raised again with no listener left, so the program ends the way
 * the signal would have ended it. (Deno cannot tell whether the program
 * listens for the signal itself; if it does, it receives it a second time.) A Worker gets no `unload`: it writes a
 * checkpoint of its heaps (their figures and leaks, not every block) before
 * each `postMessage` when they changed since the last one, at most a tenth
 * of the time, and all of it in `self.close()`, so a Worker that reports
 * back and is terminated has its heaps in the report.
 *
 * Nothing here runs at import: the first `new Heap()` arms it.
 *
 * @module
 */

import { envGet, isPermissionError } from "../env.ts";
import { unwrap } from "../errors.ts";
import type { Heap } from "../heap.ts";
import { ALL_FAMILIES, BlockInfo, Stats } from "../native/abi.ts";
import { lib } from "../native/loader.ts";
import { readStats } from "../records.ts";
import { addHeap, type HeapEntry, openEntries, removeHeap } from "../registry.ts";
import type { LeaksReport, PartReason, Report } from "../report_types.ts";
import { onAllocations, SiteTracker, stackFrames } from "../sites.ts";
import { heapReportOf, programInfo, reportOf } from "./build.ts";
import { leaksReport } from "./leaks.ts";
import { type SiteOptions, siteSettings } from "./options.ts";
import { type HeapData, snapshotHeap, summarizeHeap } from "./snapshot.ts";
import { appendPart, LineWriter, writePart } from "./stream.ts";
import { measureOpenHeaps, Timeline } from "./timeline.ts";

/** This isolate, as report parts name it: process id and a random suffix. */
const ISOLATE = `${Deno.pid}.${crypto.randomUUID().slice(0, 8)}`;
let seq = 0;
/** Heaps closed or collected with live blocks, without their blocks. */
const ledger: HeapData[] = [];
let timeline: Timeline | null = null;
let armed = false;
let warned = false;

/** The report file, if the program writes one (and may read `LMM_REPORT`). */
function reportPath(): string | undefined {
  return envGet("LMM_REPORT");
}

/** What `new Heap()` decided before creating its engine heap. */
export interface HeapPlan {
  sites: ReturnType<typeof siteSettings>;
}

/**
 * Checks a new heap's site options (before the engine heap exists, so that
 * a bad option leaves nothing behind).
 *
 * @param options The heap's options.
 * @returns The plan for {@linkcode heapOpened}.
 * @throws {LmmError} `BAD_CONFIG`.
 */
export function planHeap(options: SiteOptions): HeapPlan {
  return { sites: siteSettings(options, reportPath() !== undefined) };
}

/**
 * Registers a new heap: its entry, its stack tracker, and the exit report.
 *
 * @param heap The new heap.
 * @param init Its id, label, page size, engine handle and plan.
 * @returns Its entry (for its finalizer).
 */
export function heapOpened(
  heap: Heap,
  init: { id: number; label: string; pageSize: number; handle: Deno.PointerObject; plan: HeapPlan },
): HeapEntry {
  const reporting = reportPath() !== undefined;
  const { sites } = init.plan;
  const entry: HeapEntry = {
    id: init.id,
    label: init.label,
    pageSize: init.pageSize,
    handle: init.handle,
    tracker: sites.mode === "none" && !reporting ? null : tracker(init.handle, sites),
    state: "open",
    quiesce: () => {},
  };
  addHeap(heap, entry);
  arm(reporting);
  return entry;
}

function tracker(handle: Deno.PointerObject, settings: HeapPlan["sites"]): SiteTracker {
  const S = lib();
  let marker = 0;
  if (settings.mode !== "none") {
    const text = new TextEncoder().encode("lmm:stack");
    const out = new Uint32Array(1);
    unwrap(
      S.lmm_site_register(handle, text, text.length, new Uint8Array(out.buffer)),
      "new Heap(): lmm_site_register",
    );
    marker = out[0];
  }
  const info = new Uint8Array(BlockInfo.SIZE);
  const view = new DataView(info.buffer);
  return new SiteTracker(
    settings,
    marker,
    (address) =>
      S.lmm_block_info(handle, Deno.UnsafePointer.create(BigInt(address)), info) === 0 &&
      view.getUint32(BlockInfo.site, true) === marker,
  );
}

/**
 * A heap is being closed (its handle still valid): its live blocks, if any,
 * go to the ledger and the report file.
 *
 * @param entry Its entry.
 * @param heap The heap.
 */
export function heapClosing(entry: HeapEntry, heap: Heap): void {
  removeHeap(entry.id);
  entry.state = "closed";
  noteLeaks(entry, heap, "close");
}

/**
 * A heap was garbage-collected without `close()` (its handle still valid):
 * as {@linkcode heapClosing}, with no `Heap` left to read through.
 *
 * @param entry Its entry.
 */
export function heapCollected(entry: HeapEntry): void {
  removeHeap(entry.id);
  entry.state = "collected";
  noteLeaks(entry, null, "collect");
}

function noteLeaks(entry: HeapEntry, heap: Heap | null, reason: PartReason): void {
  try {
    if (readStats(lib(), entry.handle, ALL_FAMILIES).occupied_blocks === 0) return;
    const path = reportPath();
    if (path === undefined && (entry.tracker?.settings.mode ?? "none") === "none") {
      // Nothing asked for stacks or a report: keep the counts, read no block.
      ledger.push(summarizeHeap(entry));
      return;
    }
    const snap = snapshotHeap(entry, heap);
    ledger.push({ heap: snap.heap, pages: [], blocks: null, leaks: snap.leaks });
    if (path !== undefined) append(path, reason, [snap], false);
  } catch (error) {
    warn(`could not read the live blocks of heap ${entry.id} at ${reason}: ${message(error)}`);
  }
}

/**
 * The report of this isolate: its open heaps with all their blocks, then
 * the heaps closed or collected with live blocks.
 *
 * @returns The report.
 */
export function processReport(): Report {
  const open = openEntries().map(({ heap, entry }) => heapReportOf(snapshotHeap(entry, heap)));
  return reportOf([...open, ...ledger.map(heapReportOf)]);
}

/**
 * One open heap's report (`heap.report()`).
 *
 * @param heap An open heap.
 * @param entry Its entry.
 * @returns A report with that heap and all its blocks.
 */
export function singleHeapReport(heap: Heap, entry: HeapEntry): Report {
  return reportOf([heapReportOf(snapshotHeap(entry, heap))]);
}

/**
 * One open heap's leaks (`heap.leaks()`).
 *
 * @param heap An open heap.
 * @param entry Its entry.
 * @returns Its live blocks by family and by stack.
 */
export function heapLeaks(heap: Heap, entry: HeapEntry): LeaksReport {
  return leaksReport(snapshotHeap(entry, heap).leaks, stackFrames);
}

/**
 * Writes this isolate's report to `path` as JSON Lines, replacing the file
 * atomically (a temporary file beside it, then a rename).
 *
 * @param path The file.
 */
export function writeIsolateReport(path: string): void {
  const temp = `${path}.${ISOLATE}.tmp`;
  try {
    const file = Deno.openSync(temp, { write: true, create: true, truncate: true });
    try {
      const w = new LineWriter(file);
      writePart(w, part("write", [...openSnapshots(), ...ledger], true));
      w.flush();
    } finally {
      file.close();
    }
    Deno.renameSync(temp, path);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch { /* never created */ }
    throw error;
  }
}

function openSnapshots(): HeapData[] {
  return openEntries().map(({ heap, entry }) => snapshotHeap(entry, heap));
}

function part(
  reason: PartReason,
  heaps: HeapData[],
  withTimeline: boolean,
): Parameters<typeof writePart>[1] {
  if (withTimeline) timeline?.tick(measureOpenHeaps, true);
  return {
    header: {
      isolate: ISOLATE,
      seq: ++seq,
      reason,
      generatedAt: new Date().toISOString(),
      program: programInfo(),
    },
    heaps,
    timeline: withTimeline ? timeline?.record() ?? null : null,
  };
}

function append(path: string, reason: PartReason, heaps: HeapData[], withTimeline: boolean): void {
  try {
    appendPart(path, part(reason, heaps, withTimeline));
  } catch (error) {
    warn(
      `could not write the report to ${path} (LMM_REPORT): ${
        isPermissionError(error)
          ? `Deno was not given write access to it: run deno with --allow-write=${path} (or -A)`
          : message(error)
      }`,
    );
  }
}

/** Appends this isolate's open heaps (and timeline) to the report file. */
function writeOpenHeaps(reason: PartReason): void {
  const path = reportPath();
  if (path === undefined) return;
  let heaps: HeapData[];
  try {
    heaps = openSnapshots();
    // A Worker may write many checkpoints: their figures and leaks, without every block.
    if (reason === "checkpoint") heaps = heaps.map((h) => ({ ...h, pages: [], blocks: null }));
  } catch (error) {
    warn(`could not read the open heaps for the report: ${message(error)}`);
    heaps = [];
  }
  append(path, reason, heaps, true);
}

function warn(text: string): void {
  if (warned) return;
  warned = true;
  console.error(`lmm: ${text}`);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ── Arming ──────────────────────────────────────────────────────────────────

/**
 * Installs the exit hooks once (called by the first `new Heap()`); with a
 * report file, also the timeline, the signal handlers and, in a Worker, the
 * checkpoints.
 */
function arm(reporting: boolean): void {
  if (armed) return;
  armed = true;
  globalThis.addEventListener("unload", () => writeOpenHeaps("exit"));
  const unlessHandled = (event: Event): void => {
    if (!event.defaultPrevented) writeOpenHeaps("error");
  };
  globalThis.addEventListener("error", unlessHandled);
  globalThis.addEventListener("unhandledrejection", unlessHandled);
  if (!reporting) return;
  startTimeline();
  for (const signal of ["SIGINT", "SIGTERM"] as const) watchSignal(signal);
  if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== undefined) {
    hookWorker();
  }
}

function startTimeline(): void {
  const t = new Timeline();
  timeline = t;
  const sample = (): void => {
    try {
      t.tick(measureOpenHeaps);
    } catch { /* a heap went away meanwhile: the next tick will do */ }
  };
  onAllocations(sample);
  const id = setInterval(sample, 25);
  Deno.unrefTimer(id);
}

/**
 * On the signal: write the report, stop listening, and raise the signal
 * again, which (with no listener left) ends the program as it would have
 * ended without this one.
 */
function watchSignal(signal: "SIGINT" | "SIGTERM"): void {
  const listener = (): void => {
    writeOpenHeaps("signal");
    Deno.removeSignalListener(signal, listener);
    Deno.kill(Deno.pid, signal);
  };
  try {
    Deno.addSignalListener(signal, listener);
  } catch { /* signals not available here (a Worker, or not permitted) */ }
}

/** Worker checkpoints: before each postMessage, and in close(). */
function hookWorker(): void {
  const scope = globalThis as unknown as Record<string, unknown>;
  const post = scope.postMessage;
  if (typeof post === "function") {
    scope.postMessage = function (this: unknown, ...args: unknown[]): unknown {
      checkpoint();
      return post.apply(this, args);
    };
  }
  const close = scope.close;
  if (typeof close === "function") {
    scope.close = function (this: unknown): unknown {
      writeOpenHeaps("exit");
      return close.apply(this);
    };
  }
}

let lastState = "";
let nextCheckpoint = 0;
let trailing: ReturnType<typeof setTimeout> | undefined;

/** Writes a checkpoint if the heaps changed, at most at a tenth of the time one takes. */
function checkpoint(): void {
  const state = heapsState();
  if (state === lastState) return;
  const now = performance.now();
  if (now < nextCheckpoint) {
    if (trailing === undefined) {
      trailing = setTimeout(() => {
        trailing = undefined;
        checkpoint();
      }, nextCheckpoint - now);
    }
    return;
  }
  writeOpenHeaps("checkpoint");
  lastState = state;
  nextCheckpoint = performance.now() + 9 * (performance.now() - now);
}

const stateBuffer = new Uint8Array(Stats.SIZE);

/** The open heaps and their operation counts, as one string that changes with them. */
function heapsState(): string {
  const S = lib();
  let state = "";
  for (const { entry } of openEntries()) {
    const raw = readStats(S, entry.handle, ALL_FAMILIES, stateBuffer);
    state += `${entry.id}:${raw.alloc_count}:${raw.free_count}:${raw.realloc_count};`;
  }
  return `${state}|${ledger.length}`;
}
