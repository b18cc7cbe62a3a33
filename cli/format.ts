/**
 * Number formats (and the line of a decoded leaked block) shared by the
 * text and HTML renderers.
 *
 * @module
 */

import type { LeakSample } from "../ffi/report_types.ts";

const units = ["B", "KiB", "MiB", "GiB", "TiB"];

/**
 * A byte count for people: exact below 1 KiB, else one decimal in binary units.
 *
 * @example Formats
 * ```ts
 * import { assertEquals } from "node:assert/strict";
 * assertEquals(formatBytes(1000), "1000 B");
 * assertEquals(formatBytes(65536), "64 KiB");
 * assertEquals(formatBytes(1536), "1.5 KiB");
 * ```
 *
 * @param bytes A count of bytes.
 * @returns For example "64 KiB".
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  const text = value.toFixed(1).replace(/\.0$/, "");
  return `${text} ${units[unit]}`;
}

/**
 * A ratio in [0, 1] as a percentage with one decimal.
 *
 * @param ratio The ratio.
 * @returns For example "12.5%".
 */
export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/**
 * A count with its noun, singular or plural.
 *
 * @param count The count.
 * @param noun The singular noun ("block").
 * @param nouns The plural when it is not the noun + "s" ("families").
 * @returns For example "1 block" or "3 blocks".
 */
export function plural(count: number, noun: string, nouns: string = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/**
 * The program line of a report: its command line.
 *
 * @param argv The program's argv.
 * @returns The arguments joined, quoted where they hold spaces.
 */
export function commandLine(argv: string[]): string {
  return argv.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))
    .join(" ");
}

/**
 * Characters of a sample's text shown, at most: LMM writes about 240; a
 * file from elsewhere may hold more.
 */
export const SAMPLE_SHOWN = 400;

/**
 * A decoded leaked block as the reports show it, not yet escaped.
 *
 * @param family The family's name.
 * @param sample The sample.
 * @returns For example `leaked emp_t { id: 1001, boss: 0x0 } at 0x7f3a00010040`.
 */
export function sampleLine(family: string, sample: LeakSample): string {
  const text = sample.text.length > SAMPLE_SHOWN
    ? `${sample.text.slice(0, SAMPLE_SHOWN)} … (cut)`
    : sample.text;
  return `leaked ${family} ${text} at 0x${sample.address.toString(16)}`;
}
