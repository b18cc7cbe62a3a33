/**
 * Terminal colours for the text renderer. Colour is on only when the output
 * is a terminal and `NO_COLOR` is unset or empty (https://no-color.org).
 *
 * @module
 */

/** The styles the renderers use; each wraps a string (or returns it as is). */
export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

function sgr(open: number, close: number): (text: string) => string {
  return (text) => `\x1b[${open}m${text}\x1b[${close}m`;
}

const identity = (text: string): string => text;

/** Styles that add nothing. */
export const plain: Palette = {
  bold: identity,
  dim: identity,
  red: identity,
  green: identity,
  yellow: identity,
  cyan: identity,
};

/** ANSI styles. */
export const ansi: Palette = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
};

/**
 * Decides whether to colour (pure, so it can be tested).
 *
 * @param isTerminal Whether the stream is a terminal.
 * @param noColor The value of `NO_COLOR`, or undefined.
 * @returns True when colours should be used.
 */
export function wantsColor(
  isTerminal: boolean,
  noColor: string | undefined,
): boolean {
  return isTerminal && (noColor === undefined || noColor === "");
}

/**
 * The palette for a stream of this process.
 *
 * @param stream `Deno.stdout` or `Deno.stderr`.
 * @returns {@link ansi} or {@link plain}.
 */
export function paletteFor(stream: { isTerminal(): boolean }): Palette {
  return wantsColor(stream.isTerminal(), Deno.env.get("NO_COLOR")) ? ansi : plain;
}

/**
 * Removes ANSI styles (to measure a coloured string's width).
 *
 * @param text A string that may hold SGR sequences.
 * @returns The visible text.
 */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}
