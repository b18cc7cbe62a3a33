/**
 * The HTML rendering of a report: one self-contained page (no network, no
 * external files) that stays small and quick for heaps of millions of
 * blocks.
 *
 * Per heap: its figures; a map of its pages — every block drawn to scale
 * when the page can afford it (at most {@link BLOCK_BUDGET} blocks drawn in
 * the whole page), else an occupancy strip (one cell per page, or per run of
 * pages beyond {@link MAX_CELLS}, drawn on a canvas, shaded by how full it
 * is) and the table of similar pages with an example of each drawn to
 * scale; the families with their fragmentation and its definitions; the
 * leaks by family; the leak sites, direct first, each opening onto its full
 * stack, its first blocks decoded (families with a C layout) and some of
 * its blocks. Above the heaps, the heap-size timeline of each isolate that
 * ran long enough to have one.
 *
 * Tables sort by any column (click its title); a family filter per heap
 * narrows tables, sites, map rows and strip to one family. The page works
 * without JavaScript except for sorting, filtering, tooltips and the strip.
 * The script writes `data-ready`, `data-drawn-blocks` and `data-drawn-cells`
 * on `#report` once it ran, which the tests read back from headless
 * Chromium.
 *
 * @module
 */

import type { BlockTuple, FamilyReport, LeaksRecord, StatsFields } from "../../ffi/report_types.ts";
import { printable } from "../../ffi/report/escape.ts";
import { formatFrame, frameSite } from "../../ffi/sites.ts";
import { commandLine, formatBytes, formatPercent, plural, sampleLine } from "../format.ts";
import { describe, type HeapModel, type ReportModel, type TimelineModel } from "../model.ts";
import { css, script } from "./html_assets.ts";

/** Blocks drawn as elements in the whole page, at most. */
export const BLOCK_BUDGET = 20_000;
/** Cells of an occupancy strip, at most (beyond, a cell stands for several pages). */
export const MAX_CELLS = 20_000;
/** Leak sites listed per heap and kind, at most. */
export const MAX_SITES = 200;
/** Heaps drawn in full, at most; the others are rows of one table. */
export const MAX_HEAPS = 50;
/** Example pages drawn per group of similar pages. */
const EXAMPLES_DRAWN = 1;

/** Family colours, by family id modulo their count. */
const palette = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#e15759",
  "#76b7b2",
  "#b07aa1",
  "#edc948",
  "#ff9da7",
  "#9c755f",
  "#5f9ea0",
];

/**
 * The colour of a family.
 *
 * @param id Family id.
 * @returns A CSS colour.
 */
export function familyColor(id: number): string {
  return palette[id % palette.length];
}

/**
 * Escapes text for HTML content and double-quoted attributes, and makes
 * control characters visible.
 *
 * @param text Any text.
 * @returns The escaped text.
 */
export function esc(text: string): string {
  return printable(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Renders a report as one HTML document.
 *
 * @param model The report.
 * @returns The document.
 */
export function renderHtml(model: ReportModel): string {
  const first = model.programs[0];
  const title = first === undefined ? "LMM report" : `LMM report · ${commandLine(first.argv)}`;
  const budget = { blocks: BLOCK_BUDGET, drawn: 0 };
  const shown = pickHeaps(model.heaps);
  const heaps = shown.length === 0
    ? `<p class="empty">No heap was open when the report was made, and none was closed with live blocks.</p>`
    : shown.map((heap) => heapSection(heap, budget, model)).join("\n");
  const others = model.heaps.filter((h) => !shown.includes(h));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${css}</style>
</head>
<body>
<header>
<h1>LMM heap report</h1>
${programsLine(model)}
${model.warnings.map((w) => `<p class="warn">${esc(w)}</p>`).join("\n")}
</header>
<main id="report" data-expected-blocks="${budget.drawn}" data-heaps="${model.heaps.length}">
${summaryCards(model)}
${timelines(model.timelines)}
${heaps}
${others.length === 0 ? "" : otherHeaps(others)}
</main>
<div id="tip" role="tooltip" hidden></div>
<script>${script}</script>
</body>
</html>
`;
}

/** Heaps drawn in full: all when few, else those with the most live bytes, in file order. */
function pickHeaps(heaps: HeapModel[]): HeapModel[] {
  if (heaps.length <= MAX_HEAPS) return heaps;
  const chosen = new Set(
    [...heaps].sort((a, b) => (b.leaks?.bytes ?? 0) - (a.leaks?.bytes ?? 0)).slice(0, MAX_HEAPS),
  );
  return heaps.filter((h) => chosen.has(h));
}

function programsLine(model: ReportModel): string {
  const programs = model.programs;
  if (programs.length === 0) return "";
  const items = programs.map((p) =>
    `<code>${esc(p.worker === null ? commandLine(p.argv) : describe(p))}</code> · pid ${p.pid}`
  );
  return `<p class="meta">${
    items.length === 1 ? items[0] : `${plural(items.length, "isolate")}: ${items.join("; ")}`
  } · ${esc(programs[0].runtime)}</p>`;
}

function summaryCards(model: ReportModel): string {
  const leaks = model.heaps.map((h) => h.leaks).filter((l) => l !== null);
  const blocks = leaks.reduce((n, l) => n + l.blocks, 0);
  const bytes = leaks.reduce((n, l) => n + l.bytes, 0);
  const indirect = leaks.reduce((n, l) => n + l.indirect.count, 0);
  const closed = model.heaps.filter((h) => h.heap.state !== "open").length;
  return `<div class="cards">${
    [
      card(
        "heaps",
        `${model.heaps.length}`,
        closed === 0 ? "all open at the end" : `${closed} closed or collected with live blocks`,
      ),
      card(
        "live blocks",
        `${blocks}`,
        `${formatBytes(bytes)} · ${blocks - indirect} direct, ${indirect} indirect`,
        blocks > 0 ? "bad" : "good",
      ),
    ].join("")
  }</div>`;
}

function card(title: string, value: string, note: string, cls = ""): string {
  return `<div class="card ${cls}"><div class="k">${esc(title)}</div>` +
    `<div class="v">${esc(value)}</div><div class="n">${esc(note)}</div></div>`;
}

// ── Timelines ───────────────────────────────────────────────────────────────

/** A timeline is drawn when it has at least this many points. */
const TIMELINE_POINTS = 5;

function timelines(list: TimelineModel[]): string {
  const drawn = list.filter((t) => t.record.points.length >= TIMELINE_POINTS).slice(0, 8);
  if (drawn.length === 0) return "";
  return `<section class="heap"><h2>Heap size over time</h2>${
    drawn.map(timelineSvg).join("")
  }<p class="note">Summed over the open heaps of each isolate, sampled while it ran (spacing doubles as the run grows, at most 512 points). App bytes: what the program asked for; mapped: the VM pages holding them.</p></section>`;
}

function timelineSvg(t: TimelineModel): string {
  const points = t.record.points;
  const width = 640;
  const height = 150;
  const end = Math.max(1, points[points.length - 1][0]);
  const top = Math.max(1, ...points.map((p) => Math.max(p[1], p[3])));
  const x = (ms: number): string => (64 + (ms / end) * (width - 74)).toFixed(1);
  const y = (v: number): string => (height - 20 - (v / top) * (height - 35)).toFixed(1);
  const line = (column: number): string =>
    points.map((p, i) => `${i === 0 ? "M" : "L"}${x(p[0])},${y(p[column])}`).join("");
  return `<figure class="timeline"><figcaption>${esc(describe(t.program))}: ${
    (end / 1000).toFixed(1)
  } s, peak mapped ${formatBytes(Math.max(...points.map((p) => p[3])))}, peak app ${
    formatBytes(Math.max(...points.map((p) => p[1])))
  }</figcaption><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">
<line x1="64" y1="${height - 20}" x2="${width - 10}" y2="${height - 20}" class="axis"/>
<line x1="64" y1="10" x2="64" y2="${height - 20}" class="axis"/>
<text x="60" y="18" text-anchor="end">${formatBytes(top)}</text>
<text x="60" y="${height - 20}" text-anchor="end">0</text>
<text x="${width - 10}" y="${height - 4}" text-anchor="end">${(end / 1000).toFixed(1)} s</text>
<path d="${line(3)}" class="mapped"/><path d="${line(1)}" class="app"/>
</svg><span class="key"><i class="app"></i>app bytes <i class="mapped"></i>mapped</span></figure>`;
}

// ── One heap ────────────────────────────────────────────────────────────────

function heapSection(
  model: HeapModel,
  budget: { blocks: number; drawn: number },
  report: ReportModel,
): string {
  const heap = model.heap;
  const t = heap.totals;
  const label = heap.label ? ` “${esc(heap.label)}”` : "";
  const leaks = model.leaks;
  const live = leaks?.blocks ?? 0;
  const state = heap.state === "open"
    ? ""
    : ` <span class="bad-text">${heap.state} with live blocks: leaked at ${
      heap.state === "closed" ? "close" : "collection"
    }</span>`;
  const sites = heap.sites === null
    ? "stacks not recorded"
    : `stacks: ${heap.sites.mode}${
      heap.sites.mode === "sample" ? ` (1 per ${formatBytes(heap.sites.interval)})` : ""
    }, depth ${heap.sites.depth}`;
  const where = report.programs.length > 1 ? ` · ${esc(describe(model.program))}` : "";
  const families = heap.families.filter((f) => f.id !== 0 || f.allocCount > 0 || f.pages > 0);
  const cards = [
    card("pages", `${t.pages}`, `${formatBytes(t.bytesMapped)} mapped`),
    card("blocks", `${t.totalBlocks}`, `${t.occupiedBlocks} used · ${t.freeBlocks} free`),
    card("app bytes", formatBytes(t.appBytes), `peak ${formatBytes(t.peakBytes)}`),
    card(
      heap.state === "open" ? "live blocks" : "leaked at close",
      `${live}`,
      `${formatBytes(leaks?.bytes ?? 0)} · ${leaks?.indirect.count ?? 0} indirect`,
      live > 0 ? "bad" : "good",
    ),
    card(
      "external fragmentation",
      formatPercent(t.fragmentation.external),
      `${formatBytes(t.fragmentation.tooSmallBytes)} of ${formatBytes(t.freeBytes)} free unusable`,
    ),
  ].join("");
  const filter = families.length > 1
    ? `<label class="filter">family <select class="family-filter"><option value="">all</option>${
      families.map((f) => `<option value="${esc(f.name)}">${esc(f.name)}</option>`).join("")
    }</select></label>`
    : "";
  return `<section class="heap" id="heap-${esc(model.key)}">
<h2>Heap ${heap.id}${label}${state} <small>VM page ${
    formatBytes(heap.pageSize)
  } · ${sites}${where}</small>${filter}</h2>
<div class="cards">${cards}</div>
<h3>Pages</h3>
${pagesView(model, budget)}
<h3>Families</h3>
${familyTable(model)}
<h3>Fragmentation</h3>
${fragmentationTable(model)}
<h3>Leaks</h3>
${leakSection(model)}
${stackData(model)}
</section>`;
}

/** Stacks shown in block tooltips, at most. */
const MAX_TOOLTIP_STACKS = 2000;

/** The stacks of the heap's leak groups as text, for the block tooltips. */
function stackData(model: HeapModel): string {
  const stacks: Record<number, string[]> = {};
  let count = 0;
  for (const group of model.leaks?.byStack ?? []) {
    if (group.stackId === 0 || group.stackId in stacks) continue;
    if (count++ === MAX_TOOLTIP_STACKS) break;
    stacks[group.stackId] = (model.stacks.get(group.stackId) ?? []).map((f) =>
      printable(formatFrame(f))
    );
  }
  return `<script type="application/json" class="stacks">${
    JSON.stringify(stacks).replace(/</g, "\\u003c")
  }</script>`;
}

function pagesView(model: HeapModel, budget: { blocks: number; drawn: number }): string {
  const pages = model.pages;
  if (pages.count === 0) {
    return model.heap.state === "open"
      ? `<p class="empty">No VM pages: every page was empty and returned.</p>`
      : `<p class="empty">The heap's pages went back when it was closed; its leaks are below.</p>`;
  }
  const legend = mapLegend(model);
  const full = model.detail.size === pages.count && model.blockCount <= budget.blocks;
  if (full) {
    budget.blocks -= model.blockCount;
    budget.drawn += model.blockCount;
    const rows: string[] = [];
    for (let i = 0; i < pages.count; i++) rows.push(pageRow(model, i));
    return `${legend}<div class="map">\n${rows.join("\n")}\n</div>`;
  }
  return `${legend}${strip(model)}${groupTable(model, budget)}`;
}

function mapLegend(model: HeapModel): string {
  const used = new Set(model.pages.family);
  const items = model.heap.families.filter((f) => used.has(f.id)).map((f) =>
    `<span><i class="sw" style="--c:${familyColor(f.id)}"></i>${esc(f.name)}</span>`
  );
  items.push(
    `<span><i class="sw free" style="--c:#777"></i>free block (hatched)</span>`,
    `<span><i class="sw ind" style="--c:#777"></i>indirect leak (striped)</span>`,
    `<span><i class="sw hdr"></i>page and meta block headers</span>`,
  );
  return `<div class="legend">${items.join("")}</div>`;
}

function familyName(model: HeapModel, id: number): string {
  return model.heap.families[id]?.name ?? `family ${id}`;
}

/** One page drawn to scale: a row of blocks. */
function pageRow(model: HeapModel, i: number): string {
  const pages = model.pages;
  const size = pages.size[i];
  const base = pages.base[i];
  const family = familyName(model, pages.family[i]);
  const blocks = (model.detail.get(i) ?? []).map((b) => blockElement(b, size)).join("");
  return `<div class="row" data-family="${esc(family)}"><div class="label"><code>0x${
    base.toString(16)
  }</code><span>${esc(family)} · ${formatBytes(size)}</span></div>` +
    `<div class="page" data-family="${esc(family)}" data-base="${base}" style="--c:${
      familyColor(pages.family[i])
    }">${blocks}</div></div>`;
}

function blockElement(block: BlockTuple, pageSize: number): string {
  const [offset, size, requested, stack, kind] = block;
  const cls = requested === 0 ? "blk free" : kind === 2 ? "blk ind" : "blk";
  return `<i class="${cls}" style="left:${pct((offset / pageSize) * 100)};width:${
    pct((size / pageSize) * 100)
  }" data-o="${offset}" data-s="${size}" data-r="${requested}"${
    stack === 0 ? "" : ` data-t="${stack}"`
  }></i>`;
}

function pct(value: number): string {
  return `${Number(value.toFixed(4))}%`;
}

/** The occupancy strip: data for the canvas the script draws. */
function strip(model: HeapModel): string {
  const pages = model.pages;
  const per = Math.ceil(pages.count / MAX_CELLS);
  const cells = Math.ceil(pages.count / per);
  const family: number[] = [];
  const fill: number[] = [];
  const base: number[] = [];
  const blocks: number[] = [];
  const free: number[] = [];
  for (let c = 0; c < cells; c++) {
    let used = 0, size = 0, b = 0, f = 0;
    for (let i = c * per; i < Math.min(pages.count, (c + 1) * per); i++) {
      used += pages.usedBytes[i];
      size += pages.size[i];
      b += pages.blocks[i];
      f += pages.freeBlocks[i];
    }
    family.push(pages.family[c * per]);
    fill.push(Math.round((100 * used) / size));
    base.push(pages.base[c * per]);
    blocks.push(b);
    free.push(f);
  }
  const names = model.heap.families.map((f) => f.name);
  const data = JSON.stringify({
    per,
    family,
    fill,
    base,
    blocks,
    free,
    names,
    colors: names.map((_, i) => familyColor(i)),
  });
  return `<p class="note">Each cell is ${
    per === 1 ? "one VM page" : `${per} consecutive VM pages`
  } in address order, in its family's colour, darker the more of it live blocks use (${
    plural(pages.count, "page")
  }, ${plural(model.blockCount, "block")}). Hover a cell for its figures.</p>
<canvas class="strip" width="1000" height="40"></canvas>
<script type="application/json" class="strip-data">${data.replace(/</g, "\\u003c")}</script>`;
}

/** Similar pages, each group with an example page drawn to scale. */
function groupTable(model: HeapModel, budget: { blocks: number; drawn: number }): string {
  const groups = [...model.groups.keys()].sort((a, b) =>
    model.groups[b].pages - model.groups[a].pages
  );
  const rows = groups.map((g) => {
    const group = model.groups[g];
    const name = familyName(model, group.family);
    let example = "";
    for (const index of group.examples.slice(0, EXAMPLES_DRAWN)) {
      const count = model.detail.get(index)?.length ?? 0;
      if (count > budget.blocks) continue;
      budget.blocks -= count;
      budget.drawn += count;
      example = `<div class="map">${pageRow(model, index)}</div>`;
    }
    const holes = group.holes < 2
      ? `${group.holes}`
      : group.holes >= 16
      ? "16+"
      : `${group.holes}–${2 * group.holes - 1}`;
    return row(
      [
        [name, name],
        [`${group.decile * 10}%`, group.decile],
        [holes, group.holes],
        [`${group.pages}`, group.pages],
        [`${group.blocks}`, group.blocks],
        [`${group.freeBlocks}`, group.freeBlocks],
        [formatBytes(group.usedBytes), group.usedBytes],
      ],
      name,
      group.family,
      example,
    );
  });
  return `<p class="note">Similar pages: one family, the same tenth of the page used by live blocks, about as many holes (free blocks). One example of each group is drawn to scale.</p>` +
    table(
      ["family", "in use", "holes", "pages", "blocks", "free blocks", "used bytes", "example"],
      rows,
    );
}

// ── Tables ──────────────────────────────────────────────────────────────────

/** One table row: cells as [shown text, sort value], its family (filter), an extra cell. */
function row(
  cells: [string, string | number][],
  family: string | null,
  swatch: number | null,
  extra?: string,
): string {
  const tds = cells.map(([text, value], c) =>
    `<td${c === 0 ? "" : ` class="num"`} data-v="${esc(String(value))}">${
      c === 0 && swatch !== null ? `<i class="sw" style="--c:${familyColor(swatch)}"></i>` : ""
    }${esc(text)}</td>`
  ).join("");
  return `<tr${family === null ? "" : ` data-family="${esc(family)}"`}>${tds}${
    extra === undefined ? "" : `<td class="ex">${extra}</td>`
  }</tr>`;
}

function table(head: string[], rows: string[], foot = ""): string {
  return `<table class="sortable"><thead><tr>${
    head.map((h, c) => `<th${c === 0 ? "" : ` class="num"`} tabindex="0">${esc(h)}</th>`).join("")
  }</tr></thead>
<tbody>
${rows.join("\n")}
</tbody>${foot === "" ? "" : `<tfoot>${foot}</tfoot>`}</table>`;
}

function familyCells(name: string, s: StatsFields, f?: FamilyReport): [string, string | number][] {
  return [
    [name, name],
    [f ? formatBytes(f.structSize) : "", f?.structSize ?? 0],
    [`${s.pages}`, s.pages],
    [formatBytes(s.bytesMapped), s.bytesMapped],
    [`${s.totalBlocks}`, s.totalBlocks],
    [`${s.occupiedBlocks}`, s.occupiedBlocks],
    [`${s.freeBlocks}`, s.freeBlocks],
    [formatBytes(s.appBytes), s.appBytes],
    [formatBytes(s.peakBytes), s.peakBytes],
    [formatBytes(s.headerBytes), s.headerBytes],
    [`${s.allocCount}`, s.allocCount],
    [`${s.freeCount}`, s.freeCount],
  ];
}

function familyTable(model: HeapModel): string {
  const families = model.heap.families.filter((f) => f.id !== 0 || f.allocCount > 0 || f.pages > 0);
  return table(
    [
      "family",
      "struct",
      "pages",
      "mapped",
      "blocks",
      "used",
      "free",
      "app bytes",
      "peak",
      "headers",
      "allocs",
      "frees",
    ],
    families.map((f) => row(familyCells(f.name, f, f), f.name, f.id)),
    row(familyCells("total", model.heap.totals), null, null),
  );
}

function fragmentationTable(model: HeapModel): string {
  const heap = model.heap;
  const families = heap.families.filter((f) => f.id !== 0 || f.allocCount > 0 || f.pages > 0);
  const cells = (
    name: string,
    s: StatsFields & { fragmentation: FamilyReport["fragmentation"] },
  ): [string, string | number][] => [
    [name, name],
    [
      s.fragmentation.typicalRequest === 0 ? "" : formatBytes(s.fragmentation.typicalRequest),
      s.fragmentation.typicalRequest,
    ],
    [formatBytes(s.freeBytes), s.freeBytes],
    [`${s.fragmentation.holes}`, s.fragmentation.holes],
    [formatBytes(s.largestFreeBlock), s.largestFreeBlock],
    [`${s.fragmentation.tooSmallHoles}`, s.fragmentation.tooSmallHoles],
    [formatBytes(s.fragmentation.tooSmallBytes), s.fragmentation.tooSmallBytes],
    [formatPercent(s.fragmentation.external), s.fragmentation.external],
    [formatBytes(s.hardFragBytes), s.hardFragBytes],
    [`${s.softFragBlocks} (${formatBytes(s.softFragBytes)})`, s.softFragBytes],
  ];
  return table(
    [
      "family",
      "typical request",
      "free bytes",
      "holes",
      "largest hole",
      "too small",
      "their bytes",
      "external",
      "hard internal",
      "soft internal",
    ],
    families.map((f) => row(cells(f.name, f), f.name, f.id)),
    row(cells("total", heap.totals), null, null),
  ) +
    `<dl class="defs">
<dt>holes</dt><dd>free blocks; a family's holes only ever serve that family.</dd>
<dt>typical request</dt><dd>the median request of the family's live blocks (one structure when none is live), rounded up to the 16-byte alignment blocks are carved at.</dd>
<dt>too small</dt><dd>holes smaller than the typical request: they cannot serve the family's allocations. A hole that fits is usable space, not fragmentation.</dd>
<dt>external</dt><dd>bytes in holes too small ÷ the family's free bytes (for the total: summed over the families).</dd>
<dt>largest hole</dt><dd>what the next allocation is carved from (worst fit).</dd>
<dt>hard internal</dt><dd>rests too small for a meta block, kept inside used blocks.</dd>
<dt>soft internal</dt><dd>free blocks smaller than one structure of their family.</dd>
</dl>`;
}

// ── Leaks ───────────────────────────────────────────────────────────────────

function leakSection(model: HeapModel): string {
  const leaks = model.leaks;
  if (leaks === null || leaks.blocks === 0) {
    return `<p class="good-text">No live blocks: everything allocated was freed.</p>`;
  }
  const byFamily = table(
    ["family", "live blocks", "bytes", "direct", "indirect"],
    leaks.byFamily.map((f) =>
      row(
        [
          [f.family, f.family],
          [`${f.count}`, f.count],
          [formatBytes(f.bytes), f.bytes],
          [`${f.count - f.indirect.count}`, f.count - f.indirect.count],
          [`${f.indirect.count}`, f.indirect.count],
        ],
        f.family,
        model.heap.families.find((x) => x.name === f.family)?.id ?? null,
      )
    ),
  );
  const noStacks = model.heap.sites === null
    ? `<p class="note">Allocation stacks were not recorded: create the heap with <code>trackSites</code>, or run it under <code>lmm run --sites all</code> or <code>sample</code>.</p>`
    : "";
  const lists = (["direct", "indirect"] as const).map((kind) => siteList(model, kind)).join("");
  return `<p class="bad-text">${plural(leaks.blocks, "live block")}, ${
    formatBytes(leaks.bytes)
  }: ${leaks.direct.count} direct, ${leaks.indirect.count} indirect.</p>
${byFamily}${noStacks}${lists}`;
}

function siteList(model: HeapModel, kind: "direct" | "indirect"): string {
  const groups = model.leaks!.byStack.filter((g) => g.kind === kind);
  if (groups.length === 0) return "";
  const sampled = model.heap.sites?.mode === "sample";
  const items = groups.slice(0, MAX_SITES).map((group) => {
    const frames = model.stacks.get(group.stackId) ?? [];
    const site = frames.length === 0
      ? (group.stackId === 0 ? (sampled ? "(not sampled)" : "(no stack)") : "(no stack)")
      : frameSite(frames[0]);
    const estimate =
      sampled && group.stackId !== 0 && Math.round(group.estimatedBytes) !== group.bytes
        ? ` <span class="est">≈ ${formatBytes(Math.round(group.estimatedBytes))} estimated</span>`
        : "";
    const examples = group.examples.map(([address, bytes]) =>
      `<tr><td><code>0x${address.toString(16)}</code></td><td class="num">${
        formatBytes(bytes)
      }</td></tr>`
    ).join("");
    return `<details class="site" data-family="${
      esc(group.family)
    }" data-bytes="${group.bytes}"><summary><b>${formatBytes(group.bytes)}</b> in ${
      plural(group.count, "block")
    }${estimate} · ${esc(group.family)} · <code>${esc(site)}</code></summary>
<ol class="frames">${
      frames.map((f) => `<li><code>${esc(formatFrame(f))}</code></li>`).join("")
    }</ol>${
      samples(group)
    }<table class="examples"><thead><tr><th>block</th><th class="num">bytes</th></tr></thead><tbody>${examples}</tbody></table>${
      group.count > group.examples.length
        ? `<p class="note">… and ${group.count - group.examples.length} more blocks</p>`
        : ""
    }</details>`;
  });
  const more = groups.length > MAX_SITES
    ? `<p class="note">… and ${plural(groups.length - MAX_SITES, "more site")} (${
      plural(groups.slice(MAX_SITES).reduce((n, g) => n + g.count, 0), "block")
    })</p>`
    : "";
  const title = kind === "direct"
    ? "Direct leaks <small>no other live block points to them</small>"
    : "Indirect leaks <small>another live block holds their address: they go when it goes</small>";
  return `<h4>${title}</h4><div class="sites">${items.join("\n")}</div>${more}`;
}

/** A leak group's decoded blocks (families with a C layout), one line each. */
function samples(group: LeaksRecord["byStack"][number]): string {
  const list = group.samples ?? [];
  if (list.length === 0) return "";
  return `<ul class="samples">${
    list.map((s) => `<li><code>${esc(sampleLine(group.family, s))}</code></li>`).join("")
  }</ul>`;
}

function otherHeaps(heaps: HeapModel[]): string {
  return `<section class="heap"><h2>${plural(heaps.length, "more heap")}</h2>${
    table(
      ["heap", "label", "state", "isolate", "live blocks", "bytes"],
      heaps.map((h) =>
        row(
          [
            [`${h.heap.id}`, h.heap.id],
            [h.heap.label, h.heap.label],
            [h.heap.state, h.heap.state],
            [describe(h.program), describe(h.program)],
            [`${h.leaks?.blocks ?? 0}`, h.leaks?.blocks ?? 0],
            [formatBytes(h.leaks?.bytes ?? 0), h.leaks?.bytes ?? 0],
          ],
          null,
          null,
        )
      ),
    )
  }</section>`;
}
