/**
 * The text rendering of a report: per heap its totals, the per-family
 * statistics and fragmentation (with their definitions), and the live
 * blocks (leaks): counted by family, then grouped by stack, direct leaks
 * first, each group with its innermost frames and, for a family with a C
 * layout, its first blocks decoded (`leaked emp_t { id: 1001, … } at
 * 0x…`). Bounded: at most `top` heaps,
 * families and stacks of each kind are shown, the rest summed up in one
 * "… and N more" line. Every name from the report is shown through
 * `printable`. Pure: model in, string out.
 *
 * @module
 */

import type { FamilyReport, LeaksRecord, StackFrame, Tally } from "../../ffi/report_types.ts";
import { printable } from "../../ffi/report/escape.ts";
import { formatFrame } from "../../ffi/sites.ts";
import { type Palette, plain, stripAnsi } from "../color.ts";
import { commandLine, formatBytes, formatPercent, plural, sampleLine } from "../format.ts";
import { describe, type HeapModel, type ReportModel } from "../model.ts";

/** Options of {@linkcode renderText}. */
export interface TextOptions {
  /** Styles ({@link plain} for none). */
  color?: Palette;
  /** Heaps, families and stacks of each kind shown, at most (default 10). */
  top?: number;
  /** Frames shown per stack (default 4; JSON and HTML have them all). */
  frames?: number;
}

/** Default of {@link TextOptions.top}. */
export const DEFAULT_TOP = 10;

/**
 * Renders a report as text.
 *
 * @param model The report.
 * @param options Styles and bounds.
 * @returns Lines ending in a newline.
 */
export function renderText(model: ReportModel, options: TextOptions = {}): string {
  const color = options.color ?? plain;
  const top = options.top ?? DEFAULT_TOP;
  const out: string[] = [header(model, color)];
  for (const warning of model.warnings) out.push(color.yellow(`note: ${printable(warning)}`));
  if (model.heaps.length === 0) {
    out.push(
      "",
      "No heap was open when the report was made, and none was closed with live blocks.",
    );
  }
  const isolates = new Set(model.heaps.map((h) => h.isolate)).size;
  const shown = pickHeaps(model.heaps, top);
  shown.forEach((heap, i) => {
    out.push(
      "",
      ...renderHeap(heap, {
        color,
        top,
        frames: options.frames ?? 4,
        isolates,
        definitions: i === 0,
      }),
    );
  });
  const hidden = model.heaps.filter((h) => !shown.includes(h));
  if (hidden.length > 0) {
    const leaky = hidden.filter((h) => (h.leaks?.blocks ?? 0) > 0);
    out.push(
      "",
      `… and ${plural(hidden.length, "more heap")}: ${leaky.length} with live blocks (${
        plural(sum(leaky.map((h) => h.leaks!.blocks)), "block")
      }, ${formatBytes(sum(leaky.map((h) => h.leaks!.bytes)))}), ${
        hidden.length - leaky.length
      } without (--top ${top} shows the ${top} with the most)`,
    );
  }
  if (model.heaps.length > 1) {
    const blocks = sum(model.heaps.map((h) => h.leaks?.blocks ?? 0));
    const bytes = sum(model.heaps.map((h) => h.leaks?.bytes ?? 0));
    const indirect = sum(model.heaps.map((h) => h.leaks?.indirect.count ?? 0));
    const where = isolates > 1 ? ` in ${plural(isolates, "isolate")}` : "";
    out.push(
      "",
      `${plural(model.heaps.length, "heap")}${where}: ` +
        (blocks === 0 ? color.green("no live blocks") : color.red(
          `${plural(blocks, "live block")}, ${formatBytes(bytes)} (${
            blocks - indirect
          } direct, ${indirect} indirect)`,
        )),
    );
  }
  return out.join("\n") + "\n";
}

function header(model: ReportModel, color: Palette): string {
  const programs = model.programs;
  if (programs.length <= 1) {
    const p = programs[0];
    const what = p === undefined
      ? ""
      : ` · ${printable(commandLine(p.argv))} · pid ${p.pid} · ${printable(p.runtime)}`;
    return color.bold("LMM report") + color.dim(what);
  }
  const pids = new Set(programs.map((p) => p.pid));
  return color.bold("LMM report") +
    color.dim(
      ` · ${plural(programs.length, "isolate")} in ${plural(pids.size, "process", "processes")}` +
        ` (pid ${[...pids].join(", ")}) · ${printable(programs[0].runtime)}`,
    );
}

/** The heaps to show: all when few, else the `top` with the most live bytes, in file order. */
function pickHeaps(heaps: HeapModel[], top: number): HeapModel[] {
  if (heaps.length <= top) return heaps;
  const chosen = new Set(
    [...heaps].sort((a, b) => (b.leaks?.bytes ?? 0) - (a.leaks?.bytes ?? 0)).slice(0, top),
  );
  return heaps.filter((h) => chosen.has(h));
}

interface HeapOptions {
  color: Palette;
  top: number;
  frames: number;
  isolates: number;
  /** Whether to write the definitions of the fragmentation figures (under the first heap's table). */
  definitions: boolean;
}

/**
 * Totals, families, fragmentation and leaks of one heap.
 *
 * @param model The heap.
 * @param options Styles and bounds.
 * @returns The lines.
 */
export function renderHeap(model: HeapModel, options: HeapOptions): string[] {
  const { color, top } = options;
  const heap = model.heap;
  const t = heap.totals;
  const label = heap.label ? ` "${printable(heap.label)}"` : "";
  const state = heap.state === "open" ? "" : color.red(
    ` · ${heap.state} with live blocks: leaked at ${
      heap.state === "closed" ? "close" : "collection"
    }`,
  );
  const sites = heap.sites === null
    ? "stacks not recorded"
    : `stacks: ${heap.sites.mode}${
      heap.sites.mode === "sample" ? ` (1 per ${formatBytes(heap.sites.interval)})` : ""
    }, depth ${heap.sites.depth}`;
  const lines = [
    color.bold(`Heap ${heap.id}${label}`) + state +
    ` · VM page ${formatBytes(heap.pageSize)} · ${sites}`,
  ];
  if (options.isolates > 1) lines.push(color.dim(`  in ${printable(describe(model.program))}`));
  lines.push(
    `  ${plural(t.pages, "page")} (${formatBytes(t.bytesMapped)} mapped) · ` +
      `${plural(t.totalBlocks, "block")}: ${t.occupiedBlocks} used, ${t.freeBlocks} free · ` +
      `app ${formatBytes(t.appBytes)}, peak ${formatBytes(t.peakBytes)} · ` +
      `${plural(t.allocCount, "alloc")}, ${plural(t.freeCount, "free")}`,
    "",
  );
  lines.push(...familyLines(model, color, top, options.definitions), "");
  lines.push(...leakLines(model, options));
  return lines;
}

function familyLines(
  model: HeapModel,
  color: Palette,
  top: number,
  definitions: boolean,
): string[] {
  const heap = model.heap;
  const t = heap.totals;
  const active = heap.families.filter((f) => f.id !== 0 || f.allocCount > 0 || f.pages > 0);
  const shown = active.length <= top
    ? active
    : [...active].sort((a, b) => b.bytesMapped - a.bytesMapped || b.appBytes - a.appBytes)
      .slice(0, top).sort((a, b) => a.id - b.id);
  const rows = shown.map((f) => familyRow(printable(f.name), f.structSize, f));
  rows.push(familyRow("total", 0, t));
  const lines = table(
    [
      "family",
      "struct",
      "pages",
      "blocks",
      "used",
      "free",
      "app bytes",
      "peak",
      "holes",
      "too small",
      "ext frag",
    ],
    rows,
    "lrrrrrrrrrr",
    color,
  ).map((line, i) => i === rows.length ? color.bold(line) : line);
  if (shown.length < active.length) {
    lines.push(
      color.dim(`  … and ${plural(active.length - shown.length, "more family", "more families")}`),
    );
  }
  lines.push(
    "",
    `  ${color.bold("fragmentation")}  external ${formatPercent(t.fragmentation.external)}: ` +
      `${formatBytes(t.fragmentation.tooSmallBytes)} of ${
        formatBytes(t.freeBytes)
      } free in holes ` +
      `too small to use · internal ${formatBytes(t.hardFragBytes)} hard, ${
        plural(t.softFragBlocks, "block")
      } (${formatBytes(t.softFragBytes)}) soft`,
  );
  if (definitions) {
    lines.push(
      ...[
        "holes: free blocks (a family's holes only serve that family). too small: holes smaller",
        "than the family's typical request, the median request of its live blocks (one structure",
        "when none is live) rounded up to 16 B. ext frag: their bytes ÷ the family's free bytes;",
        "a hole that fits is usable space, not fragmentation. internal hard: rests too small for a",
        "meta block, kept inside used blocks; soft: free blocks smaller than one structure.",
      ].map((line) => color.dim(`    ${line}`)),
    );
  }
  return lines;
}

type Row = Pick<
  FamilyReport,
  | "pages"
  | "totalBlocks"
  | "occupiedBlocks"
  | "freeBlocks"
  | "appBytes"
  | "peakBytes"
  | "fragmentation"
>;

function familyRow(name: string, structSize: number, s: Row): string[] {
  return [
    name,
    structSize ? formatBytes(structSize) : "",
    `${s.pages}`,
    `${s.totalBlocks}`,
    `${s.occupiedBlocks}`,
    `${s.freeBlocks}`,
    formatBytes(s.appBytes),
    formatBytes(s.peakBytes),
    `${s.fragmentation.holes}`,
    `${s.fragmentation.tooSmallHoles}`,
    formatPercent(s.fragmentation.external),
  ];
}

function leakLines(model: HeapModel, options: HeapOptions): string[] {
  const { color, top } = options;
  const leaks = model.leaks;
  if (leaks === null || leaks.blocks === 0) {
    return [`  ${color.bold("leaks")}  ${color.green("none: every block was freed")}`];
  }
  const lines = [
    `  ${color.bold("leaks")}  ` +
    color.red(`${plural(leaks.blocks, "live block")}, ${formatBytes(leaks.bytes)}`) +
    `: ${tallyText(leaks.direct)} direct, ${tallyText(leaks.indirect)} indirect`,
  ];
  const families = leaks.byFamily.slice(0, top);
  lines.push(
    ...table(
      ["family", "blocks", "bytes", "indirect"],
      families.map((f) => [
        printable(f.family),
        `${f.count}`,
        formatBytes(f.bytes),
        `${f.indirect.count}`,
      ]),
      "lrrr",
      color,
    ).map((line) => "  " + line),
  );
  if (leaks.byFamily.length > top) {
    lines.push(
      `      … and ${plural(leaks.byFamily.length - top, "more family", "more families")}`,
    );
  }
  if (model.heap.sites === null) {
    lines.push(
      color.dim(
        "    (no stacks: create the heap with trackSites, or run it under lmm run --sites all|sample)",
      ),
    );
  }
  for (const kind of ["direct", "indirect"] as const) {
    lines.push(...stackLines(model, leaks, kind, options));
  }
  return lines;
}

function stackLines(
  model: HeapModel,
  leaks: LeaksRecord,
  kind: "direct" | "indirect",
  options: HeapOptions,
): string[] {
  const { color, top } = options;
  const groups = leaks.byStack.filter((g) => g.kind === kind);
  if (groups.length === 0 || (model.heap.sites === null && kind === "indirect")) return [];
  const sampled = model.heap.sites?.mode === "sample";
  const lines = [
    "",
    `    ${color.bold(kind === "direct" ? "direct leaks" : "indirect leaks")} ` +
    color.dim(
      kind === "direct"
        ? "(no other live block points to them)"
        : "(another live block holds their address)",
    ),
  ];
  for (const group of groups.slice(0, top)) {
    const estimate = sampled && group.stackId !== 0 &&
        Math.round(group.estimatedBytes) !== group.bytes
      ? color.dim(` (≈ ${formatBytes(Math.round(group.estimatedBytes))} estimated)`)
      : "";
    lines.push(
      `    ${formatBytes(group.bytes)} in ${plural(group.count, "block")}${estimate} · ${
        printable(group.family)
      }`,
    );
    const frames = model.stacks.get(group.stackId) ?? [];
    lines.push(...frameLines(frames, group.stackId, model, options.frames, color));
    for (const sample of group.samples ?? []) {
      lines.push(`        ${printable(sampleLine(group.family, sample))}`);
    }
  }
  if (groups.length > top) {
    const rest = groups.slice(top);
    lines.push(
      `    … and ${plural(rest.length, "more stack")} (${
        plural(sum(rest.map((g) => g.count)), "block")
      }, ${formatBytes(sum(rest.map((g) => g.bytes)))})`,
    );
  }
  return lines;
}

function frameLines(
  frames: StackFrame[],
  stackId: number,
  model: HeapModel,
  limit: number,
  color: Palette,
): string[] {
  if (stackId === 0) {
    const why = model.heap.sites === null
      ? "stacks not recorded"
      : model.heap.sites.mode === "sample"
      ? "not sampled"
      : "no stack";
    return [color.dim(`        (${why})`)];
  }
  const lines = frames.slice(0, limit).map((f) => `        at ${printable(formatFrame(f))}`);
  if (frames.length > limit) {
    lines.push(
      color.dim(`        … ${plural(frames.length - limit, "more frame")} (--json has them all)`),
    );
  }
  return lines;
}

function tallyText(t: Tally): string {
  return `${t.count} (${formatBytes(t.bytes)})`;
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
