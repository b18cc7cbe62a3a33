// Leaked blocks of families with a C layout, decoded in reports: heap.leaks() samples (every
// field kind exactly, bounded, none for families registered by size, heaps closed with leaks)
// and LeakError.
import assert from "node:assert/strict";
import {
  assertNoLeaks,
  Heap,
  Layout,
  LeakError,
  report,
  SAMPLES_PER_SITE,
  type SiteLeak,
} from "../mod.ts";
import { SAMPLE_TEXT } from "../ffi/report/samples.ts";
import { LIBRARY, libraryBuilt } from "./fixtures/cli/helpers.ts";

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
