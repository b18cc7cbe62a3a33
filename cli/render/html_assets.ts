/**
 * The style sheet and the script of the HTML report (see `html.ts`), as
 * strings embedded in the page.
 *
 * @module
 */

/** The page's CSS. */
export const css = `
:root { --bg: #f7f8fa; --fg: #1f2430; --muted: #687083; --line: #dde1e8; --hdr: #cfd4dc; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { padding: 20px 28px 8px; }
h1 { margin: 0; font-size: 22px; }
h2 { margin: 0 0 12px; font-size: 18px; display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px; }
h2 small { color: var(--muted); font-weight: normal; font-size: 13px; }
h3 { margin: 22px 0 8px; font-size: 14px; text-transform: uppercase; letter-spacing: .06em;
  color: var(--muted); }
h4 { margin: 16px 0 6px; font-size: 14px; }
h4 small { color: var(--muted); font-weight: normal; }
.meta { color: var(--muted); margin: 4px 0 0; }
.warn { color: #9a6700; margin: 4px 0 0; }
code { font: 12px ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
main { padding: 8px 28px 28px; }
.heap { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px;
  margin: 14px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 150px;
  background: #fff; }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 20px; font-weight: 600; }
.card .n { color: var(--muted); font-size: 12px; }
.card.bad .v, .bad-text { color: #c0392b; }
.card.good .v, .good-text { color: #2e8b57; }
.filter { margin-left: auto; font-size: 13px; font-weight: normal; color: var(--muted); }
.filter select { font: inherit; margin-left: 4px; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin-bottom: 8px; color: var(--muted);
  font-size: 12px; }
.legend span { display: inline-flex; align-items: center; }
.sw { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px;
  background: var(--c); vertical-align: -1px; }
.sw.free { background: repeating-linear-gradient(135deg, var(--c) 0 2px, #fff 2px 5px);
  outline: 1px solid var(--c); }
.sw.ind { background: repeating-linear-gradient(90deg, var(--c) 0 2px, #fff 2px 4px); }
.sw.hdr { background: var(--hdr); }
.map { display: grid; gap: 4px; }
.row { display: grid; grid-template-columns: 220px 1fr; align-items: center; gap: 10px; }
.ex .row { grid-template-columns: 1fr; min-width: 420px; }
.ex .label { display: none; }
.label { display: flex; flex-direction: column; line-height: 1.15; overflow: hidden;
  white-space: nowrap; }
.label span { color: var(--muted); font-size: 12px; }
.page { position: relative; height: 26px; background: var(--hdr); border-radius: 3px;
  overflow: hidden; }
.blk { position: absolute; top: 0; bottom: 0; min-width: 1px; background: var(--c);
  box-shadow: inset -1px 0 rgba(255, 255, 255, .85); }
.blk.free { background: repeating-linear-gradient(135deg, var(--c) 0 2px, #fff 2px 6px);
  opacity: .75; }
.blk.ind { background: repeating-linear-gradient(90deg, var(--c) 0 3px, #fff 3px 5px); }
.blk:hover { outline: 2px solid var(--fg); z-index: 1; }
canvas.strip { display: block; max-width: 100%; border: 1px solid var(--line); border-radius: 4px;
  image-rendering: pixelated; margin-bottom: 6px; }
table { border-collapse: collapse; font-size: 13px; margin: 4px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left;
  white-space: nowrap; vertical-align: middle; }
th { color: var(--muted); font-weight: 600; font-size: 12px; cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " ▲"; }
th[aria-sort="descending"]::after { content: " ▼"; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tfoot td { font-weight: 600; border-bottom: none; border-top: 2px solid var(--line); }
.note { color: var(--muted); font-size: 12px; max-width: 960px; }
.defs { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; font-size: 12px;
  color: var(--muted); max-width: 960px; }
.defs dt { font-weight: 600; color: var(--fg); }
.defs dd { margin: 0; }
.empty { color: var(--muted); font-style: italic; }
.sites { display: grid; gap: 4px; }
details.site { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; }
details.site[open] { background: #fbfbfd; }
details.site summary { cursor: pointer; }
.frames { margin: 6px 0; padding-left: 24px; }
.est { color: var(--muted); }
.examples td, .examples th { padding: 1px 10px; }
.samples { margin: 6px 0; padding-left: 24px; overflow-wrap: anywhere; }
.timeline { margin: 6px 0 12px; }
.timeline figcaption { font-size: 13px; margin-bottom: 2px; }
.timeline svg { background: #fff; border: 1px solid var(--line); border-radius: 4px; }
.timeline text { font-size: 10px; fill: var(--muted); }
.timeline .axis { stroke: var(--hdr); }
.timeline path { fill: none; stroke-width: 1.5; }
.timeline path.app, .key i.app { stroke: #e15759; background: #e15759; }
.timeline path.mapped, .key i.mapped { stroke: #4e79a7; background: #4e79a7; }
.key { font-size: 12px; color: var(--muted); display: block; }
.key i { display: inline-block; width: 14px; height: 3px; margin: 0 4px 2px 10px; }
[hidden] { display: none !important; }
#tip { position: fixed; pointer-events: none; background: #1f2430; color: #fff; padding: 6px 9px;
  border-radius: 6px; font: 12px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  white-space: pre; z-index: 10; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
`;

/** The page's script: sorting, filtering, tooltips, the occupancy strips. */
export const script = `
(() => {
  const report = document.getElementById("report");
  const tip = document.getElementById("tip");
  const bytes = (n) => n < 1024 ? n + " B" : n.toLocaleString("en") + " B (" +
    (n / 1024).toFixed(1).replace(/\\.0$/, "") + " KiB)";
  const hex = (n) => "0x" + n.toString(16);
  const show = (lines, e) => {
    tip.textContent = lines.join("\\n");
    tip.hidden = false;
    if (e) move(e);
  };
  const move = (e) => {
    const x = Math.min(e.clientX + 14, innerWidth - tip.offsetWidth - 6);
    tip.style.left = x + "px";
    tip.style.top = (e.clientY + 16) + "px";
  };

  // Sortable tables: click (or Enter on) a column title.
  const sortBy = (th) => {
    const table = th.closest("table");
    const col = [...th.parentNode.children].indexOf(th);
    const dir = th.getAttribute("aria-sort") === "descending" ? 1 : -1;
    for (const other of th.parentNode.children) other.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = [...body.rows];
    const value = (row) => {
      const v = row.cells[col] ? row.cells[col].dataset.v : "";
      const n = Number(v);
      return v !== "" && !Number.isNaN(n) ? n : v;
    };
    rows.sort((a, b) => {
      const x = value(a), y = value(b);
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return dir * c;
    });
    for (const row of rows) body.appendChild(row);
  };
  document.addEventListener("click", (e) => {
    const th = e.target.closest && e.target.closest("table.sortable thead th");
    if (th) sortBy(th);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.matches && e.target.matches("table.sortable thead th")) sortBy(e.target);
  });

  // Occupancy strips.
  const strips = [];
  let cells = 0;
  for (const canvas of document.querySelectorAll("canvas.strip")) {
    const data = JSON.parse(canvas.nextElementSibling.textContent);
    const n = data.fill.length;
    const w = Math.max(3, Math.min(24, Math.floor(1000 / n)));
    const perRow = Math.floor(1000 / w);
    const h = w >= 12 ? 24 : 10;
    const strip = { canvas, data, w, h, perRow, family: "" };
    canvas.height = Math.ceil(n / perRow) * (h + 2);
    strips.push(strip);
    draw(strip);
    cells += n;
    canvas.addEventListener("mousemove", (e) => {
      const r = canvas.getBoundingClientRect();
      const sx = canvas.width / r.width, sy = canvas.height / r.height;
      const c = Math.floor(((e.clientY - r.top) * sy) / (h + 2)) * perRow +
        Math.floor(((e.clientX - r.left) * sx) / w);
      if (c < 0 || c >= n) { tip.hidden = true; return; }
      show([
        (data.per === 1 ? "page " : data.per + " pages from ") + hex(data.base[c]),
        "family " + data.names[data.family[c]],
        data.fill[c] + "% used by live blocks",
        data.blocks[c] + " blocks, " + data.free[c] + " free",
      ], e);
    });
    canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
  }
  function draw(strip) {
    const { canvas, data, w, h, perRow } = strip;
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, canvas.width, canvas.height);
    for (let c = 0; c < data.fill.length; c++) {
      const x = (c % perRow) * w, y = Math.floor(c / perRow) * (h + 2);
      const name = data.names[data.family[c]];
      g.globalAlpha = 1;
      g.fillStyle = "#e4e7ec";
      g.fillRect(x, y, w - 1, h);
      if (strip.family !== "" && strip.family !== name) continue;
      g.fillStyle = data.colors[data.family[c]];
      g.globalAlpha = 0.18 + 0.82 * data.fill[c] / 100;
      g.fillRect(x, y, w - 1, h);
    }
    g.globalAlpha = 1;
  }

  // Family filters: one per heap section.
  for (const select of document.querySelectorAll("select.family-filter")) {
    select.addEventListener("change", () => {
      const section = select.closest("section");
      const family = select.value;
      for (const el of section.querySelectorAll("[data-family]")) {
        if (el.tagName === "DIV" && el.classList.contains("page")) continue;
        el.hidden = family !== "" && el.dataset.family !== family;
      }
      for (const strip of strips) {
        if (section.contains(strip.canvas)) { strip.family = family; draw(strip); }
      }
    });
  }

  // Block tooltips.
  document.addEventListener("mouseover", (e) => {
    const b = e.target.closest && e.target.closest(".blk");
    if (!b) { if (!(e.target instanceof HTMLCanvasElement)) tip.hidden = true; return; }
    const d = b.dataset, page = b.parentElement;
    const off = Number(d.o), size = Number(d.s), req = Number(d.r);
    const kind = b.classList.contains("free") ? "free block" :
      b.classList.contains("ind") ? "live block, indirect leak" : "live block, direct leak";
    const lines = [
      kind + " · " + page.dataset.family,
      "offset " + off + " (" + hex(off) + ")",
      "addr   " + hex(Number(page.dataset.base) + off),
      "size   " + bytes(size),
    ];
    if (req > 0) lines.push("asked  " + bytes(req));
    if (d.t) {
      const stacks = JSON.parse(b.closest("section").querySelector("script.stacks").textContent);
      for (const [i, f] of (stacks[d.t] || []).entries()) lines.push((i === 0 ? "stack  " : "       ") + f);
    }
    show(lines);
  });
  document.addEventListener("mousemove", (e) => { if (!tip.hidden) move(e); });

  let drawn = 0;
  for (const b of document.querySelectorAll(".page .blk")) if (b.getBoundingClientRect().width > 0) drawn++;
  report.dataset.drawnBlocks = String(drawn);
  report.dataset.drawnPages = String(document.querySelectorAll(".page").length);
  report.dataset.drawnCells = String(cells);
  report.dataset.ready = "1";
})();
`;
