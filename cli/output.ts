/**
 * Where a rendered report goes: text on standard output, the JSON Lines
 * records on standard output (copied as they are read), HTML into a file
 * (written whole or not at all). Shared by `lmm run` and `lmm report`.
 *
 * @module
 */

import { dirname } from "node:path";
import type { ReportRecord } from "../ffi/report_types.ts";
import { LineWriter } from "../ffi/report/stream.ts";
import { paletteFor } from "./color.ts";
import { formatBytes, plural } from "./format.ts";
import { ModelBuilder, type ReportModel } from "./model.ts";
import { renderHtml } from "./render/html.ts";
import { renderText } from "./render/text.ts";
import { readReportFile, type RecordSink } from "./report_file.ts";

/** The output a command was asked for. */
export type Output =
  | { format: "text" }
  | { format: "json" }
  | { format: "html"; path: string };

/** An output file that could not be written (exit 1). */
export class OutputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OutputError";
  }
}

/**
 * Picks the output from parsed flags.
 *
 * @param values `json` (boolean) and `html` (a path) as parsed.
 * @returns The output.
 */
export function outputFrom(
  values: Record<string, string | boolean | undefined>,
): Output {
  if (typeof values.html === "string") {
    return { format: "html", path: values.html };
  }
  return { format: values.json ? "json" : "text" };
}

/** A sink that builds the model and, for JSON output, copies each line to stdout. */
class ReadSink implements RecordSink {
  readonly builder = new ModelBuilder();
  readonly #copy: LineWriter | null;

  constructor(copy: boolean) {
    this.#copy = copy ? new LineWriter(Deno.stdout) : null;
  }

  record(record: ReportRecord, line: string): void {
    this.builder.record(record);
    this.#copy?.line(line);
  }

  truncated(): void {
    this.builder.truncated();
  }

  flush(): void {
    this.#copy?.flush();
  }
}

/**
 * Reads a report file and renders it: JSON lines are copied to stdout as
 * they are read; text and HTML are rendered from the merged model.
 *
 * @param path The report file (`-`: stdin).
 * @param output Where it goes.
 * @param top Heaps, families and stacks shown per kind in text.
 * @returns The merged model (for exit statuses).
 * @throws {ReportError} When the file is not a usable report.
 * @throws {OutputError} When the HTML file cannot be written.
 */
export async function renderReportFile(
  path: string,
  output: Output,
  top?: number,
): Promise<ReportModel> {
  const sink = new ReadSink(output.format === "json");
  try {
    await readReportFile(path, sink);
  } finally {
    sink.flush();
  }
  const model = sink.builder.finish();
  switch (output.format) {
    case "json":
      for (const warning of model.warnings) console.error(`lmm: note: ${warning}`);
      break;
    case "text":
      await writeAll(Deno.stdout, renderText(model, { color: paletteFor(Deno.stdout), top }));
      break;
    case "html": {
      const html = renderHtml(model);
      await writeFileAtomic(output.path, html);
      const pages = model.heaps.reduce((n, h) => n + h.pages.count, 0);
      const blocks = model.heaps.reduce((n, h) => n + h.blockCount, 0);
      console.error(
        `lmm: wrote ${output.path} (${formatBytes(new TextEncoder().encode(html).length)}: ${
          plural(model.heaps.length, "heap")
        }, ${plural(pages, "page")}, ${plural(blocks, "block")})`,
      );
      break;
    }
  }
  return model;
}

/**
 * Writes a text file whole or not at all.
 *
 * @param path The file.
 * @param text Its content.
 * @throws {OutputError} When it cannot be written.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
): Promise<void> {
  const temp = `${dirname(path)}/.${crypto.randomUUID()}.lmm-tmp`;
  try {
    await Deno.writeTextFile(temp, text);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    const reason = error instanceof Deno.errors.NotFound
      ? "no such directory"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : (error as Error).message;
    throw new OutputError(`cannot write ${path}: ${reason}`, { cause: error });
  }
}

/**
 * Writes all of `text` to a stream of this process.
 *
 * @param stream `Deno.stdout` or `Deno.stderr`.
 * @param text The text.
 */
export async function writeAll(
  stream: { write(p: Uint8Array): Promise<number> },
  text: string,
): Promise<void> {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(await stream.write(bytes));
}
