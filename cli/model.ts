/**
 * The report as the renderers see it: the parts of a report file merged into
 * one picture, built record by record while the file streams in, with what
 * the pages and blocks add up to rather than the blocks themselves.
 *
 * Merging. Each isolate (the main module, a Worker, a test file) writes
 * parts. A part written at the end of an isolate, on a signal, on an error,
 * or as a Worker's checkpoint is a *snapshot* of its open heaps: the newest
 * complete snapshot of an isolate replaces the older ones. A part written
 * when a heap was closed or collected with live blocks is an *event*: all
 * of them count, and an event for a heap removes that heap from its
 * isolate's snapshot (an older checkpoint may still list it as open).
 *
 * Pages. For each page the model keeps a summary (family, blocks, free
 * blocks, bytes in use, largest hole, live blocks); pages are also grouped
 * by family, occupancy (tenths of the page in use) and number of holes. The
 * blocks themselves are kept for every page of a heap with at most
 * {@link FULL_DETAIL_BLOCKS} blocks, and otherwise for the first pages of
 * each group (at most {@link DETAIL_BLOCKS} blocks in all), and never more
 * than {@link MODEL_DETAIL_BLOCKS} over all heaps, so memory stays bounded
 * however large the heaps and however many.
 *
 * @module
 */

import type {
  BlockTuple,
  HeapRecord,
  LeaksRecord,
  PartReason,
  PartRecord,
  ProgramInfo,
  ReportRecord,
  StackFrame,
  TimelineRecord,
} from "../ffi/report_types.ts";
import { commandLine } from "./format.ts";
import type { RecordSink } from "./report_file.ts";

/** A heap with at most this many blocks keeps every block for the map. */
export const FULL_DETAIL_BLOCKS = 20_000;
/** Blocks kept for example pages of a larger heap, at most. */
export const DETAIL_BLOCKS = 60_000;
/** Blocks kept over all heaps, at most (a report of thousands of small heaps). */
export const MODEL_DETAIL_BLOCKS = 200_000;
/** Example pages kept per group. */
const EXAMPLES_PER_GROUP = 2;
/** A page with more blocks than this keeps none (it would not be drawn). */
const PAGE_DETAIL_MAX = 20_000;

/** Per-page figures, as parallel arrays (index = page number in the heap). */
export interface PageSummaries {
  count: number;
  base: number[];
  size: number[];
  family: number[];
  blocks: number[];
  freeBlocks: number[];
  /** Data bytes of live blocks. */
  usedBytes: number[];
  /** Data bytes of free blocks. */
  freeBytes: number[];
  largestFree: number[];
  /** Live blocks that are indirect leaks. */
  indirect: number[];
  /** The page's group (index into {@link HeapModel.groups}). */
  group: number[];
}

/** Pages alike: one family, the same tenth of occupancy, a similar number of holes. */
export interface PageGroup {
  family: number;
  /** Tenths of the page in use by live blocks (0–10). */
  decile: number;
  /** Holes: the bucket's lower bound (0, 1, 2, 4, 8, 16). */
  holes: number;
  pages: number;
  blocks: number;
  freeBlocks: number;
  usedBytes: number;
  bytes: number;
  /** Page numbers whose blocks are kept, as examples. */
  examples: number[];
}

/** One heap of the merged report. */
export interface HeapModel {
  /** `<isolate>:<heap id>`. */
  key: string;
  /** The isolate it lived in, and what wrote its part. */
  isolate: string;
  program: ProgramInfo;
  reason: PartReason;
  heap: HeapRecord;
  leaks: LeaksRecord | null;
  pages: PageSummaries;
  groups: PageGroup[];
  /** Blocks of some pages (all of them for small heaps), by page number. */
  detail: Map<number, BlockTuple[]>;
  /** Blocks listed in the file. */
  blockCount: number;
  /** Blocks kept in {@link HeapModel.detail}. */
  detailBlocks: number;
  /** The stacks of its isolate. */
  stacks: Map<number, StackFrame[]>;
}

/** A timeline of one isolate. */
export interface TimelineModel {
  isolate: string;
  program: ProgramInfo;
  record: TimelineRecord;
}

/** The merged report. */
export interface ReportModel {
  /** Programs (isolates) whose parts were kept, in file order. */
  programs: ProgramInfo[];
  heaps: HeapModel[];
  timelines: TimelineModel[];
  /** What was found wrong but could be worked around (incomplete parts). */
  warnings: string[];
  /** Parts read. */
  parts: number;
}

interface PartState {
  header: PartRecord;
  heaps: HeapModel[];
  byId: Map<number, HeapModel>;
  timeline: TimelineRecord | null;
  complete: boolean;
  /** The page being read (its blocks may continue in the next record). */
  open: OpenPage | null;
}

interface OpenPage {
  heap: HeapModel;
  index: number;
  tuples: BlockTuple[] | null;
  keep: boolean;
}

const SNAPSHOTS: readonly PartReason[] = ["exit", "error", "signal", "checkpoint", "write"];

/** Builds a {@link ReportModel} from records as they are read. */
export class ModelBuilder implements RecordSink {
  #part: PartState | null = null;
  /** Newest complete snapshot part per isolate. */
  readonly #snapshots = new Map<string, PartState>();
  /** Incomplete snapshot parts, per isolate (used when no complete one exists). */
  readonly #partial = new Map<string, PartState>();
  readonly #events: PartState[] = [];
  readonly #stacks = new Map<string, Map<number, StackFrame[]>>();
  readonly #order: string[] = [];
  readonly #warnings: string[] = [];
  readonly #groupIndex = new WeakMap<HeapModel, Map<string, number>>();
  #parts = 0;
  /** Blocks kept in the details of every heap. */
  #kept = 0;

  record(record: ReportRecord): void {
    if (record.type === "part") {
      this.#finishPart();
      this.#parts++;
      this.#part = {
        header: record,
        heaps: [],
        byId: new Map(),
        timeline: null,
        complete: false,
        open: null,
      };
      if (!this.#order.includes(record.isolate)) this.#order.push(record.isolate);
      return;
    }
    const part = this.#part!;
    switch (record.type) {
      case "stack":
        this.#stacksOf(part.header.isolate).set(record.id, record.frames);
        return;
      case "heap": {
        this.#closePage(part);
        const heap: HeapModel = {
          key: `${part.header.isolate}:${record.id}`,
          isolate: part.header.isolate,
          program: part.header.program,
          reason: part.header.reason,
          heap: record,
          leaks: null,
          pages: emptyPages(),
          groups: [],
          detail: new Map(),
          blockCount: 0,
          detailBlocks: 0,
          stacks: this.#stacksOf(part.header.isolate),
        };
        part.heaps.push(heap);
        part.byId.set(record.id, heap);
        return;
      }
      case "pages": {
        const heap = part.byId.get(record.heap);
        if (heap === undefined) return;
        for (const page of record.pages) this.#addPage(part, heap, page);
        return;
      }
      case "leaks": {
        this.#closePage(part);
        const heap = part.byId.get(record.heap);
        if (heap !== undefined) heap.leaks = record;
        return;
      }
      case "timeline":
        part.timeline = record;
        return;
      case "end":
        this.#closePage(part);
        part.complete = true;
        this.#finishPart();
        return;
    }
  }

  truncated(): void {
    // The part stays incomplete; #finishPart says so.
  }

  /**
   * The merged report.
   *
   * @returns The model.
   */
  finish(): ReportModel {
    this.#finishPart();
    const kept: PartState[] = [];
    for (const isolate of this.#order) {
      const snapshot = this.#snapshots.get(isolate) ?? this.#partial.get(isolate);
      if (snapshot !== undefined) kept.push(snapshot);
    }
    const closed = new Set<string>();
    for (const event of this.#events) for (const heap of event.heaps) closed.add(heap.key);
    const heaps: HeapModel[] = [];
    const timelines: TimelineModel[] = [];
    const programs: ProgramInfo[] = [];
    const seen = new Set<string>();
    const note = (part: PartState): void => {
      if (seen.has(part.header.isolate)) return;
      seen.add(part.header.isolate);
      programs.push(part.header.program);
    };
    for (const part of kept) {
      note(part);
      heaps.push(...part.heaps.filter((heap) => !closed.has(heap.key)));
      if (part.timeline !== null) {
        timelines.push({
          isolate: part.header.isolate,
          program: part.header.program,
          record: part.timeline,
        });
      }
    }
    for (const event of this.#events) {
      note(event);
      heaps.push(...event.heaps);
    }
    return { programs, heaps, timelines, warnings: this.#warnings, parts: this.#parts };
  }

  #stacksOf(isolate: string): Map<number, StackFrame[]> {
    let stacks = this.#stacks.get(isolate);
    if (stacks === undefined) {
      stacks = new Map();
      this.#stacks.set(isolate, stacks);
    }
    return stacks;
  }

  #finishPart(): void {
    const part = this.#part;
    if (part === null) return;
    this.#part = null;
    this.#closePage(part);
    const { isolate, reason, seq } = part.header;
    if (!part.complete) {
      this.#warnings.push(
        `the part ${seq} of ${describe(part.header.program)} is incomplete ` +
          `(its writer was stopped while writing it)`,
      );
    }
    if (!SNAPSHOTS.includes(reason)) {
      this.#events.push(part);
      return;
    }
    const table = part.complete ? this.#snapshots : this.#partial;
    const older = table.get(isolate);
    if (older === undefined || older.header.seq < seq) table.set(isolate, part);
  }

  #addPage(part: PartState, heap: HeapModel, page: PagesEntry): void {
    const pages = heap.pages;
    const continues = page.first > 0 && part.open !== null && part.open.heap === heap &&
      pages.base[part.open.index] === parseInt(page.base, 16);
    if (!continues) {
      this.#closePage(part);
      const index = pages.count++;
      pages.base.push(parseInt(page.base, 16));
      pages.size.push(page.size);
      pages.family.push(page.family);
      for (const column of [pages.blocks, pages.freeBlocks, pages.usedBytes, pages.freeBytes]) {
        column.push(0);
      }
      pages.largestFree.push(0);
      pages.indirect.push(0);
      pages.group.push(-1);
      const keepAll = heap.heap.totals.totalBlocks <= FULL_DETAIL_BLOCKS;
      part.open = { heap, index, tuples: [], keep: keepAll };
    }
    const open = part.open!;
    const i = open.index;
    for (const block of page.blocks) {
      const [, size, requested, , kind] = block;
      pages.blocks[i]++;
      if (requested === 0) {
        pages.freeBlocks[i]++;
        pages.freeBytes[i] += size;
        if (size > pages.largestFree[i]) pages.largestFree[i] = size;
      } else {
        pages.usedBytes[i] += size;
        if (kind === 2) pages.indirect[i]++;
      }
    }
    heap.blockCount += page.blocks.length;
    if (open.tuples !== null) {
      if (open.tuples.length + page.blocks.length > PAGE_DETAIL_MAX) open.tuples = null;
      else for (const block of page.blocks) open.tuples.push(block);
    }
  }

  /** Ends the page being read: its group, and whether its blocks are kept. */
  #closePage(part: PartState): void {
    const open = part.open;
    if (open === null) return;
    part.open = null;
    const { heap, index } = open;
    const pages = heap.pages;
    const decile = Math.min(10, Math.round((10 * pages.usedBytes[index]) / pages.size[index]));
    const holes = holeBucket(pages.freeBlocks[index]);
    const family = pages.family[index];
    let groupIndex = this.#groupIndex.get(heap);
    if (groupIndex === undefined) {
      groupIndex = new Map();
      this.#groupIndex.set(heap, groupIndex);
    }
    const groupKey = `${family}:${decile}:${holes}`;
    let g = groupIndex.get(groupKey) ?? -1;
    if (g < 0) {
      g = heap.groups.length;
      groupIndex.set(groupKey, g);
      heap.groups.push({
        family,
        decile,
        holes,
        pages: 0,
        blocks: 0,
        freeBlocks: 0,
        usedBytes: 0,
        bytes: 0,
        examples: [],
      });
    }
    const group = heap.groups[g];
    group.pages++;
    group.blocks += pages.blocks[index];
    group.freeBlocks += pages.freeBlocks[index];
    group.usedBytes += pages.usedBytes[index];
    group.bytes += pages.size[index];
    pages.group[index] = g;
    if (open.tuples === null) return;
    const keep = this.#kept + open.tuples.length <= MODEL_DETAIL_BLOCKS && (open.keep ||
      (group.examples.length < EXAMPLES_PER_GROUP &&
        heap.detailBlocks + open.tuples.length <= DETAIL_BLOCKS));
    if (keep) {
      heap.detail.set(index, open.tuples);
      heap.detailBlocks += open.tuples.length;
      this.#kept += open.tuples.length;
      if (group.examples.length < EXAMPLES_PER_GROUP) group.examples.push(index);
    }
  }
}

type PagesEntry = Extract<ReportRecord, { type: "pages" }>["pages"][number];

function emptyPages(): PageSummaries {
  return {
    count: 0,
    base: [],
    size: [],
    family: [],
    blocks: [],
    freeBlocks: [],
    usedBytes: [],
    freeBytes: [],
    largestFree: [],
    indirect: [],
    group: [],
  };
}

/** The lower bound of a page's bucket of holes: 0, 1, 2–3, 4–7, 8–15, 16+. */
function holeBucket(holes: number): number {
  if (holes < 2) return holes;
  return Math.min(16, 2 ** Math.floor(Math.log2(holes)));
}

/**
 * A short name for an isolate: the Worker's name and script, or the main
 * module.
 *
 * @param program The part's program info.
 * @returns For example `worker "w1" (file:///app/w.ts)`, `file:///app/main.ts`, or the
 *   command line when the main module is not known.
 */
export function describe(program: ProgramInfo): string {
  const main = program.main ??
    (program.argv.length > 0 ? commandLine(program.argv) : `pid ${program.pid}`);
  return program.worker === null
    ? main
    : `worker ${program.worker === "" ? "" : `${JSON.stringify(program.worker)} `}(${main})`;
}
