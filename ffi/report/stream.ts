/**
 * Writing report files as a stream of JSON Lines (see `report_types.ts`):
 * a part is written record by record into a fixed 1 MiB buffer that is
 * flushed as it fills, so a heap of millions of blocks never becomes one
 * string. A page's blocks go out in records of at most
 * {@link BLOCKS_PER_RECORD} blocks, which bounds every line.
 *
 * Parts are appended to the file under an exclusive lock (`flock`), so the
 * isolates of a program (Workers, the test files of `deno test`) and several
 * processes can share one report file.
 *
 * @module
 */

import {
  type PartRecord,
  REPORT_SCHEMA,
  REPORT_VERSION,
  type TimelineRecord,
} from "../report_types.ts";
import { stackFrames } from "../sites.ts";
import type { HeapData } from "./snapshot.ts";

/** Most blocks in one `pages` record. */
export const BLOCKS_PER_RECORD = 4096;

/** Something that takes bytes synchronously (a file, stdout). */
export interface SyncSink {
  writeSync(p: Uint8Array): number;
}

/** Buffers lines and writes them to a sink in large chunks. */
export class LineWriter {
  readonly #sink: SyncSink;
  readonly #buffer: Uint8Array;
  readonly #encoder = new TextEncoder();
  #used = 0;
  /** Bytes written so far (flushed or buffered). */
  bytes = 0;

  /**
   * @param sink Where the bytes go.
   * @param capacity The buffer's size (default 1 MiB).
   */
  constructor(sink: SyncSink, capacity: number = 1 << 20) {
    this.#sink = sink;
    this.#buffer = new Uint8Array(capacity);
  }

  /**
   * Adds one line (a newline is appended).
   *
   * @param text The line, without its newline.
   */
  line(text: string): void {
    const worst = text.length * 3 + 1;
    if (worst > this.#buffer.length - this.#used) this.flush();
    if (worst > this.#buffer.length) {
      const bytes = this.#encoder.encode(text + "\n");
      writeFully(this.#sink, bytes);
      this.bytes += bytes.length;
      return;
    }
    const { written } = this.#encoder.encodeInto(text, this.#buffer.subarray(this.#used));
    this.#used += written;
    this.#buffer[this.#used++] = 10;
    this.bytes += written + 1;
  }

  /** Writes out what is buffered. */
  flush(): void {
    writeFully(this.#sink, this.#buffer.subarray(0, this.#used));
    this.#used = 0;
  }
}

function writeFully(sink: SyncSink, bytes: Uint8Array): void {
  let rest = bytes;
  while (rest.length > 0) rest = rest.subarray(sink.writeSync(rest));
}

/** What a part holds. */
export interface PartContent {
  header: Omit<PartRecord, "type" | "schema" | "version">;
  heaps: readonly HeapData[];
  timeline: TimelineRecord | null;
}

/**
 * Writes one part: its header, the stacks its heaps use, each heap (heap,
 * pages, leaks records), the timeline, and the end record.
 *
 * @param w The writer.
 * @param part The content.
 */
export function writePart(w: LineWriter, part: PartContent): void {
  const header: PartRecord = {
    type: "part",
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    ...part.header,
  };
  // A fresh line first: if a writer killed mid-line left a partial record,
  // this part still starts on a line of its own.
  w.line("");
  w.line(JSON.stringify(header));
  // Every live block's stack is the stack of one of its heap's leak groups.
  const used = new Set<number>();
  for (const heap of part.heaps) {
    for (const group of heap.leaks.byStack) if (group.stackId !== 0) used.add(group.stackId);
  }
  for (const id of [...used].sort((a, b) => a - b)) {
    w.line(JSON.stringify({ type: "stack", id, frames: stackFrames(id) }));
  }
  for (const heap of part.heaps) writeHeap(w, heap);
  if (part.timeline !== null) w.line(JSON.stringify(part.timeline));
  w.line(JSON.stringify({ type: "end", seq: part.header.seq }));
}

function writeHeap(w: LineWriter, snap: HeapData): void {
  const id = snap.heap.id;
  w.line(JSON.stringify({ type: "heap", ...snap.heap }));
  const blocks = snap.blocks;
  const head = `{"type":"pages","heap":${id},"pages":[`;
  let record = head;
  let inRecord = 0;
  let pagesInRecord = 0;
  const close = (): void => {
    w.line(record + "]}");
    record = head;
    inRecord = 0;
    pagesInRecord = 0;
  };
  for (const page of blocks === null ? [] : snap.pages) {
    let next = page.first;
    const end = page.first + page.count;
    do {
      if (inRecord === BLOCKS_PER_RECORD) close();
      const take = Math.min(end - next, BLOCKS_PER_RECORD - inRecord);
      let tuples = "";
      for (let i = next; i < next + take; i++) {
        tuples += `${tuples === "" ? "" : ","}[${blocks!.address[i] - page.base},${
          blocks!.size[i]
        },${blocks!.requested[i]},${blocks!.stack[i]},${blocks!.kind[i]}]`;
      }
      record += `${pagesInRecord === 0 ? "" : ","}{"base":"0x${
        page.base.toString(16)
      }","size":${page.size},"family":${page.family},"first":${
        next - page.first
      },"blocks":[${tuples}]}`;
      pagesInRecord++;
      inRecord += take;
      next += take;
    } while (next < end);
  }
  if (pagesInRecord > 0) close();
  w.line(JSON.stringify({ type: "leaks", heap: id, ...snap.leaks }));
}

/**
 * Appends one part to a report file under an exclusive lock.
 *
 * @param path The report file (created when missing).
 * @param part The content.
 * @returns Bytes written.
 * @throws {Error} When the file cannot be opened or written (permission
 *   errors pass through unchanged).
 */
export function appendPart(path: string, part: PartContent): number {
  const file = Deno.openSync(path, { append: true, create: true });
  try {
    file.lockSync(true);
    const w = new LineWriter(file);
    writePart(w, part);
    w.flush();
    return w.bytes;
  } finally {
    file.close();
  }
}
