/**
 * Text from reports as it may be shown on a terminal or a page: labels,
 * family names, file names and function names come from programs and from
 * files, and may hold control characters (an ESC that recolours a terminal,
 * a carriage return that overwrites a line) or invisible formatting
 * characters (a right-to-left override that reorders what a reader sees).
 * Every text rendering passes them through {@linkcode printable}; JSON keeps
 * them exact.
 *
 * @module
 */

// C0 controls, DEL, C1 controls; zero-width and directional formatting;
// line and paragraph separators; the byte order mark.
// deno-lint-ignore no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * `text` with every control and invisible formatting character written as
 * an escape: `\xNN` below U+0100, `\uNNNN` above.
 *
 * @example Escapes
 * ```ts
 * import { printable } from "./escape.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(printable("cache\x1b[31m"), "cache\\x1b[31m");
 * assert.equal(printable("a\nb\u202ec"), "a\\x0ab\\u202ec");
 * assert.equal(printable("emp_t"), "emp_t");
 * ```
 *
 * @param text Any text.
 * @returns The text, safe to print.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
