/**
 * The HTML rendering of a report: one self-contained page (no network, no
 * external files) with, per heap, a heap map — every VM page a row, its blocks
 * drawn to scale, coloured by family, free blocks hatched, a tooltip with
 * offset, size and allocation site — the per-family table, the fragmentation
 * figures and the leaks.
 *
 * The map is plain HTML and CSS (it shows without JavaScript). A small inline
 * script adds the tooltip and, once the page is laid out, writes the number of
 * blocks that have a visible width into `#report[data-drawn-blocks]`, which the
 * tests read back from headless Chromium.
 *
 * @module
 */

import type {
  BlockReport,
  FamilyReport,
  HeapReport,
  PageReport,
  Report,
  StatsFields,
} from "../ffi/report_types.ts";
import { commandLine, formatBytes, formatPercent, plural } from "./format.ts";

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
 * The number of blocks a report's heap maps hold (what the page draws).
 *
 * @param report The report.
 * @returns The count of blocks over every page of every heap.
 */
export function blockCount(report: Report): number {
  let count = 0;
  for (const heap of report.heaps) {
    for (const page of heap.pages) count += page.blocks.length;
  }
  return count;
}

/**
 * Renders a report as one HTML document.
 *
 * @param report The report.
 * @returns The document.
 */
export function renderHtml(report: Report): string {
  const { program } = report;
  const command = commandLine(program.argv);
  const heaps = report.heaps.length === 0
    ? `<p class="empty">No heap was open when the report was made.</p>`
    : report.heaps.map(heapSection).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LMM report · ${esc(command)}</title>
<style>${css}</style>
</head>
<body>
<header>
<h1>LMM heap report</h1>
<p class="meta"><code>${esc(command)}</code> · pid ${program.pid} · ${esc(program.runtime)} · ${
    esc(report.generatedAt)
  } · report v${report.version}</p>
</header>
<main id="report" data-expected-blocks="${blockCount(report)}">
${heaps}
</main>
<div id="tip" role="tooltip" hidden></div>
<script>${script}</script>
</body>
</html>
`;
}

function heapSection(heap: HeapReport): string {
  const t = heap.totals;
  const names = new Map(heap.families.map((f) => [f.id, f.name]));
  const label = heap.label ? ` “${esc(heap.label)}”` : "";
  const leakClass = heap.leaks.blocks > 0 ? "bad" : "good";
  const cards = [
    card("pages", `${t.pages}`, `${formatBytes(t.bytesMapped)} mapped`),
    card(
      "blocks",
      `${t.totalBlocks}`,
      `${t.occupiedBlocks} used · ${t.freeBlocks} free`,
    ),
    card(
      "app bytes",
      formatBytes(t.appBytes),
      `peak ${formatBytes(t.peakBytes)}`,
    ),
    card(
      "live blocks at exit",
      `${heap.leaks.blocks}`,
      formatBytes(heap.leaks.bytes),
      leakClass,
    ),
    card(
      "external fragmentation",
      formatPercent(t.externalFragmentation),
      `of ${formatBytes(t.freeBytes)} free`,
    ),
  ].join("");
  return `<section class="heap" id="heap-${heap.id}">
<h2>Heap ${heap.id}${label} <small>VM page ${formatBytes(heap.pageSize)} · allocation sites ${
    heap.trackSites ? "tracked" : "not tracked"
  }</small></h2>
<div class="cards">${cards}</div>
<h3>Heap map</h3>
${heap.pages.length > 0 ? legend(heap) : ""}
${heapMap(heap, names)}
<h3>Families</h3>
${familyTable(heap)}
<h3>Fragmentation</h3>
${fragmentationTable(heap)}
<h3>Leaks</h3>
${leakTables(heap)}
</section>`;
}

function card(title: string, value: string, note: string, cls = ""): string {
  return `<div class="card ${cls}"><div class="k">${esc(title)}</div>` +
    `<div class="v">${esc(value)}</div><div class="n">${esc(note)}</div></div>`;
}

function legend(heap: HeapReport): string {
  const used = new Set(heap.pages.map((p) => p.family));
  const items = heap.families.filter((f) => used.has(f.id)).map((f) =>
    `<span><i class="sw" style="--c:${familyColor(f.id)}"></i>${esc(f.name)}</span>`
  );
  items.push(
    `<span><i class="sw free" style="--c:#777"></i>free block (hatched)</span>`,
    `<span><i class="sw hdr"></i>page and meta block headers</span>`,
    `<span class="scale">each row: one VM page, from its base (left) to its end (right)</span>`,
  );
  return `<div class="legend">${items.join("")}</div>`;
}

function heapMap(heap: HeapReport, names: Map<number, string>): string {
  if (heap.pages.length === 0) {
    return `<p class="empty">No VM pages: every page was empty and returned.</p>`;
  }
  const rows = heap.pages.map((page) => pageRow(page, names)).join("\n");
  return `<div class="map">\n${rows}\n</div>`;
}

function pageRow(page: PageReport, names: Map<number, string>): string {
  const family = names.get(page.family) ?? `family ${page.family}`;
  const blocks = page.blocks.map((b) => blockDiv(b, page.size)).join("");
  return `<div class="row"><div class="label"><code>${esc(page.base)}</code><span>${
    esc(family)
  } · ${formatBytes(page.size)}</span></div>` +
    `<div class="page" data-family="${esc(family)}" data-base="${esc(page.base)}" style="--c:${
      familyColor(page.family)
    }">${blocks}</div></div>`;
}

function blockDiv(block: BlockReport, pageSize: number): string {
  const left = (block.offset / pageSize) * 100;
  const width = (block.size / pageSize) * 100;
  const site = block.site === null ? "" : ` data-site="${esc(block.site)}"`;
  return `<div class="blk${block.free ? " free" : ""}" style="left:${pct(left)};width:${
    pct(width)
  }" data-offset="${block.offset}" data-size="${block.size}"` +
    ` data-requested="${block.requested}"${site}></div>`;
}

function pct(value: number): string {
  return `${Number(value.toFixed(4))}%`;
}

function familyTable(heap: HeapReport): string {
  const head = [
    "family",
    "struct",
    "pages",
    "mapped",
    "blocks",
    "used",
    "free",
    "app bytes",
    "peak",
    "used bytes",
    "free bytes",
    "headers",
    "allocs",
    "frees",
  ];
  const row = (name: string, s: StatsFields, f?: FamilyReport): string[] => [
    name,
    f ? formatBytes(f.structSize) : "",
    `${s.pages}`,
    formatBytes(s.bytesMapped),
    `${s.totalBlocks}`,
    `${s.occupiedBlocks}`,
    `${s.freeBlocks}`,
    formatBytes(s.appBytes),
    formatBytes(s.peakBytes),
    formatBytes(s.occupiedBytes),
    formatBytes(s.freeBytes),
    formatBytes(s.headerBytes),
    `${s.allocCount}`,
    `${s.freeCount}`,
  ];
  return htmlTable(
    head,
    heap.families.map((f) => row(f.name, f, f)),
    row("total", heap.totals),
    heap.families.map((f) => f.id),
  );
}

function fragmentationTable(heap: HeapReport): string {
  const head = [
    "family",
    "free bytes",
    "largest free block",
    "external",
    "hard internal",
    "soft internal",
  ];
  const row = (name: string, s: StatsFields): string[] => [
    name,
    formatBytes(s.freeBytes),
    formatBytes(s.largestFreeBlock),
    formatPercent(s.externalFragmentation),
    formatBytes(s.hardFragBytes),
    `${plural(s.softFragBlocks, "block")}, ${formatBytes(s.softFragBytes)}`,
  ];
  return htmlTable(
    head,
    heap.families.map((f) => row(f.name, f)),
    row("total", heap.totals),
    heap.families.map((f) => f.id),
    3,
    [
      ...heap.families.map((f) => f.externalFragmentation),
      heap.totals
        .externalFragmentation,
    ],
  ) +
    `<p class="note">External: 1 − largest free block ÷ free bytes (how split the free space is); ` +
    `for the total, per-family largest blocks are summed, since one family's free space never serves another. ` +
    `Hard internal: remainders too small for a meta block, kept inside used blocks. ` +
    `Soft internal: free blocks too small for one structure of their family.</p>`;
}

function leakTables(heap: HeapReport): string {
  const leaks = heap.leaks;
  if (leaks.blocks === 0) {
    return `<p class="good-text">No live blocks: everything allocated was freed.</p>`;
  }
  const byFamily = htmlTable(
    ["family", "live blocks", "bytes"],
    leaks.byFamily.map((f) => [f.family, `${f.count}`, formatBytes(f.bytes)]),
  );
  const bySite = htmlTable(
    ["allocation site", "family", "live blocks", "bytes"],
    leaks.bySite.map((s) => [
      s.site,
      s.family,
      `${s.count}`,
      formatBytes(s.bytes),
    ]),
  );
  const hint = heap.trackSites
    ? ""
    : `<p class="note">Allocation sites were not tracked: create the heap with <code>trackSites: true</code>.</p>`;
  return `<p class="bad-text">${plural(leaks.blocks, "live block")}, ${
    formatBytes(leaks.bytes)
  } not freed when the report was made.</p>
<div class="pair">${byFamily}${bySite}</div>${hint}`;
}

/**
 * A table; numbers align right (every column but the first).
 *
 * @param head Column titles.
 * @param rows Cells (escaped here).
 * @param total An optional last row, set apart.
 * @param swatches Family ids: a colour swatch before each row's first cell.
 * @param barColumn A column whose rows get a bar of `bars[i]` (0..1).
 * @param bars The bar values, rows then total.
 */
function htmlTable(
  head: string[],
  rows: string[][],
  total?: string[],
  swatches?: number[],
  barColumn?: number,
  bars?: number[],
): string {
  const cells = (row: string[], i: number): string =>
    row.map((cell, c) => {
      let inner = esc(cell);
      if (c === 0 && swatches && i < swatches.length) {
        inner = `<i class="sw" style="--c:${familyColor(swatches[i])}"></i>${inner}`;
      }
      if (c === barColumn && bars) {
        inner = `<span class="bar"><b style="width:${
          pct(Math.min(1, Math.max(0, bars[i])) * 100)
        }"></b></span>${inner}`;
      }
      return `<td${c === 0 ? "" : ` class="num"`}>${inner}</td>`;
    }).join("");
  const body = rows.map((r, i) => `<tr>${cells(r, i)}</tr>`).join("\n");
  const foot = total ? `<tfoot><tr>${cells(total, rows.length)}</tr></tfoot>` : "";
  return `<table><thead><tr>${
    head.map((h, c) => `<th${c === 0 ? "" : ` class="num"`}>${esc(h)}</th>`)
      .join("")
  }</tr></thead>
<tbody>
${body}
</tbody>${foot}</table>`;
}

/**
 * Escapes text for HTML content and double-quoted attributes.
 *
 * @param text Any text.
 * @returns The escaped text.
 */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const css = `
:root { --bg: #f7f8fa; --fg: #1f2430; --muted: #687083; --line: #dde1e8; --hdr: #cfd4dc; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { padding: 20px 28px 8px; }
h1 { margin: 0; font-size: 22px; }
h2 { margin: 0 0 12px; font-size: 18px; }
h2 small { color: var(--muted); font-weight: normal; font-size: 13px; margin-left: 8px; }
h3 { margin: 22px 0 8px; font-size: 14px; text-transform: uppercase; letter-spacing: .06em;
  color: var(--muted); }
.meta { color: var(--muted); margin: 4px 0 0; }
code { font: 12px ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
main { padding: 8px 28px 28px; }
.heap { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px;
  margin: 14px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 150px; }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 20px; font-weight: 600; }
.card .n { color: var(--muted); font-size: 12px; }
.card.bad .v, .bad-text { color: #c0392b; }
.card.good .v, .good-text { color: #2e8b57; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin-bottom: 8px; color: var(--muted);
  font-size: 12px; }
.legend span { display: inline-flex; align-items: center; }
.legend .scale { margin-left: auto; font-style: italic; }
.sw { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px;
  background: var(--c); vertical-align: -1px; }
.sw.free { background: repeating-linear-gradient(135deg, var(--c) 0 2px, #fff 2px 5px);
  outline: 1px solid var(--c); }
.sw.hdr { background: var(--hdr); }
.map { display: grid; gap: 4px; }
.row { display: grid; grid-template-columns: 220px 1fr; align-items: center; gap: 10px; }
.label { display: flex; flex-direction: column; line-height: 1.15; overflow: hidden;
  white-space: nowrap; }
.label span { color: var(--muted); font-size: 12px; }
.page { position: relative; height: 26px; background: var(--hdr); border-radius: 3px;
  overflow: hidden; }
.blk { position: absolute; top: 0; bottom: 0; min-width: 1px; background: var(--c);
  box-shadow: inset -1px 0 rgba(255, 255, 255, .85); }
.blk.free { background: repeating-linear-gradient(135deg, var(--c) 0 2px, #fff 2px 6px);
  opacity: .75; }
.blk:hover { outline: 2px solid var(--fg); z-index: 1; }
table { border-collapse: collapse; font-size: 13px; margin: 4px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left;
  white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tfoot td { font-weight: 600; border-bottom: none; border-top: 2px solid var(--line); }
.bar { display: inline-block; width: 60px; height: 8px; background: var(--line);
  border-radius: 4px; margin-right: 8px; overflow: hidden; vertical-align: 0; }
.bar b { display: block; height: 100%; background: #e8a33d; }
.pair { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.note { color: var(--muted); font-size: 12px; max-width: 900px; }
.empty { color: var(--muted); font-style: italic; }
#tip { position: fixed; pointer-events: none; background: #1f2430; color: #fff; padding: 6px 9px;
  border-radius: 6px; font: 12px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  white-space: pre; z-index: 10;
  box-shadow: 0 4px 14px rgba(0,0,0,.25); }
`;

// Runs in the browser: counts the drawn blocks and shows the tooltip.
const script = `
(() => {
  const report = document.getElementById("report");
  const blocks = document.querySelectorAll(".page .blk");
  let drawn = 0;
  for (const b of blocks) if (b.getBoundingClientRect().width > 0) drawn++;
  report.dataset.drawnBlocks = String(drawn);
  report.dataset.drawnPages = String(document.querySelectorAll(".page").length);
  const tip = document.getElementById("tip");
  const bytes = (n) => n < 1024 ? n + " B" : n.toLocaleString("en") + " B (" +
    (n / 1024).toFixed(1).replace(/\\.0$/, "") + " KiB)";
  const hex = (n) => "0x" + n.toString(16);
  document.addEventListener("mouseover", (e) => {
    const b = e.target.closest && e.target.closest(".blk");
    if (!b) { tip.hidden = true; return; }
    const d = b.dataset, page = b.parentElement;
    const off = Number(d.offset), size = Number(d.size), req = Number(d.requested);
    const lines = [
      (b.classList.contains("free") ? "free block" : "used block") + " · " + page.dataset.family,
      "offset " + off + " (" + hex(off) + ")",
      "addr   0x" + (BigInt(page.dataset.base) + BigInt(off)).toString(16),
      "size   " + bytes(size),
    ];
    if (!b.classList.contains("free")) lines.push("asked  " + bytes(req));
    if (d.site) lines.push("site   " + d.site);
    tip.textContent = lines.join("\\n");
    tip.hidden = false;
  });
  document.addEventListener("mousemove", (e) => {
    if (tip.hidden) return;
    const x = Math.min(e.clientX + 14, innerWidth - tip.offsetWidth - 6);
    tip.style.left = x + "px";
    tip.style.top = (e.clientY + 16) + "px";
  });
})();
`;
