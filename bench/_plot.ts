/**
 * A small hand-made SVG line chart: side-by-side panels, log–log axes,
 * decade grid lines, one coloured line with markers per series, a legend.
 * No library; the output is plain text that any browser renders.
 *
 * @module
 */

/** One line of a panel. */
export interface Series {
  /** Legend text. */
  label: string;
  /** Stroke colour. */
  color: string;
  /** Points (x, y), both > 0; drawn in x order. */
  points: [number, number][];
  /** Thicker line (the subject of the chart). */
  bold?: boolean;
  /** Dashed line (a reference, not a measurement). */
  dashed?: boolean;
}

/** One chart panel. */
export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const W = 470; // panel width
const H = 400; // panel height
const M = { left: 68, right: 16, top: 40, bottom: 96 }; // margins inside a panel

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Decades covering [lo, hi]. */
function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

/** "100", "10k", "1M"; "1 ns", "10 µs" for time axes. */
function tick(v: number, unit: "count" | "ns"): string {
  if (unit === "count") {
    if (v >= 1e6) return `${v / 1e6}M`;
    if (v >= 1e3) return `${v / 1e3}k`;
    return String(v);
  }
  if (v >= 1e9) return `${v / 1e9} s`;
  if (v >= 1e6) return `${v / 1e6} ms`;
  if (v >= 1e3) return `${v / 1e3} µs`;
  return `${v} ns`;
}

function panel(p: Panel, ox: number, yUnit: "count" | "ns"): string {
  const pts = p.series.flatMap((s) => s.points);
  if (pts.length === 0) {
    return `<text x="${ox + W / 2}" y="${H / 2}" text-anchor="middle">${
      esc(p.title)
    }: no data</text>`;
  }
  const xs = decades(Math.min(...pts.map((q) => q[0])), Math.max(...pts.map((q) => q[0])));
  const ys = decades(Math.min(...pts.map((q) => q[1])), Math.max(...pts.map((q) => q[1])));
  const [x0, x1] = [Math.log10(xs[0]), Math.log10(xs.at(-1)!)];
  const [y0, y1] = [Math.log10(ys[0]), Math.log10(ys.at(-1)!)];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (x: number): number => ox + M.left + (Math.log10(x) - x0) / (x1 - x0 || 1) * pw;
  const py = (y: number): number => M.top + ph - (Math.log10(y) - y0) / (y1 - y0 || 1) * ph;
  const out: string[] = [];
  out.push(`<text x="${ox + M.left + pw / 2}" y="22" class="title">${esc(p.title)}</text>`);
  out.push(`<rect x="${ox + M.left}" y="${M.top}" width="${pw}" height="${ph}" class="frame"/>`);
  for (const x of xs) {
    const X = px(x).toFixed(1);
    out.push(`<line x1="${X}" y1="${M.top}" x2="${X}" y2="${M.top + ph}" class="grid"/>`);
    out.push(
      `<text x="${X}" y="${M.top + ph + 16}" class="tick" text-anchor="middle">${
        tick(x, "count")
      }</text>`,
    );
  }
  for (const y of ys) {
    const Y = py(y).toFixed(1);
    out.push(
      `<line x1="${ox + M.left}" y1="${Y}" x2="${ox + M.left + pw}" y2="${Y}" class="grid"/>`,
    );
    out.push(
      `<text x="${ox + M.left - 6}" y="${Y}" class="tick" text-anchor="end" dy="4">${
        tick(y, yUnit)
      }</text>`,
    );
  }
  out.push(
    `<text x="${ox + M.left + pw / 2}" y="${M.top + ph + 34}" class="axis">${esc(p.xLabel)}</text>`,
  );
  const cy = M.top + ph / 2;
  out.push(
    `<text x="${ox + 16}" y="${cy}" class="axis" transform="rotate(-90 ${ox + 16} ${cy})">${
      esc(p.yLabel)
    }</text>`,
  );
  for (const s of p.series) {
    const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
    const d = sorted.map(([x, y], i) => `${i ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
      .join(" ");
    const width = s.bold ? 3 : 1.8;
    const dash = s.dashed ? ` stroke-dasharray="5 4"` : "";
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${width}"${dash}/>`);
    if (!s.dashed) {
      for (const [x, y] of sorted) {
        out.push(
          `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="${
            s.bold ? 4 : 3
          }" fill="${s.color}"/>`,
        );
      }
    }
  }
  // Legend under the plot, two columns.
  p.series.forEach((s, i) => {
    const lx = ox + M.left + (i % 2) * (pw / 2);
    const ly = M.top + ph + 54 + Math.floor(i / 2) * 17;
    const dash = s.dashed ? ` stroke-dasharray="5 4"` : "";
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${
        ly - 4
      }" stroke="${s.color}" stroke-width="${s.bold ? 3 : 2}"${dash}/>`,
    );
    out.push(`<text x="${lx + 28}" y="${ly}" class="legend">${esc(s.label)}</text>`);
  });
  return out.join("\n");
}

/** Panels side by side, with a caption line under them. */
export function chart(panels: { panel: Panel; yUnit: "count" | "ns" }[], caption: string): string {
  const width = W * panels.length;
  const height = H + 24;
  const body = panels.map((p, i) => panel(p.panel, i * W, p.yUnit)).join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">
<style>
.title { font-size: 15px; font-weight: bold; text-anchor: middle; fill: #222; }
.axis { font-size: 12.5px; text-anchor: middle; fill: #333; }
.tick { font-size: 11.5px; fill: #555; }
.legend { font-size: 12.5px; fill: #222; }
.caption { font-size: 11px; fill: #666; }
.grid { stroke: #e3e3e3; stroke-width: 1; }
.frame { fill: none; stroke: #999; stroke-width: 1; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
${body}
<text x="12" y="${height - 8}" class="caption">${esc(caption)}</text>
</svg>
`;
}
