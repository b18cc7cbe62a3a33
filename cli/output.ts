/**
 * Where a rendered report goes: text or JSON on standard output, HTML into a
 * file (written whole or not at all). Shared by `lmm run` and `lmm report`.
 *
 * @module
 */

import { dirname } from "node:path";
import type { Report } from "../ffi/report_types.ts";
import { paletteFor } from "./color.ts";
import { formatBytes, plural } from "./format.ts";
import { blockCount, renderHtml } from "./render_html.ts";
import { renderText } from "./render_text.ts";

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

/**
 * Renders `report` to its output. HTML is written to a temporary file beside
 * the target and renamed into place, so a failure leaves nothing behind; one
 * line on stderr says what was written.
 *
 * @param report The report.
 * @param output Where it goes.
 * @throws {OutputError} When the HTML file cannot be written.
 */
export async function writeReport(
  report: Report,
  output: Output,
): Promise<void> {
  switch (output.format) {
    case "text":
      await writeAll(Deno.stdout, renderText(report, paletteFor(Deno.stdout)));
      return;
    case "json":
      await writeAll(Deno.stdout, JSON.stringify(report, null, 2) + "\n");
      return;
    case "html": {
      const html = renderHtml(report);
      await writeFileAtomic(output.path, html);
      const pages = report.heaps.reduce((n, h) => n + h.pages.length, 0);
      console.error(
        `lmm: wrote ${output.path} (${formatBytes(html.length)}: ${
          plural(report.heaps.length, "heap")
        }, ${plural(pages, "page")}, ${plural(blockCount(report), "block")})`,
      );
      return;
    }
  }
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
