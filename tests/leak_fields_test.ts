// Leaked blocks of families with a C layout, decoded in reports: heap.leaks() samples (every
// field kind exactly, bounded, none for families registered by size, heaps closed with leaks),
// report files (samples optional, so older files still load; damaged samples refused), the text
// and HTML renderings (escaped), LeakError, and `lmm run` end to end on
// tests/fixtures/leaks/fields.ts (an open heap, one closed and one collected with leaks).
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assertNoLeaks,
  Heap,
  Layout,
  LeakError,
  type LeakSample,
  report,
  SAMPLES_PER_SITE,
  type SiteLeak,
  writeReport,
} from "../mod.ts";
import { SAMPLE_TEXT } from "../ffi/report/samples.ts";
import { ModelBuilder } from "../cli/model.ts";
import { parseReportText, ReportError } from "../cli/report_file.ts";
import { renderHtml } from "../cli/render/html.ts";
import { renderText } from "../cli/render/text.ts";
import { FIXTURES, LIBRARY, libraryBuilt, lmm, modelOf } from "./fixtures/cli/helpers.ts";

const built = libraryBuilt();
if (!built) console.log(`SKIP leak_fields_test: ${LIBRARY} is not built (deno task build)`);

function test(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, ignore: !built, fn });
}

/** The groups of a heap's leaks of one family, in report order. */
function sitesOf(heap: Heap, family: string): SiteLeak[] {
  return heap.leaks().bySite.filter((s) => s.family === family);
}

test("heap.leaks(): every kind of field of a leaked block decoded exactly, with its text", () => {
  using heap = new Heap({ trackSites: "all" });
  const point = heap.register("point_t", { x: "i16", y: "i16" });
  const all = heap.register("all_t", {
    a: "u8",
    b: "i8",
    c: "u16",
    d: "i16",
    e: "u32",
    f: "i32",
    g: "u64",
    h: "i64",
    i: "f32",
    j: "f64",
    k: "bool",
    l: "pointer",
    m: "char[8]",
    n: "u16[3]",
    o: point,
  });
  const block = heap.alloc(all);
  all.write(block, {
    a: 255,
    b: -128,
    c: 65535,
    d: -32768,
    e: 4294967295,
    f: -2147483648,
    g: 2n ** 64n - 1n,
    h: -(2n ** 63n),
    i: 1.5,
    j: -1e300,
    k: true,
    l: 0x7f00_0000_1000,
    m: "Ann",
    n: [1, 2, 3],
    o: { x: -1, y: 2 },
  });
  const [site] = sitesOf(heap, "all_t");
  assert.deepEqual(site.samples, [{
    address: block,
    fields: {
      a: 255,
      b: -128,
      c: 65535,
      d: -32768,
      e: 4294967295,
      f: -2147483648,
      g: "18446744073709551615",
      h: "-9223372036854775808",
      i: 1.5,
      j: -1e300,
      k: true,
      l: "0x7f0000001000",
      m: "Ann",
      n: [1, 2, 3],
      o: { x: -1, y: 2 },
    },
    text: "{ a: 255, b: -128, c: 65535, d: -32768, e: 4294967295, f: -2147483648, " +
      "g: 18446744073709551615, h: -9223372036854775808, i: 1.5, j: -1e+300, k: true, " +
      'l: 0x7f0000001000, m: "Ann", n: [1, 2, 3], o: { x: -1, y: 2 } }',
  }]);
  assert.deepEqual(JSON.parse(JSON.stringify(site.samples)), site.samples, "JSON as it is");
});

test("heap.leaks(): non-finite floats, quotes and backslashes; the first blocks of each group", () => {
  using heap = new Heap({ trackSites: "all" });
  const t = heap.register("t_t", { f: "f32", d: "f64", s: "char[6]" });
  const make = (): number => heap.alloc(t); // one stack for every block
  const blocks = Array.from({ length: SAMPLES_PER_SITE + 2 }, make);
  const first = [...blocks].sort((a, b) => a - b).slice(0, SAMPLES_PER_SITE);
  t.write(first[0], { f: NaN, d: -Infinity, s: 'a"b\\c' });
  const [site] = sitesOf(heap, "t_t");
  assert.equal(site.count, SAMPLES_PER_SITE + 2);
  assert.deepEqual(site.samples?.map((s) => s.address), first, "the first blocks by address");
  const [sample] = site.samples!;
  assert.deepEqual(sample.fields, { f: "NaN", d: "-Infinity", s: 'a"b\\c' });
  assert.equal(sample.text, '{ f: NaN, d: -Infinity, s: "a\\"b\\\\c" }');
});

test("heap.leaks(): without stacks, one sample list per family; none for families by size", () => {
  using heap = new Heap({ trackSites: "none" });
  const pair = heap.register("pair_t", { k: "u32", v: "u32" });
  heap.register("raw_t", 8);
  const p = heap.alloc(pair);
  pair.write(p, { k: 1, v: 2 });
  heap.alloc("raw_t");
  heap.allocBytes(100);
  const leaks = heap.leaks();
  const byFamily = new Map(leaks.bySite.map((s) => [s.family, s]));
  assert.equal(byFamily.get("pair_t")?.stackId, 0);
  assert.deepEqual(byFamily.get("pair_t")?.samples, [
    { address: p, fields: { k: 1, v: 2 }, text: "{ k: 1, v: 2 }" },
  ]);
  assert.equal("samples" in byFamily.get("raw_t")!, false, "registered by size: no layout");
  assert.equal("samples" in byFamily.get("bytes")!, false, "untyped memory");
  // A block of several structs shows its first.
  const team = heap.alloc(pair, 3);
  pair.write(pair.at(team, 1), { k: 9, v: 9 });
  pair.write(team, { k: 5, v: 6 });
  const sample = sitesOf(heap, "pair_t")[0].samples!.find((s) => s.address === team);
  assert.deepEqual(sample?.fields, { k: 5, v: 6 });
});

test("samples are bounded: long strings and arrays, many fields, deep nesting; the cut is said", () => {
  using heap = new Heap({ trackSites: "all" });
  const wide = heap.register("wide_t", {
    s: "char[300]",
    v: "u32[100]",
    ...Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}`, "u32"])),
  });
  const w = heap.alloc(wide);
  wide.write(w, { s: "x".repeat(300) });
  wide.fields.v.set(w, 99, 7);
  const [sample] = sitesOf(heap, "wide_t")[0].samples!;
  assert.equal(sample.fields.s, `${"x".repeat(64)}…`);
  assert.deepEqual(sample.fields.v, [0, 0, 0, 0, 0, 0, 0, 0, "… 92 more"]);
  const rest = sample.fields["…"];
  assert.match(String(rest), /^\d+ more fields$/);
  const shown = Object.keys(sample.fields).filter((k) => k !== "…").length;
  assert.equal(shown + Number(/\d+/.exec(String(rest))![0]), 62, "every field shown or counted");
  assert.ok(sample.text.endsWith(`… ${rest} }`), sample.text);
  // The budget is checked before each value: one value and the "… more" markers may pass it.
  assert.ok(sample.text.length <= SAMPLE_TEXT + 64, `${sample.text.length} characters`);

  let deep: Layout = new Layout("l0_t", { v: "u8" });
  for (let i = 1; i <= 200; i++) deep = new Layout(`l${i}_t`, { inner: deep });
  const nest = heap.register("nest_t", { top: deep });
  heap.alloc(nest);
  const [nested] = sitesOf(heap, "nest_t")[0].samples!;
  assert.ok(nested.text.length <= SAMPLE_TEXT + 64, `${nested.text.length} characters`);
  assert.match(nested.text, /… 1 more field \}/);
  let depth = 0;
  for (let o = nested.fields; typeof o.top === "object" || typeof o.inner === "object"; depth++) {
    o = (o.top ?? o.inner) as typeof o;
  }
  assert.ok(depth < 40, `${depth} levels kept`);
});

test("a heap closed with leaks: decoded at close when its blocks are read, else counted only", () => {
  const tracked = new Heap({ label: "fields-closed", trackSites: "all" });
  const rec = tracked.register("rec_t", { year: "u16", tags: "u8[3]" });
  const r = tracked.alloc(rec);
  rec.write(r, { year: 1999, tags: [1, 2, 3] });
  tracked.close();
  const plain = new Heap({ label: "fields-closed-plain" }); // no stacks, no LMM_REPORT
  const rec2 = plain.register("rec_t", { year: "u16", tags: "u8[3]" });
  rec2.write(plain.alloc(rec2), { year: 2000 });
  plain.close();
  const heaps = report().heaps;
  const closed = heaps.find((h) => h.label === "fields-closed")!;
  assert.equal(closed.state, "closed");
  assert.deepEqual(closed.leaks.bySite[0].samples, [
    {
      address: r,
      fields: { year: 1999, tags: [1, 2, 3] },
      text: "{ year: 1999, tags: [1, 2, 3] }",
    },
  ]);
  const counted = heaps.find((h) => h.label === "fields-closed-plain")!;
  assert.equal(counted.leaks.blocks, 1);
  assert.equal("samples" in counted.leaks.bySite[0], false, "its blocks were never read");
});

test("LeakError names the decoded blocks, escaped", () => {
  using heap = new Heap({ trackSites: "all" });
  const tag = heap.register("tag_t", { id: "u8", name: "char[8]" });
  tag.write(heap.alloc(tag), { id: 3, name: "a\x07b" });
  assert.throws(
    () => assertNoLeaks(heap),
    (e) =>
      e instanceof LeakError &&
      /\n {4}leaked tag_t \{ id: 3, name: "a\\x07b" \} at 0x/.test(e.message),
  );
});

// ── Report files and renderings ─────────────────────────────────────────────

/** A report file (JSON Lines) of this isolate, holding a heap labelled `label`. */
function reportText(label: string): string {
  const path = Deno.makeTempFileSync({ suffix: ".jsonl" });
  try {
    writeReport(path);
    const text = Deno.readTextFileSync(path);
    assert.ok(text.includes(`"label":${JSON.stringify(label)}`));
    return text;
  } finally {
    Deno.removeSync(path);
  }
}

/** `text` with every `leaks` record changed by `edit`. */
function editLeaks(
  text: string,
  edit: (leaks: { byStack: { family?: unknown; samples?: unknown }[] }) => void,
): string {
  return text.split("\n").map((line) => {
    if (!line.includes('"type":"leaks"')) return line;
    const record = JSON.parse(line);
    edit(record);
    return JSON.stringify(record);
  }).join("\n");
}

test("report files: samples rendered in text and HTML, escaped; files without them still load", () => {
  using heap = new Heap({ label: "fields-file", trackSites: "all" });
  const emp = heap.register("emp_t", { id: "u32", name: "char[16]" });
  const e = heap.alloc(emp);
  emp.write(e, { id: 7, name: "<i>\x01\u202e&" });
  const text = reportText("fields-file");
  const hex = `0x${e.toString(16)}`;

  const out = renderText(modelOf(text));
  assert.ok(
    out.includes(`\n        leaked emp_t { id: 7, name: "<i>\\x01\\u202e&" } at ${hex}\n`),
    out,
  );
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(out, /[\x01\u202e]/);
  const html = renderHtml(modelOf(text));
  assert.ok(
    html.includes(
      `<li><code>leaked emp_t { id: 7, name: &#34;&#60;i&#62;\\x01\\u202e&#38;&#34; } at ${hex}</code></li>`,
    ),
  );

  // A file written before samples existed: the same report, without the decoded lines.
  const old = editLeaks(text, (leaks) => leaks.byStack.forEach((g) => delete g.samples));
  assert.ok(!old.includes('"samples"'));
  const oldOut = renderText(modelOf(old));
  assert.equal(oldOut, out.split("\n").filter((l) => !/^ {8}leaked /.test(l)).join("\n"));
  assert.doesNotMatch(renderHtml(modelOf(old)), /class="samples"/);
});

test("report files: a damaged sample is refused with the line and the field", () => {
  using heap = new Heap({ label: "fields-damaged", trackSites: "all" });
  const emp = heap.register("dmg_t", { id: "u32", at: heap.register("pt_t", { x: "u8" }) });
  heap.alloc(emp);
  const text = reportText("fields-damaged");
  const group = (leaks: { byStack: { family?: unknown; samples?: unknown }[] }) =>
    leaks.byStack.find((g) => g.family === "dmg_t") as { samples: LeakSample[] } | undefined;
  const damaged: [string, (s: LeakSample[]) => unknown, RegExp][] = [
    [
      "fields",
      (s) => (s[0].fields.id = null as never),
      /samples\[0\]\.fields\.id is not a number, string, boolean, array or object$/,
    ],
    [
      "nested",
      (s) => ((s[0].fields.at as Record<string, unknown>).x = null),
      /samples\[0\]\.fields\.at\.x is not a number, string, boolean, array or object$/,
    ],
    ["text", (s) => (s[0].text = 5 as never), /samples\[0\]\.text is not a string$/],
    ["address", (s) => (s[0].address = "0x10" as never), /samples\[0\]\.address is not a number$/],
    ["list", (s) => (s.length = 0, (s as unknown[]).push(7)), /samples\[0\] is not an object$/],
  ];
  for (const [what, edit, message] of damaged) {
    let edited = false;
    const bad = editLeaks(text, (leaks) => {
      const g = group(leaks);
      if (g === undefined) return;
      edit(g.samples);
      edited = true;
    });
    assert.ok(edited, what);
    assert.throws(
      () => parseReportText(bad, "bad.jsonl", new ModelBuilder()),
      (e) =>
        e instanceof ReportError &&
        /^bad\.jsonl is a damaged LMM report: line \d+: leaks\.byStack\[\d+\]\./.test(e.message) &&
        message.test(e.message),
      what,
    );
  }
  const notList = editLeaks(text, (leaks) => {
    const g = group(leaks);
    if (g !== undefined) g.samples = {} as never;
  });
  assert.throws(
    () => parseReportText(notList, "bad.jsonl", new ModelBuilder()),
    /leaks\.byStack\[\d+\]\.samples is not an array$/,
  );
  const deep: Record<string, unknown> = {};
  let cursor = deep;
  for (let i = 0; i < 100; i++) cursor = (cursor.x = {}) as Record<string, unknown>;
  const tooDeep = editLeaks(text, (leaks) => {
    const g = group(leaks);
    if (g !== undefined) g.samples[0].fields = deep as never;
  });
  assert.throws(
    () => parseReportText(tooDeep, "bad.jsonl", new ModelBuilder()),
    /is nested more than 64 deep$/,
  );
});

// ── lmm run ──────────────────────────────────────────────────────────────────

test("lmm run: the decoded blocks of an open, a closed and a collected heap, in text and HTML", async () => {
  const program = [
    "--",
    Deno.execPath(),
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    join(FIXTURES, "../leaks/fields.ts"),
  ];
  const r = await lmm(["run", ...program]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^fields: done\n/);
  const boss =
    /\n {8}leaked emp_t \{ id: 1001, salary: 5000\.5, name: "Abhishek", boss: 0x0 \} at (0x[0-9a-f]+)\n/
      .exec(r.stdout);
  assert.ok(boss !== null, r.stdout);
  assert.match(
    r.stdout,
    new RegExp(
      `\\n {4}56 B in 1 block · emp_t\\n {8}at tests/fixtures/leaks/fields\\.ts:16:21\\n {8}leaked emp_t \\{ id: 1002, salary: -0\\.25, name: "Bo\\\\x1b\\[31m <b>\\\\"&", boss: ${
        boss[1]
      } \\} at 0x[0-9a-f]+\\n`,
    ),
    "the control character escaped, the boss's address as the pointer",
  );
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(r.stdout, /\x1b/);
  assert.match(
    r.stdout,
    /\nHeap 2 "archive" · closed with live blocks[^]*\n {8}leaked rec_t \{ year: 1999, tags: \[1, 2, 3\] \} at 0x/,
    "decoded at close",
  );
  const lost = r.stdout.slice(r.stdout.indexOf('Heap 3 "lost" · collected with live blocks'));
  assert.match(lost, /\n {4}4 B in 1 block · cell_t\n/);
  assert.doesNotMatch(lost, /leaked cell_t/, "a collected heap's blocks are counted, not decoded");

  const dir = await Deno.makeTempDir({ prefix: "lmm-fields-" });
  try {
    const file = join(dir, "report.html");
    const h = await lmm(["run", "--html", file, ...program]);
    assert.equal(h.code, 0, h.stderr);
    const html = await Deno.readTextFile(file);
    // Another run: other addresses. The clerk's boss is the block decoded as Abhishek.
    const abhishek =
      /<li><code>leaked emp_t \{ id: 1001, salary: 5000\.5, name: &#34;Abhishek&#34;, boss: 0x0 \} at (0x[0-9a-f]+)<\/code><\/li>/
        .exec(html);
    assert.ok(abhishek !== null, "the boss, escaped");
    assert.ok(
      html.includes(
        `<li><code>leaked emp_t { id: 1002, salary: -0.25, name: &#34;Bo\\x1b[31m &#60;b&#62;\\&#34;&#38;&#34;, boss: ${
          abhishek[1]
        } } at 0x`,
      ),
      "the clerk: the control character, the tag, the quote and the ampersand escaped",
    );
    assert.ok(!html.includes('<b>"&'), "the name's tag is not markup");
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(html, /\x1b/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("lmm run --json: the samples are in the leaks records", async () => {
  const r = await lmm([
    "run",
    "--json",
    "--",
    Deno.execPath(),
    "run",
    "-A",
    join(FIXTURES, "../leaks/fields.ts"),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const staff = modelOf(r.stdout).heaps.find((h) => h.heap.label === "staff")!;
  const samples = staff.leaks!.byStack.flatMap((g) => g.samples ?? []);
  assert.deepEqual(samples.map((s) => s.fields.name).sort(), ["Abhishek", 'Bo\x1b[31m <b>"&']);
});
