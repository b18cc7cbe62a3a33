/**
 * The report as one object (`heap.report()`, `report()`), made from
 * snapshots: every page and block as plain objects, stacks as frames. Meant
 * for programs that look at their own heaps; files are written as a stream
 * instead (`stream.ts`).
 *
 * @module
 */

import { hex } from "../errors.ts";
import type { BlockReport, HeapReport, LeakKind, ProgramInfo, Report } from "../report_types.ts";
import { REPORT_SCHEMA, REPORT_VERSION } from "../report_types.ts";
import { frameSite, type StackFrame, stackFrames } from "../sites.ts";
import { DIRECT } from "./classify.ts";
import { leaksReport } from "./leaks.ts";
import type { HeapData } from "./snapshot.ts";

/**
 * One heap's part of the report.
 *
 * @param snap The heap's data (pages listed when it has its blocks).
 * @returns The heap report.
 */
export function heapReportOf(snap: HeapData): HeapReport {
  const blocks = snap.blocks;
  const { sites, ...heap } = snap.heap;
  return {
    ...heap,
    trackSites: sites !== null,
    sites,
    pages: blocks === null ? [] : snap.pages.map((page) => {
      const list: BlockReport[] = [];
      for (let i = page.first; i < page.first + page.count; i++) {
        const stack = blocks.stack[i];
        const frames = stackFrames(stack);
        const free = blocks.requested[i] === 0;
        list.push({
          offset: blocks.address[i] - page.base,
          size: blocks.size[i],
          requested: blocks.requested[i],
          free,
          site: frames.length === 0 ? null : frameSite(frames[0]),
          stack,
          kind: free ? null : kindName(blocks.kind[i]),
        });
      }
      return { base: hex(page.base), size: page.size, family: page.family, blocks: list };
    }),
    leaks: leaksReport(snap.leaks, stackFrames),
  };
}

function kindName(kind: number): LeakKind {
  return kind === DIRECT ? "direct" : "indirect";
}

/**
 * The report of some heaps.
 *
 * @param heaps Heap reports.
 * @returns The document, with the stacks its heaps name.
 */
export function reportOf(heaps: HeapReport[]): Report {
  const stacks: Record<number, StackFrame[]> = {};
  const note = (id: number): void => {
    if (id !== 0 && !(id in stacks)) stacks[id] = [...stackFrames(id)];
  };
  for (const heap of heaps) {
    for (const page of heap.pages) for (const block of page.blocks) note(block.stack);
    for (const site of heap.leaks.bySite) note(site.stackId);
  }
  return {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    generatedAt: new Date().toISOString(),
    program: programInfo(),
    heaps,
    stacks,
  };
}

/**
 * This isolate: process id, main module and arguments, runtime, Worker name.
 *
 * @returns The program info.
 */
export function programInfo(): ProgramInfo {
  let main: string | null = null;
  try {
    main = Deno.mainModule ?? null;
  } catch { /* not permitted */ }
  let worker: string | null = null;
  const scope = globalThis as { WorkerGlobalScope?: unknown; name?: unknown; location?: unknown };
  if (scope.WorkerGlobalScope !== undefined) {
    worker = typeof scope.name === "string" ? scope.name : "";
    main ??= scope.location === undefined ? null : String(scope.location);
  }
  return {
    pid: Deno.pid,
    argv: main === null ? [...Deno.args] : [main, ...Deno.args],
    runtime: `deno ${Deno.version.deno}`,
    main,
    worker,
  };
}
