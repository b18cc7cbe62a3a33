/**
 * Suite 5 — touching struct fields: the layout accessors (`ffi/accessors.ts`)
 * against the same loops over one ArrayBuffer at fixed offsets and over
 * plain JS objects: 100k records of
 * `rec_t { uint32_t id; double salary; uint16_t age; float score; }` (24 B).
 *
 * Per operation one group (its name says how many records one iteration
 * touches), with these peers:
 * - `DataView fixed offsets` (baseline): one `DataView` over one
 *   ArrayBuffer, `view.getUint32(i * 24 + 0, true)` and so on;
 * - `DataView from addresses`: the same view, offsets computed from
 *   addresses like an arena's (`a - base + 0`, `a` above 2^46): what the
 *   address model costs before any check;
 * - `layout accessors`: `fields.id.get(a)` etc. over a {@linkcode Memory}
 *   made over an ArrayBuffer at that arena-like base (one DataView call in
 *   `try` each; see `ffi/accessors.ts`). Accessors of three other layouts
 *   (the same types at other offsets, over other memories) run before any
 *   bench: all accessors of a type share their code and V8 its feedback, so
 *   one layout alone would be a case no program has;
 * - `JS objects`: an array of `{ id, salary, age, score }`.
 *
 * Operations: `get` reads two fields (u32, f64), `set` writes two fields
 * (u32, f64), `update` reads and writes four (u32, f64, u16, f32). Every
 * peer has its own loop function, so that no peer's type feedback leaks into
 * another's.
 *
 * @module
 */

import { bindLayout, bufferMemory, Layout, type LayoutSpec, type Memory } from "../mod.ts";
import { bench, scale, sink } from "./_common.ts";

const RECORDS = scale(100_000, 100);
const rec = new Layout("rec_t", { id: "u32", salary: "f64", age: "u16", score: "f32" });
const SIZE = rec.size;
const ID = rec.offsetOf("id");
const SALARY = rec.offsetOf("salary");
const AGE = rec.offsetOf("age");
const SCORE = rec.offsetOf("score");
/** An address like those of a real arena (x86-64 mmap addresses are near 2^47). */
const BASE = 0x7f12_3456_0000;

const view = new DataView(new ArrayBuffer(RECORDS * SIZE));
const memory: Memory = bufferMemory(new ArrayBuffer(RECORDS * SIZE), BASE);
const { id, salary, age, score } = bindLayout(rec, memory).fields;
const others: LayoutSpec[] = [
  { n: "u16", id: "u32", x: "f32", salary: "f64" },
  { salary: "f64", id: "u32", age: "u16" },
  { flag: "u8", score: "f32", id: "u32", age: "u16", salary: "f64" },
];
for (const [k, spec] of others.entries()) {
  const other = new Layout(`other${k}_t`, spec);
  const base = 0x10000 * (k + 1);
  const f = bindLayout(other, bufferMemory(new ArrayBuffer(other.size * 64), base)).fields;
  for (let r = 0; r < scale(2000, 2); r++) {
    for (let i = 0; i < 64; i++) {
      const a = base + i * other.size;
      for (const name of Object.keys(spec)) {
        const field = f[name] as unknown as {
          get(a: number): number;
          set(a: number, v: number): void;
        };
        field.set(a, (field.get(a) + 1) & 0x7f);
      }
    }
  }
}
const objects = Array.from({ length: RECORDS }, (_, i) => ({ id: i, salary: 0, age: 0, score: 0 }));

type Loop = (n: number) => number | void;
const peers: { name: string; set: Loop; get: Loop; update: Loop }[] = [
  {
    name: "DataView fixed offsets",
    set: function fixedSet(n: number): void {
      for (let i = 0; i < n; i++) {
        const o = i * SIZE;
        view.setUint32(o + ID, i, true);
        view.setFloat64(o + SALARY, i * 0.5, true);
      }
    },
    get: function fixedGet(n: number): number {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const o = i * SIZE;
        sum += view.getUint32(o + ID, true) + view.getFloat64(o + SALARY, true);
      }
      return sum;
    },
    update: function fixedUpdate(n: number): void {
      for (let i = 0; i < n; i++) {
        const o = i * SIZE;
        view.setUint32(o + ID, (view.getUint32(o + ID, true) + 1) >>> 0, true);
        view.setFloat64(o + SALARY, view.getFloat64(o + SALARY, true) + 0.25, true);
        view.setUint16(o + AGE, (view.getUint16(o + AGE, true) + 1) & 0xffff, true);
        view.setFloat32(o + SCORE, view.getFloat32(o + SCORE, true) + 1, true);
      }
    },
  },
  {
    name: "DataView from addresses",
    set: function fromAddressSet(n: number): void {
      for (let i = 0; i < n; i++) {
        const a = BASE + i * SIZE;
        view.setUint32(a - BASE + ID, i, true);
        view.setFloat64(a - BASE + SALARY, i * 0.5, true);
      }
    },
    get: function fromAddressGet(n: number): number {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const a = BASE + i * SIZE;
        sum += view.getUint32(a - BASE + ID, true) + view.getFloat64(a - BASE + SALARY, true);
      }
      return sum;
    },
    update: function fromAddressUpdate(n: number): void {
      for (let i = 0; i < n; i++) {
        const o = BASE + i * SIZE - BASE;
        view.setUint32(o + ID, (view.getUint32(o + ID, true) + 1) >>> 0, true);
        view.setFloat64(o + SALARY, view.getFloat64(o + SALARY, true) + 0.25, true);
        view.setUint16(o + AGE, (view.getUint16(o + AGE, true) + 1) & 0xffff, true);
        view.setFloat32(o + SCORE, view.getFloat32(o + SCORE, true) + 1, true);
      }
    },
  },
  {
    name: "layout accessors",
    set: function accessorSet(n: number): void {
      for (let i = 0; i < n; i++) {
        const a = BASE + i * SIZE;
        id.set(a, i);
        salary.set(a, i * 0.5);
      }
    },
    get: function accessorGet(n: number): number {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const a = BASE + i * SIZE;
        sum += id.get(a) + salary.get(a);
      }
      return sum;
    },
    update: function accessorUpdate(n: number): void {
      for (let i = 0; i < n; i++) {
        const a = BASE + i * SIZE;
        id.set(a, (id.get(a) + 1) >>> 0);
        salary.set(a, salary.get(a) + 0.25);
        age.set(a, (age.get(a) + 1) & 0xffff);
        score.set(a, score.get(a) + 1);
      }
    },
  },
  {
    name: "JS objects",
    set: function objectSet(n: number): void {
      for (let i = 0; i < n; i++) {
        const r = objects[i];
        r.id = i;
        r.salary = i * 0.5;
      }
    },
    get: function objectGet(n: number): number {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += objects[i].id + objects[i].salary;
      return sum;
    },
    update: function objectUpdate(n: number): void {
      for (let i = 0; i < n; i++) {
        const r = objects[i];
        r.id = (r.id + 1) >>> 0;
        r.salary += 0.25;
        r.age = (r.age + 1) & 0xffff;
        r.score = Math.fround(r.score + 1);
      }
    },
  },
];

/**
 * Runs one loop. Called once with every loop before any bench starts, its call site is
 * megamorphic from then on, so V8 inlines no loop into its caller: a loop inlined into the
 * bench harness was measured several times slower than the same loop called on its own
 * (DataView get: 5.6 against 0.7–1.2 ns per record), which would measure the harness.
 */
function run(peer: (typeof peers)[number], op: "get" | "set" | "update", n: number): number | void {
  return peer[op](n);
}
for (const peer of peers) for (const op of ["get", "set", "update"] as const) run(peer, op, 1);

for (const op of ["get", "set", "update"] as const) {
  for (const [k, peer] of peers.entries()) {
    bench({
      name: peer.name,
      group: `layout ${op} (×${RECORDS})`,
      baseline: k === 0,
      fn(): void {
        sink.value = run(peer, op, RECORDS);
      },
    });
  }
}
