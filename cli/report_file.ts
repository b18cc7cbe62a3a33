/**
 * Reading report files: JSON Lines, read as a stream in 1 MiB chunks, each
 * line parsed and its shape checked on its own, so that a report of
 * millions of blocks never becomes one string and a damaged or foreign file
 * gets one clear sentence (with its line number) instead of a stack trace.
 *
 * A line cut short (not valid JSON) is what a writer killed mid-write
 * leaves: it is not an error, the part it belongs to is marked incomplete
 * and the next record must open a new part (writers start every part on a
 * fresh line for this).
 *
 * @module
 */

import { printable } from "../ffi/report/escape.ts";
import { REPORT_SCHEMA, REPORT_VERSION, type ReportRecord } from "../ffi/report_types.ts";

/** A report that cannot be used; the message names the file and the reason. */
export class ReportError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReportError";
  }
}

/** Receives the records of a report, in file order. */
export interface RecordSink {
  /** A checked record; `line` is its text (without newline). */
  record(record: ReportRecord, line: string): void;
  /** The last line was cut short (its part is incomplete). */
  truncated(): void;
}

/**
 * Reads a report file (`-`: standard input) into `sink`.
 *
 * @param path The file.
 * @param sink Receives the records.
 * @throws {ReportError} When the file is missing, unreadable, not a report
 *   of this version, or damaged.
 */
export async function readReportFile(path: string, sink: RecordSink): Promise<void> {
  const source = path === "-" ? "<stdin>" : path;
  let stream: ReadableStream<Uint8Array>;
  let close = (): void => {};
  try {
    if (path === "-") {
      stream = Deno.stdin.readable;
    } else {
      const file = await Deno.open(path);
      const info = await file.stat();
      if (info.isDirectory) {
        file.close();
        throw new Deno.errors.IsADirectory(path);
      }
      stream = file.readable;
      close = () => {
        try {
          file.close();
        } catch { /* closed by the stream */ }
      };
    }
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new ReportError(`cannot read report ${path}: ${reason}`, { cause: error });
  }
  try {
    await readRecords(stream, source, sink);
  } finally {
    close();
  }
}

/**
 * Reads JSON Lines records from a byte stream.
 *
 * @param stream The bytes.
 * @param source The file's name, for messages.
 * @param sink Receives the records.
 * @throws {ReportError} On anything but a report of this version.
 */
export async function readRecords(
  stream: ReadableStream<Uint8Array>,
  source: string,
  sink: RecordSink,
): Promise<void> {
  const reader = new LineReader(source, sink);
  const decoder = new TextDecoder();
  for await (const chunk of stream) reader.push(decoder.decode(chunk, { stream: true }));
  reader.push(decoder.decode());
  reader.end();
}

/**
 * Parses and checks report text already in memory (small reports, tests).
 *
 * @param text The JSON Lines text.
 * @param source Where it came from, for messages.
 * @param sink Receives the records.
 * @throws {ReportError} On anything but a report of this version.
 */
export function parseReportText(text: string, source: string, sink: RecordSink): void {
  const reader = new LineReader(source, sink);
  reader.push(text);
  reader.end();
}

/** Splits text into lines and hands each to the checks. */
class LineReader {
  readonly #source: string;
  readonly #sink: RecordSink;
  #rest = "";
  /** The start of the input, to recognise a report of another version. */
  #head = "";
  #line = 0;
  #seen = 0;
  /** After a line cut short (its number): the next record must open a part. */
  #cutLine = 0;

  constructor(source: string, sink: RecordSink) {
    this.#source = source;
    this.#sink = sink;
  }

  push(text: string): void {
    if (this.#head.length < 4096) this.#head += text.slice(0, 4096);
    let start = 0;
    const all = this.#rest === "" ? text : this.#rest + text;
    for (let nl = all.indexOf("\n"); nl >= 0; nl = all.indexOf("\n", start)) {
      this.#take(all.slice(start, nl), true);
      start = nl + 1;
    }
    this.#rest = all.slice(start);
  }

  end(): void {
    if (this.#rest.trim() !== "") this.#take(this.#rest, false);
    this.#rest = "";
    if (this.#seen === 0) {
      throw new ReportError(`${this.#source} is not an LMM report: it is empty`);
    }
  }

  #take(line: string, complete: boolean): void {
    this.#line++;
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      if (this.#seen === 0) throw this.#notReport(error);
      this.#sink.truncated();
      if (complete) this.#cutLine = this.#line;
      return;
    }
    if (this.#seen === 0) checkFirst(value, this.#source);
    if (this.#cutLine !== 0 && (value as Obj)?.type !== "part") {
      throw new ReportError(
        `${this.#source} is a damaged LMM report: line ${this.#cutLine} is not valid JSON`,
      );
    }
    this.#cutLine = 0;
    const problem = checkRecord(value);
    if (problem !== null) {
      throw new ReportError(
        `${this.#source} is a damaged LMM report: line ${this.#line}: ${problem}`,
      );
    }
    this.#seen++;
    this.#sink.record(value as ReportRecord, line);
  }

  /** The error for a first line that is not JSON: an old report, or not a report at all. */
  #notReport(error: unknown): ReportError {
    const head = this.#head;
    const version = /"version"\s*:\s*(\d+)/.exec(head);
    if (/"schema"\s*:\s*"lmm-report"/.test(head) && version !== null) {
      if (Number(version[1]) !== REPORT_VERSION) {
        return versionError(this.#source, Number(version[1]));
      }
      return new ReportError(
        `${this.#source} is an LMM report cut short in its first line ` +
          `(its writer was stopped while writing it)`,
        { cause: error },
      );
    }
    return new ReportError(`${this.#source} is not an LMM report: it is not valid JSON`, {
      cause: error,
    });
  }
}

function versionError(source: string, version: unknown): ReportError {
  return new ReportError(
    `${source} is report version ${
      JSON.stringify(version)
    }; this lmm reads version ${REPORT_VERSION}`,
  );
}

/** The first record must be a part header of this schema and version. */
function checkFirst(value: unknown, source: string): void {
  if (!isObject(value) || value.schema !== REPORT_SCHEMA) {
    throw new ReportError(`${source} is not an LMM report: no "schema": "${REPORT_SCHEMA}"`);
  }
  if (value.version !== REPORT_VERSION) throw versionError(source, value.version);
  if (value.type !== "part") {
    throw new ReportError(`${source} is a damaged LMM report: it does not start with a part`);
  }
}

// ── Shape checks ────────────────────────────────────────────────────────────

type Obj = Record<string, unknown>;
type Check = (value: unknown, path: string) => string | null;

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const num: Check = (v, p) =>
  typeof v === "number" && Number.isFinite(v) ? null : `${p} is not a number`;
const str: Check = (v, p) => typeof v === "string" ? null : `${p} is not a string`;
const strOrNull: Check = (v, p) =>
  v === null || typeof v === "string" ? null : `${p} is not a string or null`;

function oneOf(...values: string[]): Check {
  return (v, p) =>
    typeof v === "string" && values.includes(v) ? null : `${p} is not one of ${values.join(", ")}`;
}

function object(fields: Record<string, Check>): Check {
  return (value, path) => {
    if (!isObject(value)) return `${path} is not an object`;
    for (const [key, check] of Object.entries(fields)) {
      const problem = check(value[key], path ? `${path}.${key}` : key);
      if (problem) return problem;
    }
    return null;
  };
}

function orNull(check: Check): Check {
  return (v, p) => v === null ? null : check(v, p);
}

/** A field that files written before it existed do not have. */
function optional(check: Check): Check {
  return (v, p) => v === undefined ? null : check(v, p);
}

function array(item: Check): Check {
  return (value, path) => {
    if (!Array.isArray(value)) return `${path} is not an array`;
    for (let i = 0; i < value.length; i++) {
      const problem = item(value[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return null;
  };
}

/** An array of `length` numbers. */
function tuple(length: number): Check {
  return (value, path) => {
    if (!Array.isArray(value) || value.length !== length) {
      return `${path} is not ${length} numbers`;
    }
    for (const v of value) {
      if (typeof v !== "number" || !Number.isFinite(v)) return `${path} is not ${length} numbers`;
    }
    return null;
  };
}

const tally = object({ count: num, bytes: num });

/** Nesting a decoded value may have (a layout's structs in structs, bounded by the sample's text). */
const DECODED_DEPTH = 64;

/** A value of `Layout.decode`: a number, string, boolean, or an array or object of them. */
function decoded(depth: number): Check {
  return (v, p) => {
    if (typeof v === "string" || typeof v === "boolean") return null;
    if (typeof v === "number") return num(v, p);
    if (depth === DECODED_DEPTH) return `${p} is nested more than ${DECODED_DEPTH} deep`;
    if (Array.isArray(v)) return array(decoded(depth + 1))(v, p);
    if (!isObject(v)) return `${p} is not a number, string, boolean, array or object`;
    return decodedFields(depth + 1)(v, p);
  };
}

/** Decoded fields: an object of decoded values. */
function decodedFields(depth: number): Check {
  return (v, p) => {
    if (!isObject(v)) return `${p} is not an object`;
    for (const [key, value] of Object.entries(v)) {
      const problem = decoded(depth)(value, `${p}.${printable(key)}`);
      if (problem) return problem;
    }
    return null;
  };
}

const sample = object({ address: num, fields: decodedFields(0), text: str });

const statsFields: Record<string, Check> = {
  pages: num,
  bytesMapped: num,
  totalBlocks: num,
  freeBlocks: num,
  occupiedBlocks: num,
  appBytes: num,
  peakBytes: num,
  occupiedBytes: num,
  freeBytes: num,
  headerBytes: num,
  largestFreeBlock: num,
  hardFragBytes: num,
  softFragBlocks: num,
  softFragBytes: num,
  externalFragmentation: num,
  allocCount: num,
  freeCount: num,
};

const fragmentation = object({
  typicalRequest: num,
  holes: num,
  tooSmallHoles: num,
  tooSmallBytes: num,
  external: num,
});

const program = object({
  pid: num,
  argv: array(str),
  runtime: str,
  main: strOrNull,
  worker: strOrNull,
});

const frame: Check = object({ fn: strOrNull, file: str, line: num, col: num });

const checks: Record<string, Check> = {
  part: object({
    isolate: str,
    seq: num,
    reason: oneOf("exit", "error", "signal", "checkpoint", "close", "collect", "write"),
    generatedAt: str,
    program,
  }),
  stack: object({ id: num, frames: array(frame) }),
  heap: object({
    id: num,
    label: str,
    state: oneOf("open", "closed", "collected"),
    pageSize: num,
    metaBlockSize: num,
    sites: orNull(object({ mode: oneOf("all", "sample", "none"), depth: num, interval: num })),
    totals: object({ ...statsFields, families: num, fragmentation }),
    families: array(object({ ...statsFields, id: num, name: str, structSize: num, fragmentation })),
  }),
  pages: object({
    heap: num,
    pages: array(
      object({ base: str, size: num, family: num, first: num, blocks: array(tuple(5)) }),
    ),
  }),
  leaks: object({
    heap: num,
    blocks: num,
    bytes: num,
    direct: tally,
    indirect: tally,
    unsampled: tally,
    byFamily: array(object({ family: str, count: num, bytes: num, indirect: tally })),
    byStack: array(object({
      stackId: num,
      family: str,
      kind: oneOf("direct", "indirect"),
      count: num,
      bytes: num,
      estimatedCount: num,
      estimatedBytes: num,
      examples: array(tuple(2)),
      samples: optional(array(sample)),
    })),
  }),
  timeline: object({ start: str, points: array(tuple(4)) }),
  end: object({ seq: num }),
};

/**
 * Checks one record's shape.
 *
 * @param value A parsed line.
 * @returns What is wrong with it, or null.
 */
export function checkRecord(value: unknown): string | null {
  if (!isObject(value)) return "it is not an object";
  const check = typeof value.type === "string" ? checks[value.type] : undefined;
  if (check === undefined) return `unknown record type ${JSON.stringify(value.type)}`;
  return check(value, value.type as string);
}
