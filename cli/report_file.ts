/**
 * Reading a report document: parse, check the schema tag and version, and
 * check the shape of every field the renderers use, so that a corrupt or
 * foreign file gets one clear sentence instead of a stack trace.
 *
 * @module
 */

import { type Report, REPORT_SCHEMA, REPORT_VERSION } from "../ffi/report_types.ts";

/** A report that cannot be used; the message names the file and the reason. */
export class ReportError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReportError";
  }
}

/**
 * Reads and checks a report file (`-` reads standard input).
 *
 * @param path The file.
 * @returns The report.
 * @throws {ReportError} When the file is missing, unreadable or not a report
 * of this version.
 */
export async function readReport(path: string): Promise<Report> {
  let text: string;
  try {
    text = path === "-"
      ? await new Response(Deno.stdin.readable).text()
      : await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new ReportError(`cannot read report ${path}: ${reason}`, {
      cause: error,
    });
  }
  return parseReport(text, path === "-" ? "<stdin>" : path);
}

/**
 * Parses and checks a report document.
 *
 * @param text The JSON text.
 * @param source Where it came from, for messages.
 * @returns The report.
 * @throws {ReportError} When it is not a report of {@link REPORT_VERSION}.
 */
export function parseReport(text: string, source: string): Report {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    const what = text.trim() === "" ? "it is empty" : "it is not valid JSON";
    throw new ReportError(`${source} is not an LMM report: ${what}`, {
      cause: error,
    });
  }
  if (!isObject(doc) || doc.schema !== REPORT_SCHEMA) {
    throw new ReportError(
      `${source} is not an LMM report: no "schema": "${REPORT_SCHEMA}"`,
    );
  }
  if (doc.version !== REPORT_VERSION) {
    throw new ReportError(
      `${source} is report version ${
        JSON.stringify(doc.version)
      }; this lmm reads version ${REPORT_VERSION}`,
    );
  }
  const problem = checkReport(doc, "");
  if (problem) {
    throw new ReportError(`${source} is a damaged LMM report: ${problem}`);
  }
  return doc as unknown as Report;
}

type Obj = Record<string, unknown>;
type Check = (value: unknown, path: string) => string | null;

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const num: Check = (v, p) =>
  typeof v === "number" && Number.isFinite(v) ? null : `${p} is not a number`;
const str: Check = (v, p) => typeof v === "string" ? null : `${p} is not a string`;
const bool: Check = (v, p) => typeof v === "boolean" ? null : `${p} is not true or false`;
const strOrNull: Check = (v, p) =>
  v === null || typeof v === "string" ? null : `${p} is not a string or null`;

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

const checkReport = object({
  generatedAt: str,
  program: object({ pid: num, argv: array(str), runtime: str }),
  heaps: array(object({
    id: num,
    label: str,
    pageSize: num,
    trackSites: bool,
    totals: object({ ...statsFields, families: num }),
    families: array(
      object({ ...statsFields, id: num, name: str, structSize: num }),
    ),
    pages: array(object({
      base: str,
      size: num,
      family: num,
      blocks: array(object({
        offset: num,
        size: num,
        requested: num,
        free: bool,
        site: strOrNull,
      })),
    })),
    leaks: object({
      blocks: num,
      bytes: num,
      byFamily: array(object({ family: str, count: num, bytes: num })),
      bySite: array(
        object({ site: str, family: str, count: num, bytes: num }),
      ),
    }),
  })),
});
