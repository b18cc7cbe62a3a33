/**
 * The native comparison: builds `harness.c` against liblmm.so, installs the
 * peers (Debian `libjemalloc2`, `libmimalloc2.0`) when they are missing, and
 * runs every case against LMM, glibc, jemalloc and mimalloc — alternating
 * (for each round, each case: A B C D), `--runs` rounds — then writes the
 * raw runs and their medians to `bench/out/native.json`.
 *
 * Besides LMM as configured by default (`lmm`: front caches, size classes,
 * thread caches, 64 KiB pages), some cases run LMM configured otherwise:
 * `lmm-4m` (4 MiB pages: large pairs), `lmm-exact-4k` (the seed
 * implementation's policy — the classic worst-fit heap, `LMM_HEAP_EXACT`,
 * on 4 KiB pages, no cache: families), `lmm-lock` (no thread caches, every
 * call takes the heap's lock: threads). The `cpu` cases allocate nothing:
 * the same threads doing arithmetic alone, to show how far this machine
 * lets two threads scale at all.
 *
 *   deno run -A bench/native/run.ts [--runs N] [--quick] [--out FILE] [--no-install] [--build-only]
 *
 * Peers run the same binary with `LD_PRELOAD`; the harness reports which
 * shared object provides `malloc`, and a run whose preload did not take is
 * an error. Ratios are paired: per round, the allocator's figure over
 * glibc's from the same round, then the median over rounds.
 *
 * `--quick` runs every case once with tiny op counts (for the smoke test):
 * its figures mean nothing.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const LIB_DIR = join(ROOT, "zig", "zig-out", "lib");
const OUT_DIR = join(ROOT, "bench", "out");
const MULTIARCH = "/usr/lib/x86_64-linux-gnu";

/** An allocator as the runner drives it. */
export interface Allocator {
  /** Column name. */
  id: string;
  /** The harness's allocator argument. */
  arg: "lmm" | "malloc" | "calloc" | "none";
  /** Shared object to preload, if any. */
  preload?: string;
  /** Extra harness arguments (LMM configuration). */
  extra?: string[];
  /** The `malloc_lib` the harness must report. */
  expect: string;
}

/** One workload configuration. */
export interface Case {
  /** Row name. */
  id: string;
  /** Harness workload and its arguments. */
  args: string[];
  /** Ops per run (full runs); per thread in the threads and cpu cases. */
  ops: number;
  /** Ops for some allocators instead (one far slower than the rest), so every run stays short. */
  opsFor?: Record<string, number>;
  /** Which allocators run it. */
  allocators: string[];
  /** Part of the live-set sweep (for the plot). */
  sweep?: number;
  /** Threads cases: how many threads, and the percentage of blocks freed across threads. */
  threads?: { n: number; cross: number };
}

/** What one harness run printed, plus the runner's own measurement. */
export interface Run {
  case: string;
  allocator: string;
  round: number;
  /** The harness's --ops. */
  ops: number;
  ns_per_op: number;
  maxrss_kb: number;
  wall_ms: number;
  setup_ms: number;
  malloc_lib: string;
  lmm?: Record<string, number>;
}

/** Medians of one case × allocator. */
export interface Summary {
  runs: number;
  ns_per_op: number;
  maxrss_kb: number;
  wall_ms: number;
  /** Paired median of ns_per_op over glibc's (same round), and its range. */
  ratio?: number;
  ratio_min?: number;
  ratio_max?: number;
  /** Paired median of peak RSS over glibc's. */
  rss_ratio?: number;
  lmm?: Record<string, number>;
}

/** The file this runner writes. */
export interface NativeResults {
  schema: "lmm-native-bench/1";
  date: string;
  quick: boolean;
  rounds: number;
  machine: Record<string, string | number>;
  versions: Record<string, string>;
  loadavg: { before: number[]; after: number[] };
  duration_s: number;
  allocators: Allocator[];
  cases: (Case & { results: Record<string, Summary> })[];
  runs: Run[];
}

const BASE = ["lmm", "glibc", "jemalloc", "mimalloc"];
const PAIRS = [...BASE, "glibc-calloc"];
const LARGE_PAIRS = [...PAIRS, "lmm-4m"];
const FAMILIES = [...BASE, "lmm-exact-4k"];
const THREADS = ["lmm", "lmm-lock", "glibc", "jemalloc", "mimalloc"];

/** Churn at one live-set size: a point of the sweep. */
function churn(live: number, label: string, ops: number): Case {
  return {
    id: `churn ${label} live`,
    args: ["churn", "--live", String(live)],
    ops,
    allocators: BASE,
    sweep: live,
  };
}

/** `n` threads sharing the allocator, `cross` percent of blocks freed by another thread. */
function threads(id: string, n: number, cross: number, ops: number): Case {
  return {
    id,
    args: ["threads", "--threads", String(n), "--cross", String(cross)],
    ops,
    // Every call of lmm-lock takes the heap's lock: with two threads they wait for each other.
    opsFor: { "lmm-lock": ops / 10 },
    allocators: THREADS,
    threads: { n, cross },
  };
}

/** `n` threads doing arithmetic alone: how far the machine lets threads scale. */
function cpu(id: string, n: number, ops: number): Case {
  return {
    id,
    args: ["cpu", "--threads", String(n)],
    ops,
    allocators: ["none"],
    threads: { n, cross: 0 },
  };
}

/**
 * The cases, in run order. Ops are chosen so that a run of LMM takes ≈ 0.1–1 s on a 2-core VM
 * (the fastest peers take less where LMM's work is a multiple of theirs: the large pairs, whose
 * cost in LMM and calloc is zeroing that malloc skips).
 */
export const CASES: Case[] = [
  { id: "pair 16 B", args: ["pair16"], ops: 10_000_000, allocators: PAIRS },
  { id: "pair 256 B", args: ["pair256"], ops: 10_000_000, allocators: PAIRS },
  { id: "pair 4 KiB", args: ["pair4k"], ops: 4_000_000, allocators: PAIRS },
  { id: "pair 64 KiB", args: ["pair64k"], ops: 300_000, allocators: LARGE_PAIRS },
  { id: "pair 1 MiB", args: ["pair1m"], ops: 20_000, allocators: LARGE_PAIRS },
  { id: "families 40/72/200 B", args: ["families"], ops: 4_000_000, allocators: FAMILIES },
  churn(100, "100", 5_000_000),
  churn(1_000, "1k", 5_000_000),
  churn(10_000, "10k", 3_000_000),
  churn(100_000, "100k", 2_000_000),
  churn(1_000_000, "1M", 1_000_000),
  threads("threads 1 thread", 1, 0, 10_000_000),
  threads("threads 2 threads", 2, 0, 10_000_000),
  threads("threads 2 threads, 25% freed across", 2, 25, 10_000_000),
  cpu("cpu 1 thread, no allocation", 1, 100_000_000),
  cpu("cpu 2 threads, no allocation", 2, 100_000_000),
];

/** Options of a run. */
export interface Options {
  runs: number;
  quick: boolean;
  out: string;
  install: boolean;
  /** Only build the harness (next to `out`) and stop. */
  buildOnly: boolean;
}

/** Parses the command line; returns options or a usage error (never exits). */
export function parseOptions(args: string[]): Options | { error: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        runs: { type: "string", default: "7" },
        quick: { type: "boolean", default: false },
        out: { type: "string", default: join(OUT_DIR, "native.json") },
        "no-install": { type: "boolean", default: false },
        "build-only": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    });
  } catch (error) {
    return { error: (error as Error).message };
  }
  const v = parsed.values;
  if (v.help) return { error: "help" };
  const runs = Number(v.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    return { error: `--runs wants a positive integer, got ${v.runs}` };
  }
  return {
    runs: v.quick ? 1 : runs,
    quick: v.quick,
    out: v.out,
    install: !v["no-install"],
    buildOnly: v["build-only"],
  };
}

/** Median of numbers (mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function log(message: string): void {
  console.error(`native: ${message}`);
}

async function output(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(r.stdout);
  if (!r.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${r.code}): ${new TextDecoder().decode(r.stderr).trim()}`,
    );
  }
  return text;
}

async function tryOutput(cmd: string, args: string[]): Promise<string> {
  try {
    return (await output(cmd, args)).trim();
  } catch {
    return "";
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Builds liblmm.so if missing, then the harness (into `harness`). */
async function build(harness: string): Promise<void> {
  if (!(await exists(join(LIB_DIR, "liblmm.so")))) {
    log("liblmm.so missing: running scripts/build");
    await output("bash", [join(ROOT, "scripts", "build")]);
  }
  await Deno.mkdir(dirname(harness), { recursive: true });
  const cc = Deno.env.get("CC") ?? "cc";
  await output(cc, [
    "-O2",
    "-Wall",
    "-I" + join(ROOT, "zig", "include"),
    join(ROOT, "bench", "native", "harness.c"),
    "-L" + LIB_DIR,
    "-llmm",
    "-Wl,-rpath," + LIB_DIR,
    "-o",
    harness,
  ]);
}

const PEERS = [
  { id: "jemalloc", file: "libjemalloc.so.2", pkg: "libjemalloc2" },
  { id: "mimalloc", file: "libmimalloc.so.2", pkg: "libmimalloc2.0" },
];

/** Finds the peers' shared objects, installing the Debian packages when missing and allowed. */
async function findPeers(install: boolean): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const look = async (): Promise<string[]> => {
    const missing: string[] = [];
    for (const p of PEERS) {
      const path = join(MULTIARCH, p.file);
      if (await exists(path)) found.set(p.id, path);
      else missing.push(p.pkg);
    }
    return missing;
  };
  let missing = await look();
  if (missing.length > 0 && install && Deno.uid() === 0) {
    log(`installing ${missing.join(" ")} (apt-get)`);
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    await output("apt-get", ["update", "-q"], env);
    await output("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], env);
    missing = await look();
  }
  for (const pkg of missing) {
    log(
      `SKIP ${pkg}: not installed (${
        install ? "not root" : "--no-install"
      }); its column stays empty`,
    );
  }
  return found;
}

async function versions(): Promise<Record<string, string>> {
  const pkg = async (name: string): Promise<string> =>
    await tryOutput("dpkg-query", ["-W", "-f", "${Version}", name]) || "not installed";
  const zig = await tryOutput("zig", ["version"]) ||
    ((await Deno.readTextFile(join(ROOT, "scripts", "versions.env")).catch(() => "")).match(
        /ZIG_VERSION=(\S+)/,
      )?.[1] ?? "?") + " (pinned)";
  const commit = await tryOutput("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]);
  const dirty = await tryOutput("git", ["-C", ROOT, "status", "--porcelain", "--", "zig"]);
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    zig,
    cc: (await tryOutput(Deno.env.get("CC") ?? "cc", ["--version"])).split("\n")[0],
    glibc: await pkg("libc6"),
    jemalloc: await pkg("libjemalloc2"),
    mimalloc: await pkg("libmimalloc2.0"),
    lmm: commit === "" ? "?" : commit + (dirty === "" ? "" : " + uncommitted zig/ changes"),
  };
}

async function machine(): Promise<Record<string, string | number>> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown";
  const mem = Deno.systemMemoryInfo();
  return {
    cpu: model,
    cores: navigator.hardwareConcurrency,
    kernel: Deno.osRelease(),
    memory_gib: Math.round(mem.total / 2 ** 30 * 10) / 10,
    os: (await Deno.readTextFile("/etc/os-release").catch(() => "")).match(
      /^PRETTY_NAME="?([^"\n]+)/m,
    )?.[1] ??
      Deno.build.os,
  };
}

function allocators(peers: Map<string, string>): Allocator[] {
  const list: Allocator[] = [
    { id: "lmm", arg: "lmm", expect: "libc.so.6" },
    { id: "glibc", arg: "malloc", expect: "libc.so.6" },
  ];
  for (const p of PEERS) {
    const path = peers.get(p.id);
    if (path !== undefined) list.push({ id: p.id, arg: "malloc", preload: path, expect: p.file });
  }
  list.push({ id: "glibc-calloc", arg: "calloc", expect: "libc.so.6" });
  list.push({
    id: "lmm-4m",
    arg: "lmm",
    extra: ["--page-size", String(4 << 20)],
    expect: "libc.so.6",
  });
  list.push({ id: "lmm-lock", arg: "lmm", extra: ["--no-thread-cache"], expect: "libc.so.6" });
  list.push({
    id: "lmm-exact-4k",
    arg: "lmm",
    extra: ["--exact", "--page-size", String(4 << 10)],
    expect: "libc.so.6",
  });
  list.push({ id: "none", arg: "none", expect: "libc.so.6" }); // the cpu cases

  return list;
}

async function runOnce(
  harness: string,
  c: Case,
  a: Allocator,
  round: number,
  quick: boolean,
): Promise<Run> {
  const full = c.opsFor?.[a.id] ?? c.ops;
  const ops = quick ? Math.max(10, Math.round(full / 1000)) : full;
  const [workload, ...rest] = c.args;
  const args = [workload, a.arg, ...rest, "--ops", String(ops), ...(a.extra ?? [])];
  const env: Record<string, string> = {};
  if (a.preload !== undefined) env.LD_PRELOAD = a.preload;
  const t = performance.now();
  const text = await output(harness, args, env);
  const wall = performance.now() - t;
  const r = JSON.parse(text.trim().split("\n").at(-1)!);
  if (r.malloc_lib !== a.expect) {
    throw new Error(
      `${a.id}: malloc came from ${r.malloc_lib}, not ${a.expect} (LD_PRELOAD did not take)`,
    );
  }
  return {
    case: c.id,
    allocator: a.id,
    round,
    ops,
    ns_per_op: r.ns_per_op,
    maxrss_kb: r.maxrss_kb,
    wall_ms: Math.round(wall * 10) / 10,
    setup_ms: r.setup_ms,
    malloc_lib: r.malloc_lib,
    ...(r.lmm ? { lmm: r.lmm } : {}),
  };
}

/** Medians and paired ratios against glibc. */
export function summarize(runs: Run[], caseId: string, allocator: string): Summary | undefined {
  const mine = runs.filter((r) => r.case === caseId && r.allocator === allocator);
  if (mine.length === 0) return undefined;
  const s: Summary = {
    runs: mine.length,
    ns_per_op: median(mine.map((r) => r.ns_per_op)),
    maxrss_kb: median(mine.map((r) => r.maxrss_kb)),
    wall_ms: median(mine.map((r) => r.wall_ms)),
  };
  const ratios: number[] = [];
  const rss: number[] = [];
  for (const r of mine) {
    const g = runs.find((x) => x.case === caseId && x.allocator === "glibc" && x.round === r.round);
    if (g === undefined) continue;
    ratios.push(r.ns_per_op / g.ns_per_op);
    rss.push(r.maxrss_kb / g.maxrss_kb);
  }
  if (ratios.length > 0) {
    s.ratio = median(ratios);
    s.ratio_min = Math.min(...ratios);
    s.ratio_max = Math.max(...ratios);
    s.rss_ratio = median(rss);
  }
  const last = mine.at(-1)!.lmm;
  if (last) s.lmm = last;
  return s;
}

/** Runs everything and returns the results (writes nothing). */
export async function run(options: Options): Promise<NativeResults> {
  const start = performance.now();
  const harness = join(dirname(options.out), "harness"); // next to the results
  await build(harness);
  const peers = await findPeers(options.install);
  const all = allocators(peers);
  const byId = new Map(all.map((a) => [a.id, a]));
  const before = Deno.loadavg();
  const runs: Run[] = [];
  for (let round = 1; round <= options.runs; round++) {
    log(`round ${round}/${options.runs}`);
    for (const c of CASES) {
      for (const id of c.allocators) {
        const a = byId.get(id);
        if (a === undefined) continue; // a peer that is not installed
        runs.push(await runOnce(harness, c, a, round, options.quick));
      }
    }
  }
  const cases = CASES.map((c) => {
    const results: Record<string, Summary> = {};
    for (const id of c.allocators) {
      const s = summarize(runs, c.id, id);
      if (s) results[id] = s;
    }
    return { ...c, ops: options.quick ? Math.max(10, Math.round(c.ops / 1000)) : c.ops, results };
  });
  return {
    schema: "lmm-native-bench/1",
    date: new Date().toISOString(),
    quick: options.quick,
    rounds: options.runs,
    machine: await machine(),
    versions: await versions(),
    loadavg: { before, after: Deno.loadavg() },
    duration_s: Math.round((performance.now() - start) / 100) / 10,
    allocators: all,
    cases,
    runs,
  };
}

/** A plain-text table of the medians (for the terminal). */
export function renderTable(results: NativeResults): string {
  const ids = results.allocators.map((a) => a.id);
  const lines = [`case${" ".repeat(20)}` + ids.map((id) => id.padStart(16)).join("")];
  for (const c of results.cases) {
    const cells = ids.map((id) => {
      const s = c.results[id];
      if (!s) return "".padStart(16);
      const ratio = s.ratio === undefined ? "" : ` ${s.ratio.toFixed(2)}×`;
      return `${s.ns_per_op.toFixed(1)}${ratio}`.padStart(16);
    });
    lines.push(c.id.padEnd(24) + cells.join(""));
  }
  return lines.join("\n") +
    "\n(ns per alloc+free pair, median; × = paired median ratio to glibc)\n";
}

const HELP =
  `usage: deno run -A bench/native/run.ts [--runs N] [--quick] [--out FILE] [--no-install]
                                      [--build-only]

Builds bench/native/harness.c, installs libjemalloc2 and libmimalloc2.0 when
missing (as root, apt-get), runs every case against LMM, glibc, jemalloc and
mimalloc, alternating, N rounds (default 7), and writes medians and paired
ratios to bench/out/native.json. --build-only builds the harness (next to
--out, by default bench/out/harness) and stops.
`;

if (import.meta.main) {
  const options = parseOptions(Deno.args);
  if ("error" in options) {
    if (options.error === "help") {
      console.log(HELP);
      Deno.exit(0);
    }
    console.error(`native: ${options.error}\n${HELP}`);
    Deno.exit(2);
  }
  try {
    if (options.buildOnly) {
      await build(join(dirname(options.out), "harness"));
      Deno.exit(0);
    }
    const results = await run(options);
    await Deno.mkdir(dirname(options.out), { recursive: true });
    await Deno.writeTextFile(options.out, JSON.stringify(results, null, 1) + "\n");
    console.log(renderTable(results));
    log(`wrote ${relative(Deno.cwd(), options.out)} in ${results.duration_s} s`);
  } catch (error) {
    console.error(`native: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
