/**
 * The text rendering of a report: per heap its totals, the per-family
 * statistics, the fragmentation figures and the live blocks (leaks) grouped
 * by family and by allocation site. Pure: report in, string out.
 *
 * @module
 */

import type { FamilyReport, HeapReport, Report } from "../ffi/report_types.ts";
import { type Palette, plain, stripAnsi } from "./color.ts";
import { commandLine, formatBytes, formatPercent, plural } from "./format.ts";

/**
 * Renders a report as text.
 *
 * @param report The report.
 * @param color The styles to use ({@link plain} for none).
 * @returns Lines ending in a newline.
 */
export function renderText(report: Report, color: Palette = plain): string {
  const { program } = report;
  const out: string[] = [
    color.bold("LMM report") +
    color.dim(
      ` · ${commandLine(program.argv)} · pid ${program.pid} · ${program.runtime}` +
        ` · ${report.generatedAt}`,
    ),
  ];
  if (report.heaps.length === 0) {
    out.push("", "No heap was open when the report was made.");
  }
  for (const heap of report.heaps) out.push("", ...renderHeap(heap, color));
  if (report.heaps.length > 1) {
    const blocks = sum(report.heaps.map((h) => h.leaks.blocks));
    const bytes = sum(report.heaps.map((h) => h.leaks.bytes));
    out.push(
      "",
      `${plural(report.heaps.length, "heap")}: ` +
        (blocks === 0 ? color.green("no live blocks") : color.red(
          `${plural(blocks, "live block")}, ${formatBytes(bytes)}`,
        )),
    );
  }
  return out.join("\n") + "\n";
}

/**
 * Totals, families, fragmentation and leaks of one heap.
 *
 * @param heap The heap.
 * @param color Styles.
 * @returns The lines.
 */
export function renderHeap(heap: HeapReport, color: Palette): string[] {
  const t = heap.totals;
  // JSON.stringify quotes and escapes (a report file may hold any label).
  const label = heap.label ? ` ${JSON.stringify(heap.label)}` : "";
  const lines = [
    color.bold(`Heap ${heap.id}${label}`) +
    ` · VM page ${formatBytes(heap.pageSize)}` +
    ` · sites ${heap.trackSites ? "tracked" : "not tracked"}`,
    `  ${plural(t.pages, "page")} (${formatBytes(t.bytesMapped)} mapped) · ` +
    `${plural(t.totalBlocks, "block")}: ${t.occupiedBlocks} used, ${t.freeBlocks} free · ` +
    `app ${formatBytes(t.appBytes)}, peak ${formatBytes(t.peakBytes)} · ` +
    `${plural(t.allocCount, "alloc")}, ${plural(t.freeCount, "free")}`,
    "",
  ];

  const shown = heap.families.filter((f) => f.id !== 0 || f.allocCount > 0 || f.pages > 0);
  const familyRows = shown.map((f) => familyRow(f.name, f.structSize, f));
  familyRows.push(familyRow("total", 0, t));
  lines.push(
    ...table(
      [
        "family",
        "struct",
        "pages",
        "blocks",
        "used",
        "free",
        "app bytes",
        "peak",
        "largest free",
        "ext frag",
      ],
      familyRows,
      "lrrrrrrrrr",
      color,
    ).map((line, i) => i === familyRows.length ? color.bold(line) : line),
    "",
  );

  const pad = " ".repeat(17);
  lines.push(
    `  ${color.bold("fragmentation")}  external ${formatPercent(t.externalFragmentation)}: ` +
      `1 − Σ largest free block per family ÷ ${formatBytes(t.freeBytes)} free`,
    `${pad}internal hard: ${formatBytes(t.hardFragBytes)} kept in used blocks`,
    `${pad}internal soft: ${plural(t.softFragBlocks, "free block")} (${
      formatBytes(t.softFragBytes)
    }) too small for their family`,
    "",
  );

  const leaks = heap.leaks;
  if (leaks.blocks === 0) {
    lines.push(`  ${color.bold("leaks")}  ${color.green("none: every block was freed")}`);
    return lines;
  }
  lines.push(
    `  ${color.bold("leaks")}  ` +
      color.red(
        `${plural(leaks.blocks, "live block")}, ${formatBytes(leaks.bytes)}`,
      ),
    ...table(
      ["family", "blocks", "bytes"],
      leaks.byFamily.map((f) => [f.family, `${f.count}`, formatBytes(f.bytes)]),
      "lrr",
      color,
    ).map((line) => "  " + line),
  );
  const sites = leaks.bySite.filter((s) => s.site !== "unknown");
  if (sites.length > 0) {
    lines.push(
      "",
      ...table(
        ["allocation site", "family", "blocks", "bytes"],
        leaks.bySite.map((s) => [
          s.site,
          s.family,
          `${s.count}`,
          formatBytes(s.bytes),
        ]),
        "llrr",
        color,
      ).map((line) => "  " + line),
    );
  } else if (!heap.trackSites) {
    lines.push(
      color.dim("    (allocation sites not tracked: new Heap({ trackSites: true }))"),
    );
  }
  return lines;
}

type Stats = Pick<
  FamilyReport,
  | "pages"
  | "totalBlocks"
  | "occupiedBlocks"
  | "freeBlocks"
  | "appBytes"
  | "peakBytes"
  | "largestFreeBlock"
  | "externalFragmentation"
>;

function familyRow(name: string, structSize: number, s: Stats): string[] {
  return [
    name,
    structSize ? formatBytes(structSize) : "",
    `${s.pages}`,
    `${s.totalBlocks}`,
    `${s.occupiedBlocks}`,
    `${s.freeBlocks}`,
    formatBytes(s.appBytes),
    formatBytes(s.peakBytes),
    formatBytes(s.largestFreeBlock),
    formatPercent(s.externalFragmentation),
  ];
}

/**
 * Aligns cells into columns, two spaces apart, indented by two.
 *
 * @param head Column titles.
 * @param rows Cells.
 * @param align One letter per column: `l` left, `r` right.
 * @param color Styles (titles are dimmed).
 * @returns The title line and one line per row, without trailing spaces.
 */
export function table(
  head: string[],
  rows: string[][],
  align: string,
  color: Palette,
): string[] {
  const widths = head.map((h, c) =>
    Math.max(stripAnsi(h).length, ...rows.map((r) => stripAnsi(r[c]).length))
  );
  const line = (cells: string[]): string =>
    "  " + cells.map((cell, c) => {
      const pad = " ".repeat(widths[c] - stripAnsi(cell).length);
      return align[c] === "r" ? pad + cell : cell + pad;
    }).join("  ").trimEnd();
  return [color.dim(line(head)), ...rows.map(line)];
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
