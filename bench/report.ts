/**
 * Turns benchmark output into `bench/README.md` (tables of ratios, machine,
 * versions, date) and `bench/cost-vs-live.svg` (cost per operation against
 * live blocks).
 *
 *   deno run -A bench/report.ts [--dir bench/out] [--out bench/README.md] [--svg bench/cost-vs-live.svg]
 *
 * Inputs, from `--dir`: `deno-<i>.json` (each the stdout of one
 * `deno bench --json bench/`) and `native.json` (bench/native/run.ts).
 * Either may be missing; its sections then say so. `bench/notes.md`, when
 * present, is copied in as hand-written observations.
 *
 * How figures are combined: per Deno run, each bench's mean time per
 * iteration (Deno's `avg`) is divided by the ops per iteration named in
 * its group ("×1000"), and by its baseline's from the same run (a paired
 * ratio); the tables give the median over runs. Native figures are the
 * runner's medians and paired median ratios against glibc. The goals of
 * the round are computed the same way from the same files: each is the
 * median of paired ratios (per Deno run, or per native round) with their
 * range, against its target.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { chart, type Series } from "./_plot.ts";
import type { NativeResults } from "./native/run.ts";

const BENCH = dirname(fileURLToPath(import.meta.url));

// ── Input ──────────────────────────────────────────────────────────────────

/** One bench of one `deno bench --json` run. */
export interface DenoEntry {
  run: number;
  group: string;
  name: string;
  baseline: boolean;
  /** Mean ns per iteration. */
  avg: number;
  /** Iterations measured. */
  n: number;
}

/** Deno's JSON (the parts read here). */
interface DenoJson {
  runtime?: string;
  cpu?: string;
  benches: {
    group: string | null;
    name: string;
    baseline: boolean;
    results: { ok?: { n: number; avg: number } }[];
  }[];
}

/** Flattens one run's JSON into entries (failed benches are left out). */
export function parseDeno(json: DenoJson, run: number): DenoEntry[] {
  const out: DenoEntry[] = [];
  for (const b of json.benches) {
    const ok = b.results[0]?.ok;
    if (ok === undefined) continue;
    out.push({
      run,
      group: b.group ?? "",
      name: b.name,
      baseline: b.baseline,
      avg: ok.avg,
      n: ok.n,
    });
  }
  return out;
}

/** Ops per iteration, from "(×1000)" in a group name; 1 when absent. */
export function opsOf(group: string): number {
  const m = group.match(/×(\d+)/);
  return m ? Number(m[1]) : 1;
}

// ── Statistics ─────────────────────────────────────────────────────────────

/** Median (mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One bench's figures over all runs. */
export interface Cell {
  /** Median ns per op. */
  ns: number;
  /** Median paired ratio to the group's baseline, with its range. */
  ratio: number;
  min: number;
  max: number;
  runs: number;
}

/** The cell of `name` in `group`, or undefined when it never ran. */
export function cell(entries: DenoEntry[], group: string, name: string): Cell | undefined {
  const mine = entries.filter((e) => e.group === group && e.name === name);
  if (mine.length === 0) return undefined;
  const ops = opsOf(group);
  const ratios: number[] = [];
  for (const e of mine) {
    const base = entries.find((b) => b.group === group && b.baseline && b.run === e.run);
    if (base) ratios.push(e.avg / base.avg);
  }
  return {
    ns: median(mine.map((e) => e.avg / ops)),
    ratio: ratios.length ? median(ratios) : NaN,
    min: ratios.length ? Math.min(...ratios) : NaN,
    max: ratios.length ? Math.max(...ratios) : NaN,
    runs: mine.length,
  };
}

/** Paired ratios summarised: their median, range and count. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** The spread of some paired ratios, or undefined when there are none. */
export function spread(ratios: number[]): Spread | undefined {
  if (ratios.length === 0) return undefined;
  return {
    median: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    n: ratios.length,
  };
}

/** Per run, `a`'s time over `b`'s, both of `group` (paired ratios to any peer). */
export function pairedRatios(entries: DenoEntry[], group: string, a: string, b: string): number[] {
  const ratios: number[] = [];
  for (const e of entries) {
    if (e.group !== group || e.name !== a) continue;
    const other = entries.find((x) => x.group === group && x.name === b && x.run === e.run);
    if (other) ratios.push(e.avg / other.avg);
  }
  return ratios;
}

/** Median over runs of `a`'s time over `b`'s, both of `group` (a paired ratio to any peer). */
export function pairedRatio(entries: DenoEntry[], group: string, a: string, b: string): number {
  return spread(pairedRatios(entries, group, a, b))?.median ?? NaN;
}

/** Groups in first-seen order. */
function groups(entries: DenoEntry[], prefix: string): string[] {
  return [...new Set(entries.filter((e) => e.group.startsWith(prefix)).map((e) => e.group))];
}

// ── Formatting ─────────────────────────────────────────────────────────────

/** A time in ns, with a unit that keeps 2–3 significant digits. */
export function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return "–";
  if (ns < 10) return `${ns.toFixed(2)} ns`;
  if (ns < 100) return `${ns.toFixed(1)} ns`;
  if (ns < 1e4) return `${Math.round(ns)} ns`;
  if (ns < 1e7) return `${(ns / 1e3).toFixed(ns < 1e5 ? 1 : 0)} µs`;
  return `${(ns / 1e6).toFixed(ns < 1e8 ? 1 : 0)} ms`;
}

/** A ratio: "0.83×", "12.4×", "1896×". */
export function fmtRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return "–";
  if (r < 10) return `${r.toFixed(2)}×`;
  if (r < 100) return `${r.toFixed(1)}×`;
  return `${Math.round(r)}×`;
}

function fmtRange(c: Cell): string {
  return c.runs > 1 && Number.isFinite(c.min) ? ` (${fmtRatio(c.min)}–${fmtRatio(c.max)})` : "";
}

/** "1.23× (1.10×–1.31×)": a spread's median and, over more than one run, its range. */
export function fmtSpread(x: Spread | undefined): string {
  if (x === undefined) return "–";
  return x.n > 1
    ? `${fmtRatio(x.median)} (${fmtRatio(x.min)}–${fmtRatio(x.max)})`
    : fmtRatio(x.median);
}

function fmtMiB(kb: number): string {
  return kb >= 1024 * 10 ? `${(kb / 1024).toFixed(0)} MiB` : `${(kb / 1024).toFixed(1)} MiB`;
}

/** A Markdown table; the first `left` columns are text (left-aligned), the rest figures. */
function table(head: string[], rows: string[][], left = 1): string {
  const align = head.map((_, i) => (i < left ? "---" : "---:"));
  return [head, align, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

// ── Deno sections ──────────────────────────────────────────────────────────

/** A goal of the round, and whether this run met it. */
export interface Goal {
  /** Where it is measured: "Deno" or "native". */
  where: string;
  what: string;
  /** "≤ 0.5×", "≥ 15×". */
  target: string;
  /** The paired ratios it is judged on (undefined: the run has no data for it). */
  measured?: Spread;
  /** undefined when there is no data. */
  met?: boolean;
  /** A previous round's target judged on the same figures (shown in the same row). */
  also?: { target: string; met: boolean };
}

/** A goal judged on the median of `measured`: `at most` or `at least` the target. */
export function goal(
  where: string,
  what: string,
  measured: Spread | undefined,
  bound: "at most" | "at least",
  target: number,
  previous?: number,
): Goal {
  const sign = bound === "at most" ? "≤" : "≥";
  const meets = (t: number): boolean =>
    bound === "at most" ? measured!.median <= t : measured!.median >= t;
  return {
    where,
    what,
    target: `${sign} ${target}×`,
    measured,
    met: measured === undefined ? undefined : meets(target),
    also: measured !== undefined && previous !== undefined
      ? { target: `${sign} ${previous}×`, met: meets(previous) }
      : undefined,
  };
}

/** Something LMM does, against its peer. */
export interface Versus {
  where: string;
  ratio: number;
  /** The same case against a peer that does the same work (zeroing), when there is one. */
  alt?: string;
}

interface Section {
  markdown: string;
  versus: Versus[];
}

function pairSection(entries: DenoEntry[]): Section {
  const versus: Versus[] = [];
  const rows: string[][] = [];
  for (const g of groups(entries, "pair ")) {
    const size = g.replace(/^pair (.+?) \(.*$/, "$1");
    const libc = cell(entries, g, "libc malloc+free");
    const calloc = cell(entries, g, "libc calloc+free");
    const lmm = cell(entries, g, "lmm allocBytes+free");
    const raw = cell(entries, g, "lmm raw FFI");
    const u8 = cell(entries, g, "new Uint8Array");
    if (!libc || !lmm) continue;
    const uOverL = u8 ? u8.ns / lmm.ns : NaN;
    const vsCalloc = calloc
      ? pairedRatio(entries, g, "lmm allocBytes+free", "libc calloc+free")
      : NaN;
    rows.push([
      size,
      fmtNs(libc.ns),
      calloc ? fmtNs(calloc.ns) : "–",
      fmtNs(lmm.ns),
      `**${fmtRatio(lmm.ratio)}**${fmtRange(lmm)}`,
      fmtRatio(vsCalloc),
      raw ? fmtNs(raw.ns) : "–",
      u8 ? fmtNs(u8.ns) : "–",
      Number.isFinite(uOverL)
        ? (uOverL >= 1 ? `${fmtRatio(uOverL)} faster` : `${fmtRatio(1 / uOverL)} slower`)
        : "–",
    ]);
    versus.push({
      where: `Deno pair ${size} vs libc malloc+free through dlopen`,
      ratio: lmm.ratio,
      alt: Number.isFinite(vsCalloc)
        ? `against libc calloc+free, which zeroes as LMM does: ${fmtRatio(vsCalloc)}`
        : undefined,
    });
  }
  const markdown = rows.length === 0 ? "_No data (run `scripts/bench`)._" : [
    table([
      "size",
      "libc malloc+free (baseline)",
      "libc calloc+free",
      "lmm allocBytes+free",
      "lmm ÷ malloc (range)",
      "lmm ÷ calloc",
      "lmm raw FFI",
      "new Uint8Array",
      "lmm vs Uint8Array",
    ], rows),
  ].join("\n");
  return { markdown, versus };
}

/** One group's peers: time per op and ratio to the baseline. */
function groupTable(entries: DenoEntry[], g: string, unit: string): string {
  const names = [...new Set(entries.filter((e) => e.group === g).map((e) => e.name))];
  const rows: string[][] = [];
  for (const name of names) {
    const c = cell(entries, g, name)!;
    rows.push([name, fmtNs(c.ns), `**${fmtRatio(c.ratio)}**${fmtRange(c)}`]);
  }
  return table(["peer", `time per ${unit}`, "÷ baseline (range over runs)"], rows);
}

function workloadSection(
  entries: DenoEntry[],
  prefix: string,
  unit: string,
): Section & { group?: string } {
  const g = groups(entries, prefix)[0];
  if (g === undefined) return { markdown: "_No data._", versus: [] };
  return { markdown: groupTable(entries, g, unit), versus: [], group: g };
}

function mixedSection(entries: DenoEntry[]): Section {
  const s = workloadSection(entries, "mixed ", "op (free + alloc)");
  if (s.group === undefined) return s;
  const lmm = cell(entries, s.group, "lmm allocBytes+free");
  if (lmm) {
    s.versus.push({ where: "Deno mixed workload vs libc through dlopen", ratio: lmm.ratio });
  }
  return s;
}

/** Suite 5: one table, a column per operation (get, set, update), a row per peer. */
function layoutSection(entries: DenoEntry[]): string {
  const gs = groups(entries, "layout ");
  if (gs.length === 0) return "_No data._";
  const names = [...new Set(entries.filter((e) => gs.includes(e.group)).map((e) => e.name))];
  const head = [
    "peer",
    ...gs.map((g) => `${g.replace(/^layout (\w+).*$/, "$1")}: per record, ÷ baseline (range)`),
  ];
  const rows = names.map((name) => [
    name,
    ...gs.map((g) => {
      const c = cell(entries, g, name);
      return c ? `${fmtNs(c.ns)}, **${fmtRatio(c.ratio)}**${fmtRange(c)}` : "–";
    }),
  ]);
  return table(head, rows);
}

/** The record suite's groups, in the order the suite runs them, with what one op is. */
const RECORD_GROUPS: { prefix: string; title: string; unit: string }[] = [
  {
    prefix: "record (",
    title: "One record at a time: allocate, write 2 fields, read them, free",
    unit: "record",
  },
  {
    prefix: "table create+update+read+delete",
    title: "A table of 100k records: create, update every one, read every one, delete",
    unit: "record",
  },
  {
    prefix: "fields of 100k live records:",
    title: "The fields of 100k live records: update 2, read 2",
    unit: "record",
  },
  {
    prefix: "fields of 100k live records after",
    title: "The same, after accessors of the same types reached blocks beyond a heap's first arena",
    unit: "record",
  },
];

function recordSection(entries: DenoEntry[]): Section {
  const parts: string[] = [];
  const versus: Versus[] = [];
  for (const r of RECORD_GROUPS) {
    const g = groups(entries, r.prefix)[0];
    if (g === undefined) continue;
    parts.push(`#### ${r.title}\n\n${groupTable(entries, g, r.unit)}`);
  }
  const one = groups(entries, "record (")[0];
  const lmm = one ? cell(entries, one, "lmm alloc + field accessors + free") : undefined;
  if (lmm) {
    versus.push({ where: "Deno record vs new DataView(new ArrayBuffer(40))", ratio: lmm.ratio });
  }
  const fields = groups(entries, "fields of 100k live records:")[0];
  const acc = fields ? cell(entries, fields, "lmm field accessors") : undefined;
  if (acc) {
    versus.push({
      where: "Deno fields of 100k live records vs one ArrayBuffer at fixed offsets",
      ratio: acc.ratio,
    });
  }
  return { markdown: parts.length ? parts.join("\n\n") : "_No data._", versus };
}

function familiesSection(entries: DenoEntry[]): Section {
  const s = workloadSection(entries, "families ", "alloc+free pair");
  if (s.group !== undefined) {
    const lmm = cell(entries, s.group, "lmm families");
    if (lmm) {
      s.versus.push({ where: "Deno families vs libc calloc through dlopen", ratio: lmm.ratio });
    }
  }
  return s;
}

/** Introspection: time per call and per live block, by heap size. */
export function introspection(
  entries: DenoEntry[],
): { call: string; points: [number, number][] }[] {
  const out: { call: string; points: [number, number][] }[] = [];
  for (const g of groups(entries, "")) {
    const m = g.match(/^(\w+\(\)) by live blocks$/);
    if (!m) continue;
    const names = [...new Set(entries.filter((e) => e.group === g).map((e) => e.name))];
    const points: [number, number][] = [];
    for (const name of names) {
      const live = Number(name.match(/^(\d+e\d+) live$/)?.[1]);
      const c = cell(entries, g, name);
      if (c && Number.isFinite(live)) points.push([live, c.ns]);
    }
    out.push({ call: m[1], points: points.sort((a, b) => a[0] - b[0]) });
  }
  return out;
}

function introspectionSection(entries: DenoEntry[]): string {
  const data = introspection(entries);
  if (data.length === 0) return "_No data._";
  const sizes = [...new Set(data.flatMap((d) => d.points.map((p) => p[0])))].sort((a, b) => a - b);
  const head = [
    "call",
    ...sizes.map((s) => `${s.toExponential(0).replace("+", "")} live: per call (per block)`),
  ];
  const growth: string[] = [];
  for (let i = 1; i < sizes.length; i++) {
    head.push(
      `growth ${sizes[i - 1].toExponential(0).replace("+", "")}→${
        sizes[i].toExponential(0).replace("+", "")
      } (linear: ${fmtRatio(sizes[i] / sizes[i - 1])})`,
    );
    growth.push("");
  }
  const rows = data.map((d) => {
    const at = (s: number): number | undefined => d.points.find((p) => p[0] === s)?.[1];
    const row = [`\`${d.call}\``];
    for (const s of sizes) {
      const t = at(s);
      row.push(t === undefined ? "–" : `${fmtNs(t)} (${fmtNs(t / s)})`);
    }
    for (let i = 1; i < sizes.length; i++) {
      const a = at(sizes[i - 1]);
      const b = at(sizes[i]);
      row.push(a && b ? fmtRatio(b / a) : "–");
    }
    return row;
  });
  return table(head, rows);
}

// ── Native sections ────────────────────────────────────────────────────────

type NativeCase = NativeResults["cases"][number];

/** Per round, `field` of (case a, allocator x) over that of (case b, allocator y). */
export function nativeRatios(
  n: NativeResults,
  a: [string, string],
  b: [string, string],
  field: "ns_per_op" | "maxrss_kb" = "ns_per_op",
): number[] {
  const ratios: number[] = [];
  for (const r of n.runs) {
    if (r.case !== a[0] || r.allocator !== a[1]) continue;
    const o = n.runs.find((x) => x.case === b[0] && x.allocator === b[1] && x.round === r.round);
    if (o) ratios.push(r[field] / o[field]);
  }
  return ratios;
}

/** Cases of the time and RSS tables: everything but the threads cases (their own table). */
function singleThreaded(n: NativeResults): NativeCase[] {
  return n.cases.filter((c) => c.threads === undefined);
}

/** A column of a native table: an allocator and its heading. */
interface Column {
  id: string;
  label: string;
}

const NATIVE_COLUMNS: Column[] = [
  { id: "lmm", label: "LMM" },
  { id: "glibc", label: "glibc malloc (baseline)" },
  { id: "jemalloc", label: "jemalloc" },
  { id: "mimalloc", label: "mimalloc" },
  { id: "glibc-calloc", label: "glibc calloc" },
  { id: "lmm-4m", label: "LMM, 4 MiB pages" },
  { id: "lmm-exact-4k", label: "LMM exact, 4 KiB pages" },
];

/** The columns some case has data for. */
function present(cases: NativeCase[], columns: Column[]): Column[] {
  return columns.filter(({ id }) => cases.some((c) => c.results[id] !== undefined));
}

function nativeTime(n: NativeResults): { markdown: string; versus: Versus[] } {
  const versus: Versus[] = [];
  const cases = singleThreaded(n);
  const columns = present(cases, NATIVE_COLUMNS);
  const rows = cases.map((c) => {
    const lmm = c.results.lmm;
    if (lmm?.ratio !== undefined) {
      const calloc = c.results["glibc-calloc"];
      versus.push({
        where: `native ${c.id} vs glibc malloc`,
        ratio: lmm.ratio,
        alt: calloc?.ratio !== undefined
          ? `against glibc calloc, which zeroes as LMM does: ${fmtRatio(lmm.ratio / calloc.ratio)}`
          : undefined,
      });
    }
    return [
      c.id,
      ...columns.map(({ id }) => {
        const s = c.results[id];
        if (!s) return "";
        const r = id === "glibc"
          ? ""
          : ` (${id === "lmm" ? "**" : ""}${fmtRatio(s.ratio)}${id === "lmm" ? "**" : ""})`;
        return `${fmtNs(s.ns_per_op)}${r}`;
      }),
    ];
  });
  return { markdown: table(["case", ...columns.map((c) => c.label)], rows), versus };
}

function nativeRss(n: NativeResults): string {
  const cases = singleThreaded(n).filter((c) => !c.id.startsWith("pair"));
  const columns = present(cases, [
    { id: "lmm", label: "LMM" },
    { id: "glibc", label: "glibc (baseline)" },
    { id: "jemalloc", label: "jemalloc" },
    { id: "mimalloc", label: "mimalloc" },
    { id: "lmm-exact-4k", label: "LMM exact, 4 KiB pages" },
  ]);
  const rows = cases.map((c) => [
    c.id,
    ...columns.map(({ id }) => {
      const s = c.results[id];
      if (!s) return "";
      return id === "glibc"
        ? fmtMiB(s.maxrss_kb)
        : `${fmtMiB(s.maxrss_kb)} (${fmtRatio(s.rss_ratio)})`;
    }),
  ]);
  return table(["case", ...columns.map((c) => c.label)], rows);
}

/** The threads cases by thread count and frees across threads. */
interface ThreadsCases {
  one?: NativeCase;
  two?: NativeCase;
  across?: NativeCase;
  cpuOne?: NativeCase;
  cpuTwo?: NativeCase;
}

function threadsCases(n: NativeResults): ThreadsCases {
  const find = (workload: string, threads: number, across: boolean): NativeCase | undefined =>
    n.cases.find((c) =>
      c.args[0] === workload && c.threads?.n === threads && (c.threads.cross > 0) === across
    );
  return {
    one: find("threads", 1, false),
    two: find("threads", 2, false),
    across: find("threads", 2, true),
    cpuOne: find("cpu", 1, false),
    cpuTwo: find("cpu", 2, false),
  };
}

/** Per round, an allocator's throughput with 2 threads over its throughput with 1 (time 1 ÷ time 2). */
export function scaling(
  n: NativeResults,
  one: NativeCase | undefined,
  two: NativeCase | undefined,
  allocator: string,
): Spread | undefined {
  if (!one || !two) return undefined;
  return spread(nativeRatios(n, [one.id, allocator], [two.id, allocator]));
}

const THREAD_ROWS: Column[] = [
  { id: "lmm", label: "LMM (thread caches)" },
  { id: "lmm-lock", label: "LMM, no thread cache (one lock)" },
  { id: "glibc", label: "glibc" },
  { id: "jemalloc", label: "jemalloc" },
  { id: "mimalloc", label: "mimalloc" },
  { id: "none", label: "no allocation (cpu control)" },
];

/** Time per pair at 1 and 2 threads and the throughput ratio 2 ÷ 1 per allocator. */
function nativeThreads(n: NativeResults): { markdown: string; versus: Versus[] } {
  const t = threadsCases(n);
  if (!t.one || !t.two) return { markdown: "_No threads cases in this run._", versus: [] };
  const versus: Versus[] = [];
  const lmm2 = t.two.results.lmm;
  if (lmm2?.ratio !== undefined) {
    versus.push({ where: `native ${t.two.id} vs glibc malloc`, ratio: lmm2.ratio });
  }
  const ns = (c: NativeCase | undefined, id: string): string => {
    const s = c?.results[id];
    return s ? fmtNs(s.ns_per_op) : "";
  };
  const rows: string[][] = [];
  for (const { id, label } of THREAD_ROWS) {
    const cpu = id === "none";
    const one = cpu ? t.cpuOne : t.one;
    const two = cpu ? t.cpuTwo : t.two;
    if (!one?.results[id] && !two?.results[id]) continue;
    const s0 = scaling(n, one, two, id);
    const s25 = cpu ? undefined : scaling(n, one, t.across, id);
    rows.push([
      label,
      ns(one, id),
      ns(two, id),
      cpu ? "" : ns(t.across, id),
      id === "lmm" ? `**${fmtSpread(s0)}**` : fmtSpread(s0),
      cpu ? "" : fmtSpread(s25),
    ]);
  }
  const across = t.across?.threads?.cross ?? 0;
  return {
    markdown: table([
      "allocator",
      "1 thread",
      "2 threads",
      `2 threads, ${across}% freed across`,
      "throughput 2 ÷ 1 thread",
      `throughput 2 (${across}% across) ÷ 1`,
    ], rows),
    versus,
  };
}

function nativeLmmState(n: NativeResults): string {
  const rows = n.cases.filter((c) => c.results.lmm?.lmm).map((c) => {
    const s = c.results.lmm.lmm!;
    return [
      c.id,
      String(s.pages),
      fmtMiB(s.bytes_mapped / 1024),
      String(s.free_blocks),
      fmtMiB(s.free_bytes / 1024),
      `${s.largest_free} B`,
    ];
  });
  return table(
    ["case", "VM pages", "mapped", "free blocks", "free bytes", "largest free block"],
    rows,
  );
}

// ── Goals of the round ─────────────────────────────────────────────────────

/** This round's goals, each judged on the paired ratios of this run's files. */
export function roundGoals(entries: DenoEntry[], native: NativeResults | undefined): Goal[] {
  const goals: Goal[] = [];
  const deno = (prefix: string, a: string, b: string): Spread | undefined => {
    const g = groups(entries, prefix)[0];
    return g === undefined ? undefined : spread(pairedRatios(entries, g, a, b));
  };
  for (const size of ["16 B", "256 B"]) {
    goals.push(goal(
      "Deno",
      `pair ${size}: lmm allocBytes+free ÷ libc malloc+free through dlopen`,
      deno(`pair ${size} (`, "lmm allocBytes+free", "libc malloc+free"),
      "at most",
      0.5,
    ));
  }
  goals.push(goal(
    "Deno",
    "mixed workload (10k live): lmm allocBytes+free ÷ libc malloc+free through dlopen",
    deno("mixed ", "lmm allocBytes+free", "libc malloc+free"),
    "at most",
    0.6,
  ));
  goals.push(goal(
    "Deno",
    "record (alloc, 2 writes, 2 reads, free): LMM field accessors faster than `new DataView(new ArrayBuffer(40))` by",
    deno("record (", "new DataView(new ArrayBuffer(40))", "lmm alloc + field accessors + free"),
    "at least",
    15,
    4,
  ));
  goals.push(goal(
    "Deno",
    "fields of 100k live records: lmm field accessors ÷ the fixed-offset loop over one ArrayBuffer",
    deno("fields of 100k live records:", "lmm field accessors", "one ArrayBuffer, fixed offsets"),
    "at most",
    1.5,
  ));
  const nat = (
    a: [string, string],
    b: [string, string],
    field?: "ns_per_op" | "maxrss_kb",
  ): Spread | undefined => native ? spread(nativeRatios(native, a, b, field)) : undefined;
  for (const size of ["16 B", "256 B"]) {
    goals.push(goal(
      "native",
      `pair ${size}: lmm ÷ glibc malloc+free`,
      nat([`pair ${size}`, "lmm"], [`pair ${size}`, "glibc"]),
      "at most",
      1,
    ));
  }
  const fam = native?.cases.find((c) => c.id.startsWith("families"))?.id ?? "families";
  goals.push(goal(
    "native",
    "families 40/72/200 B: lmm ÷ glibc calloc+free",
    nat([fam, "lmm"], [fam, "glibc"]),
    "at most",
    1,
  ));
  goals.push(goal(
    "native",
    "families 40/72/200 B: lmm faster than lmm-exact-4k (the classic policy: worst fit, 4 KiB pages, no cache) by",
    nat([fam, "lmm-exact-4k"], [fam, "lmm"]),
    "at least",
    10,
  ));
  const churn = native?.cases.find((c) => c.sweep === 100_000)?.id ?? "churn 100k live";
  goals.push(goal(
    "native",
    "churn 100k live: peak RSS lmm ÷ glibc",
    nat([churn, "lmm"], [churn, "glibc"], "maxrss_kb"),
    "at most",
    1.1,
  ));
  const t = native ? threadsCases(native) : {};
  goals.push(goal(
    "native",
    "threads: lmm throughput with 2 threads ÷ with 1 (no frees across threads)",
    native ? scaling(native, t.one, t.two, "lmm") : undefined,
    "at least",
    1.6,
  ));
  return goals;
}

function goalsTable(goals: Goal[]): string {
  const verdict = (met: boolean | undefined): string =>
    met === undefined ? "no data" : met ? "met" : "**not met**";
  const rows = goals.map((g) => [
    g.where,
    g.what,
    g.also ? `${g.target} (${g.also.target})` : g.target,
    fmtSpread(g.measured),
    g.also ? `${verdict(g.met)} (${verdict(g.also.met)})` : verdict(g.met),
  ]);
  return table(["", "goal", "target", "measured (range)", "result"], rows, 2);
}

// ── The plot ───────────────────────────────────────────────────────────────

const COLORS: Record<string, string> = {
  lmm: "#d62728",
  glibc: "#1f77b4",
  jemalloc: "#2ca02c",
  mimalloc: "#9467bd",
  "stats()": "#8c564b",
  "leaks()": "#e377c2",
  "blocks()": "#ff7f0e",
  "check()": "#17becf",
};

/** The SVG: native churn cost by live-set size, and introspection cost per live block. */
export function plot(
  entries: DenoEntry[],
  native: NativeResults | undefined,
  caption: string,
): string {
  const churn: Series[] = [];
  if (native) {
    for (const id of ["lmm", "glibc", "jemalloc", "mimalloc"]) {
      const points: [number, number][] = native.cases
        .filter((c) => c.sweep !== undefined && c.results[id])
        .map((c) => [c.sweep!, c.results[id].ns_per_op]);
      if (points.length) {
        churn.push({
          label: id === "lmm" ? "LMM" : id,
          color: COLORS[id],
          points,
          bold: id === "lmm",
        });
      }
    }
  }
  const intro: Series[] = introspection(entries).map((d) => ({
    label: `${d.call} (mod.ts)`,
    color: COLORS[d.call] ?? "#333",
    points: d.points.map(([live, ns]) => [live, ns / live] as [number, number]),
  }));
  return chart([
    {
      panel: {
        title: "Native churn: free + alloc of 8–512 B",
        xLabel: "live blocks",
        yLabel: "time per free+alloc pair (median)",
        series: churn,
      },
      yUnit: "ns",
    },
    {
      panel: {
        title: "Introspection from Deno, per live block",
        xLabel: "live blocks",
        yLabel: "time per call ÷ live blocks",
        series: intro,
      },
      yUnit: "ns",
    },
  ], caption);
}

// ── The document ───────────────────────────────────────────────────────────

/** Everything the document is made of. */
export interface Inputs {
  entries: DenoEntry[];
  denoRuns: number;
  denoRuntime: string;
  native?: NativeResults;
  notes?: string;
  svgPath: string;
  date: string;
}

/** The slowest case against its peer. */
export function slowest(versus: Versus[]): Versus | undefined {
  return versus.filter((v) => Number.isFinite(v.ratio)).sort((a, b) => b.ratio - a.ratio)[0];
}

/** bench/README.md. */
export function render(inp: Inputs): string {
  const { entries, native } = inp;
  const pair = pairSection(entries);
  const mixed = mixedSection(entries);
  const families = familiesSection(entries);
  const records = recordSection(entries);
  const nt = native ? nativeTime(native) : undefined;
  const th = native ? nativeThreads(native) : undefined;
  const goals = roundGoals(entries, native);
  const versus = [
    ...pair.versus,
    ...mixed.versus,
    ...families.versus,
    ...records.versus,
    ...(nt?.versus ?? []),
    ...(th?.versus ?? []),
  ];
  const worst = slowest(versus);
  // Pairs of 64 KiB and more are mostly zeroing, which malloc skips: the worst case among the rest.
  const sameWork = slowest(versus.filter((x) => !/pair (64 KiB|1 MiB)/.test(x.where)));
  const m = native?.machine;
  const v = native?.versions;
  const machine = m
    ? `${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.os}, Linux ${m.kernel}`
    : "(native results missing: machine not recorded)";
  const versions = v
    ? `Deno ${v.deno} (V8 ${v.v8}), Zig ${v.zig}, ${v.cc}, glibc ${v.glibc}, jemalloc ${v.jemalloc}, mimalloc ${v.mimalloc}; LMM ${v.lmm}`
    : inp.denoRuntime;
  const load = native
    ? `load average ${
      native.loadavg.before.map((x) => x.toFixed(2)).join(" ")
    } before the native run, ${native.loadavg.after.map((x) => x.toFixed(2)).join(" ")} after`
    : "";
  const svg = relative(BENCH, inp.svgPath);
  const t = native ? threadsCases(native) : {};
  const cpuScaling = native ? scaling(native, t.cpuOne, t.cpuTwo, "none") : undefined;
  const met = goals.filter((g) => g.met === true).length;
  const judged = goals.filter((g) => g.met !== undefined).length;

  const headline: string[][] = [];
  const pick = (label: string, group: string | undefined, name: string): void => {
    if (!group) return;
    const c = cell(entries, group, name);
    const base = entries.find((e) => e.group === group && e.baseline);
    const b = base ? cell(entries, group, base.name) : undefined;
    if (c && b && base) {
      headline.push([label, base.name, fmtNs(b.ns), fmtNs(c.ns), `**${fmtRatio(c.ratio)}**`]);
    }
  };
  for (const g of groups(entries, "pair ")) {
    pick(`Deno: ${g.replace(/ \(.*$/, "")}`, g, "lmm allocBytes+free");
  }
  pick("Deno: mixed, 10k live, per op", groups(entries, "mixed ")[0], "lmm allocBytes+free");
  pick("Deno: families 40/72/200 B", groups(entries, "families ")[0], "lmm families");
  pick(
    "Deno: record alloc, write, read, free",
    groups(entries, "record (")[0],
    "lmm alloc + field accessors + free",
  );
  pick(
    "Deno: fields of 100k live records",
    groups(entries, "fields of 100k live records:")[0],
    "lmm field accessors",
  );
  for (const c of native?.cases ?? []) {
    if (c.sweep !== undefined && c.sweep !== 100_000) continue;
    if (c.threads !== undefined && c !== t.two) continue;
    const s = c.results.lmm;
    const g = c.results.glibc;
    if (s && g) {
      const peer = c.id.startsWith("families") ? "glibc calloc+free" : "glibc malloc+free";
      headline.push([
        `native: ${c.id}`,
        peer,
        fmtNs(g.ns_per_op),
        fmtNs(s.ns_per_op),
        `**${fmtRatio(s.ratio)}**`,
      ]);
    }
  }

  const threadsText = th
    ? `Threads sharing one heap (native; time per alloc+free pair over all threads, so the throughput
ratio 2 ÷ 1 thread is time with 1 thread over time with 2, per round, median and range${
      cpuScaling
        ? `; the cpu control — the same threads drawing random numbers, no allocator — gives the
machine's own ceiling, ${fmtSpread(cpuScaling)}`
        : ""
    }):

${th.markdown}`
    : "";

  const readme =
    `<!-- README section: begin (copy from here to "README section: end" into README.md) -->
## Benchmarks

LMM against what a user would take instead, measured side by side in the same run on one machine
(${machine}; ${inp.date.slice(0, 10)}). Times are per alloc+free pair (mixed: per free+alloc
op; records: per record); LMM ÷ peer is the paired median ratio — below 1.00× LMM is faster, above
it slower. Full tables, method and versions: [bench/README.md](bench/README.md).

${table(["case", "peer", "peer time", "LMM time", "LMM ÷ peer"], headline, 2)}

Goals of this round, each computed from this run: the median of the paired ratios (per Deno bench
run or per native round) and their range; ${met} of ${judged} met${
      judged < goals.length ? `, ${goals.length - judged} without data` : ""
    }. In brackets: the previous round's target on the same figures.

${goalsTable(goals)}

${threadsText}

${
      worst
        ? `Slowest case against its peer: **${worst.where}, ${fmtRatio(worst.ratio)}**${
          worst.alt ? ` (${worst.alt})` : ""
        }.`
        : ""
    }${
      sameWork && sameWork !== worst
        ? ` Slowest apart from the pairs of 64 KiB and more (whose cost is zeroing, which malloc skips): **${sameWork.where}, ${
          fmtRatio(sameWork.ratio)
        }**.`
        : ""
    }

![Cost per operation against live blocks](bench/cost-vs-live.svg)

Run them: \`deno task bench\` (the Deno suites, human-readable) or \`bash scripts/bench\` (all
suites ${
      inp.denoRuns > 1 ? `${inp.denoRuns} times` : "once"
    }, the native comparison, then this report).
<!-- README section: end -->`;

  const denoHead =
    `${inp.denoRuns} run${
      inp.denoRuns === 1 ? "" : "s"
    } of \`deno bench --json bench/\` (${inp.denoRuntime}); ` +
    "each figure is the median over runs of Deno's mean time per iteration divided by the operations per " +
    "iteration; each ratio is the median of the per-run ratios to the group's baseline, with their range.";

  const nativeBody = native
    ? `${native.rounds} round${
      native.rounds === 1 ? "" : "s"
    }, alternating (each round runs every case against every allocator in turn),
${native.duration_s} s in all; ${load}. Time is the harness's timed loop (setup and teardown apart),
median of the rounds; ratios are paired (same round) medians against glibc \`malloc\`. Peers are the
same binary under \`LD_PRELOAD\` (the harness checks which library provides \`malloc\`). \`LMM\` is
the library's default heap (front caches, size classes, thread caches, 64 KiB pages).
${native.quick ? "\n**Quick run: tiny op counts, the figures mean nothing.**\n" : ""}
#### Time per alloc+free pair

${nt!.markdown}

In \`families\` the malloc columns allocate with \`calloc\` (zeroed structures, as LMM's families).
\`glibc calloc\` is the pairs with zeroing, as LMM always does; \`LMM, 4 MiB pages\` is the same
engine with \`page_size\` = 4 MiB, where 64 KiB and 1 MiB requests fit in a regular VM page;
\`LMM exact, 4 KiB pages\` is the classic C implementation's policy: the worst-fit heap
(\`LMM_HEAP_EXACT\`: no front caches, size classes or idle pages) on 4 KiB pages.

#### Threads

Each thread keeps 64 live blocks of 16–512 B and replaces one at a time; in the third case 25% of
the blocks a thread lets go pass through a shared mailbox and are freed by another thread. Time
per alloc+free pair over all threads (wall time ÷ all threads' pairs: total throughput); the
throughput ratios are, per round, an allocator's time with 1 thread over its time with 2, median
and range. \`LMM, no thread cache\` is the same heap with \`LMM_HEAP_NO_THREAD_CACHE\` (every call
takes the heap's lock). The cpu control runs the same threads drawing random numbers with no
allocator: what two threads can gain on this machine at all.

${th!.markdown}

#### Peak RSS (VmHWM)

${nativeRss(native)}

#### LMM's heap at the peak live set of each run

${nativeLmmState(native)}`
    : "_No native results (run `deno run -A bench/native/run.ts`)._";

  return `# Benchmarks

<!-- Generated by bench/report.ts from bench/out/ — edit the script or bench/notes.md, not this file. -->

${readme}

## Machine and versions

- Date: ${inp.date}
- Machine: ${machine}
- Versions: ${versions}
- Noise: the machine is a shared 2-core VM where other jobs run (runs vary up to 2×); every
  comparison below is paired within one run and summarised by medians over runs.

## Deno suites (\`bench/*_bench.ts\`)

${denoHead}

### 1. alloc+free pair (\`pair_bench.ts\`)

Per size: \`libc malloc+free\` through \`Deno.dlopen\` (BigInt size, pointer result: its fast path,
the baseline), \`Heap.allocBytes\` + \`Heap.free\` (mod.ts: blocks of a size class are served by the
TypeScript tier without an FFI call), LMM's C ABI called directly for each allocation and free
(\`lmm raw FFI\`: the engine's front caches behind one FFI call each), and \`new Uint8Array(n)\`
left to the GC. Time per pair.

${pair.markdown}

### 2. Mixed workload (\`mixed_bench.ts\`)

10,000 live blocks; each op frees a random live block and allocates 8–512 B in its place; one
script of 10⁶ (slot, size) draws, shared by every peer; ≥ 10⁶ ops timed per peer.

${mixed.markdown}

### 3. Families (\`families_bench.ts\`)

Structures of 40, 72 and 200 B allocated zeroed in bursts of 1–32, random frees after each
burst, live set capped at 20,000: LMM families (\`heap.alloc(family)\`) against libc \`calloc\`
through dlopen.

${families.markdown}

### 4. Introspection by heap size (\`introspection_bench.ts\`)

Heaps of three families with 1.25× the live blocks allocated and 20% freed again at random. Time
per call, and in brackets per live block; the growth columns compare neighbouring sizes — linear
cost grows like the block count, a quadratic step would grow with its square.

${introspectionSection(entries)}

### 5. Layout field access (\`layout_bench.ts\`)

100k records of \`rec_t { uint32_t id; double salary; uint16_t age; float score; }\`: \`get\` reads
two fields, \`set\` writes two, \`update\` reads and writes four. Peers: one \`DataView\` at fixed
offsets (baseline), the same view with offsets computed from arena-like addresses, the layout's
field accessors over a memory at such an address, and JS objects.

${layoutSection(entries)}

### 6. Records (\`record_bench.ts\`)

A 40-byte C struct \`emp_t\` kept in LMM and read and written through its layout's field accessors,
against what a program would use instead (baseline first in each table).

${records.markdown}

## Native comparison (\`bench/native/\`)

${nativeBody}

## Cost against live blocks

The plot in the summary above ([${svg}](${svg})). Left: native churn (free a random live block, allocate 8–512 B in its place) by live-set size, time
per pair. Right: the introspection calls from Deno, time per call divided by the live blocks (flat
means linear in the heap; \`stats()\` reads counters, so its per-block cost falls).

${inp.notes ? `## Observations\n\n${inp.notes.trim()}\n\n` : ""}## How to reproduce

\`\`\`sh
bash scripts/bench                         # everything below, then this file and the SVG
deno task bench                            # the Deno suites once, human-readable
deno bench -A --json bench/ > bench/out/deno-1.json
deno run -A bench/native/run.ts --runs 7   # bench/out/native.json (installs jemalloc/mimalloc as root)
deno run -A bench/report.ts                # bench/README.md and bench/cost-vs-live.svg
\`\`\`

Diagnostics of the bench files go to stderr; \`LMM_BENCH_SMOKE=1\` makes every bench run once with
a token workload (\`tests/bench_smoke_test.ts\`), and \`run.ts --quick\` does the same for the
native cases. Nothing here is asserted in tests.
`;
}

// ── Entry ──────────────────────────────────────────────────────────────────

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads the inputs from `dir`. */
export async function load(dir: string, svgPath: string): Promise<Inputs> {
  const entries: DenoEntry[] = [];
  let runs = 0;
  let runtime = "";
  const files: string[] = [];
  try {
    for await (const f of Deno.readDir(dir)) {
      if (/^deno-\d+\.json$/.test(f.name)) files.push(f.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const name of files.sort()) {
    const json = await readJson<DenoJson>(join(dir, name));
    if (!json) continue;
    runs++;
    runtime = json.runtime ?? runtime;
    entries.push(...parseDeno(json, runs));
  }
  const native = await readJson<NativeResults>(join(dir, "native.json"));
  const notes = await Deno.readTextFile(join(BENCH, "notes.md")).catch(() => undefined);
  return {
    entries,
    denoRuns: runs,
    denoRuntime: runtime,
    native,
    notes,
    svgPath,
    date: native?.date ?? new Date().toISOString(),
  };
}

/** Text in deno fmt's style (aligned tables, indented SVG), so `deno fmt --check` passes. */
async function denoFmt(text: string, ext: "md" | "svg"): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", ext, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    console.error(
      `report: deno fmt failed, the file is left unformatted: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
    return text;
  }
  return new TextDecoder().decode(out.stdout);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      dir: { type: "string", default: join(BENCH, "out") },
      out: { type: "string", default: join(BENCH, "README.md") },
      svg: { type: "string", default: join(BENCH, "cost-vs-live.svg") },
    },
  });
  const inputs = await load(values.dir, values.svg);
  const m = inputs.native?.machine;
  const caption = `LMM ${inputs.native?.versions.lmm ?? ""} · ${
    m ? `${m.cpu}, ${m.cores} cores, Linux ${m.kernel}` : ""
  } · ${inputs.date.slice(0, 10)} · medians of ${
    inputs.native?.rounds ?? 0
  } native rounds and ${inputs.denoRuns} deno bench runs`;
  await Deno.writeTextFile(
    values.svg,
    await denoFmt(plot(inputs.entries, inputs.native, caption), "svg"),
  );
  await Deno.writeTextFile(values.out, await denoFmt(render(inputs), "md"));
  console.error(
    `report: ${inputs.denoRuns} deno run(s), native ${inputs.native ? "yes" : "missing"} → ${
      relative(Deno.cwd(), values.out)
    }, ${relative(Deno.cwd(), values.svg)}`,
  );
}
