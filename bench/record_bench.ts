/**
 * Suite 6 — records a program reads and writes: a C struct
 * `emp_t { uint32_t id; double salary; … }` of 40 bytes, kept in LMM through
 * its layout's field accessors, against what a user would use instead.
 *
 * Groups (their names say how many records one iteration touches):
 * - `record`: allocate one record, write two fields, read them, free it —
 *   peers: `new DataView(new ArrayBuffer(40))` left to the GC (baseline), a
 *   plain JS object, libc `malloc` + `getArrayBuffer` + `free` through FFI,
 *   LMM with `heap.view(a)`, LMM with the layout's accessors.
 * - `table`: create 100k records, update every one, read every one, delete
 *   them all — peers: one big ArrayBuffer at fixed offsets (baseline), JS
 *   objects in an array, LMM accessors (one block per record).
 * - `fields of 100k live records`: the records exist already; update two
 *   fields of each and read them back — peers: one big ArrayBuffer at fixed
 *   offsets (baseline), JS objects, LMM accessors over blocks of a heap, the
 *   same accessors handed to a helper that other layouts' accessors go
 *   through too, LMM through `heap.memory` (one DataView, offset = address −
 *   base). Before it, accessors of other layouts over other memories (other
 *   offsets, a second heap, an ArrayBuffer) run the same types: all
 *   accessors of a type share their code, and V8 its type feedback, so a
 *   bench with one layout alone would measure a case no program has. Each
 *   peer is a loop function of its own that the benches call through one
 *   megamorphic site (as in layout_bench.ts): V8 compiles each as a function
 *   a program calls again and again.
 * - `… after an out-of-window access` (last: what it sets up cannot be
 *   undone in the process): the same loop once accessors of the same types
 *   have read and written blocks beyond a heap's first arena, the case the
 *   module notes of `ffi/accessors.ts` describe.
 *
 * @module
 */

import { bindLayout, bufferMemory, Heap, Layout, type LayoutFamily } from "../mod.ts";
import { bench, libc, scale, sink } from "./_common.ts";

const SPEC = {
  id: "u32",
  salary: "f64",
  dept: "u32",
  age: "u16",
  rating: "f32",
  boss: "pointer",
} as const;
const SIZE = 40; // sizeof(emp_t): checked against the layout below

const heap = new Heap();
const emp: LayoutFamily<typeof SPEC> = heap.register("emp_t", SPEC);
if (emp.size !== SIZE) throw new Error(`emp_t is ${emp.size} bytes, not ${SIZE}`);
const ID = emp.offsetOf("id");
const SALARY = emp.offsetOf("salary");
const { id, salary } = emp.fields;

// ── one record at a time ─────────────────────────────────────────────────────

const ONE = scale(1000, 2);
const recordGroup = `record (×${ONE})`;

bench({
  name: "new DataView(new ArrayBuffer(40))",
  group: recordGroup,
  baseline: true,
  fn(): void {
    let sum = 0;
    for (let i = 0; i < ONE; i++) {
      const v = new DataView(new ArrayBuffer(SIZE));
      v.setUint32(ID, i, true);
      v.setFloat64(SALARY, i * 0.5, true);
      sum += v.getUint32(ID, true) + v.getFloat64(SALARY, true);
    }
    sink.sum += sum;
  },
});

bench({
  name: "JS object",
  group: recordGroup,
  fn(): void {
    let sum = 0;
    for (let i = 0; i < ONE; i++) {
      const o = { id: i, salary: i * 0.5, dept: 0, age: 0, rating: 0, boss: 0 };
      sink.value = o;
      sum += o.id + o.salary;
    }
    sink.sum += sum;
  },
});

bench({
  name: "libc malloc + getArrayBuffer + free",
  group: recordGroup,
  fn(): void {
    const { malloc, free } = libc();
    const n = BigInt(SIZE);
    let sum = 0;
    for (let i = 0; i < ONE; i++) {
      const p = malloc(n)!;
      const v = new DataView(Deno.UnsafePointerView.getArrayBuffer(p, SIZE));
      v.setUint32(ID, i, true);
      v.setFloat64(SALARY, i * 0.5, true);
      sum += v.getUint32(ID, true) + v.getFloat64(SALARY, true);
      free(p);
    }
    sink.sum += sum;
  },
});

bench({
  name: "lmm alloc + view(a) + free",
  group: recordGroup,
  fn(): void {
    let sum = 0;
    for (let i = 0; i < ONE; i++) {
      const a = heap.alloc(emp);
      const v = heap.view(a);
      v.setUint32(ID, i, true);
      v.setFloat64(SALARY, i * 0.5, true);
      sum += v.getUint32(ID, true) + v.getFloat64(SALARY, true);
      heap.free(a);
    }
    sink.sum += sum;
  },
});

bench({
  name: "lmm alloc + field accessors + free",
  group: recordGroup,
  fn(): void {
    let sum = 0;
    for (let i = 0; i < ONE; i++) {
      const a = heap.alloc(emp);
      id.set(a, i);
      salary.set(a, i * 0.5);
      sum += id.get(a) + salary.get(a);
      heap.free(a);
    }
    sink.sum += sum;
  },
});

// ── a table: create, update, read, delete ────────────────────────────────────

const ROWS = scale(100_000, 100);
const tableGroup = `table create+update+read+delete (×${ROWS})`;
const bigView = new DataView(new ArrayBuffer(ROWS * SIZE));
const addresses = new Float64Array(ROWS);

bench({
  name: "one ArrayBuffer, fixed offsets",
  group: tableGroup,
  baseline: true,
  n: 5,
  fn(): void {
    const v = bigView;
    for (let i = 0; i < ROWS; i++) {
      const o = i * SIZE;
      v.setUint32(o + ID, i, true);
      v.setFloat64(o + SALARY, 0, true);
    }
    for (let i = 0; i < ROWS; i++) {
      const o = i * SIZE;
      v.setFloat64(o + SALARY, v.getFloat64(o + SALARY, true) + 100, true);
    }
    let sum = 0;
    for (let i = 0; i < ROWS; i++) {
      const o = i * SIZE;
      sum += v.getUint32(o + ID, true) + v.getFloat64(o + SALARY, true);
    }
    new Uint8Array(v.buffer).fill(0); // delete: the rows are gone
    sink.sum += sum;
  },
});

bench({
  name: "JS objects",
  group: tableGroup,
  n: 5,
  fn(): void {
    const rows: { id: number; salary: number; dept: number; age: number }[] = [];
    for (let i = 0; i < ROWS; i++) rows.push({ id: i, salary: 0, dept: 0, age: 0 });
    for (const r of rows) r.salary += 100;
    let sum = 0;
    for (const r of rows) sum += r.id + r.salary;
    rows.length = 0;
    sink.sum += sum;
  },
});

bench({
  name: "lmm: a block per record, field accessors",
  group: tableGroup,
  n: 5,
  fn(): void {
    for (let i = 0; i < ROWS; i++) {
      const a = heap.alloc(emp);
      id.set(a, i);
      addresses[i] = a;
    }
    for (let i = 0; i < ROWS; i++) {
      const a = addresses[i];
      salary.set(a, salary.get(a) + 100);
    }
    let sum = 0;
    for (let i = 0; i < ROWS; i++) {
      const a = addresses[i];
      sum += id.get(a) + salary.get(a);
    }
    for (let i = 0; i < ROWS; i++) heap.free(addresses[i]);
    sink.sum += sum;
  },
});

// ── the fields of live records ───────────────────────────────────────────────

const LIVE = ROWS;
const fieldsGroup = `fields of 100k live records: update 2, read 2 (×${LIVE})`;
const live = new Float64Array(LIVE);
const objects = Array.from({ length: LIVE }, (_, i) => ({ id: i, salary: 0, dept: 0, age: 0 }));

/** A numeric field as the helper below sees it. */
interface NumberField {
  get(address: number): number;
  set(address: number, value: number): void;
}

/** Updates two fields of each record and reads them back: one call site for every layout. */
function touch(addresses: Float64Array, n: number, u: NumberField, f: NumberField): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = addresses[i];
    u.set(a, (u.get(a) + 1) >>> 0);
    f.set(a, f.get(a) + 0.5);
    sum += u.get(a) + f.get(a);
  }
  return sum;
}

/**
 * The live records; before them, accessors of other layouts (the same types at other offsets,
 * in a second heap and over an ArrayBuffer) run through `touch`.
 */
function allocateLive(): void {
  const other = new Heap();
  const specs = [
    { n: "u32", x: "f64" },
    { tag: "u16", n: "u32", rate: "f32", x: "f64" },
    { next: "pointer", n: "u32", x: "f64", flags: "u8" },
  ] as const;
  const some = new Float64Array(64);
  for (const [k, spec] of specs.entries()) {
    const bindings = [
      heap.register(`other${k}_t`, spec),
      other.register(`other${k}_t`, spec),
      bindLayout(new Layout(`other${k}_t`, spec), bufferMemory(new ArrayBuffer(64 * 32), 0x10000)),
    ];
    for (const [j, b] of bindings.entries()) {
      for (let i = 0; i < some.length; i++) {
        some[i] = j === 0
          ? heap.alloc(b as LayoutFamily<typeof spec>)
          : j === 1
          ? other.alloc(b as LayoutFamily<typeof spec>)
          : 0x10000 + i * b.layout.size;
      }
      const { n, x } = b.fields as unknown as Record<"n" | "x", NumberField>;
      for (let r = 0; r < scale(2000, 2); r++) sink.sum += touch(some, some.length, n, x);
    }
  }
  for (let i = 0; i < LIVE; i++) live[i] = heap.alloc(emp);
}

/** The same loop over one ArrayBuffer at fixed offsets. */
function fixedLoop(n: number): number {
  const v = bigView;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const o = i * SIZE;
    v.setUint32(o + ID, v.getUint32(o + ID, true) + 1, true);
    v.setFloat64(o + SALARY, v.getFloat64(o + SALARY, true) + 0.5, true);
    sum += v.getUint32(o + ID, true) + v.getFloat64(o + SALARY, true);
  }
  return sum;
}

function objectLoop(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const o = objects[i];
    o.id = (o.id + 1) >>> 0;
    o.salary += 0.5;
    sum += o.id + o.salary;
  }
  return sum;
}

function accessorLoop(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = live[i];
    id.set(a, (id.get(a) + 1) >>> 0);
    salary.set(a, salary.get(a) + 0.5);
    sum += id.get(a) + salary.get(a);
  }
  return sum;
}

function helperLoop(n: number): number {
  return touch(live, n, id, salary);
}

function memoryLoop(n: number): number {
  const { view, base } = heap.memory;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const o = live[i] - base;
    view.setUint32(o + ID, (view.getUint32(o + ID, true) + 1) >>> 0, true);
    view.setFloat64(o + SALARY, view.getFloat64(o + SALARY, true) + 0.5, true);
    sum += view.getUint32(o + ID, true) + view.getFloat64(o + SALARY, true);
  }
  return sum;
}

/**
 * Runs one loop. Called with every loop before any bench starts, this call site is
 * megamorphic: V8 inlines no loop into its caller and compiles each on its own, as a function
 * a program calls again and again (layout_bench.ts measured loops inlined into the harness
 * several times slower).
 */
function run(loop: (n: number) => number, n: number): number {
  return loop(n);
}
allocateLive();
for (const loop of [fixedLoop, objectLoop, accessorLoop, helperLoop, memoryLoop]) run(loop, 1);

for (
  const [k, [name, loop]] of ([
    ["one ArrayBuffer, fixed offsets", fixedLoop],
    ["JS objects", objectLoop],
    ["lmm field accessors", accessorLoop],
    ["lmm field accessors through a helper shared by layouts", helperLoop],
    ["lmm heap.memory (DataView, address − base)", memoryLoop],
  ] as const).entries()
) {
  bench({
    name,
    group: fieldsGroup,
    baseline: k === 0,
    fn(): void {
      sink.sum += run(loop, LIVE);
    },
  });
}

// ── last: after accessors went out of their window ───────────────────────────

const afterGroup = `fields of 100k live records after an out-of-window access (×${LIVE})`;

/**
 * Accessors of the same types read and write blocks that lie beyond their heap's first arena
 * (a heap with a 1 MiB reserve, filled past it): their DataView throws and the slow path finds
 * the block. V8 then compiles every accessor of those types differently, in the whole process.
 */
function outOfWindow(): void {
  const small = new Heap({ reserve: 1 << 20, pageCache: 0 });
  const far = small.register("emp_t", SPEC);
  for (let i = 0; i < 40; i++) small.allocBytes(60_000); // 40 pages of 64 KiB: past 1 MiB
  const beyond: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const a = small.alloc(far);
    if (a < small.memory.base || a >= small.memory.end) beyond.push(a);
  }
  if (beyond.length === 0) throw new Error("no block beyond the first arena");
  const { id: farId, salary: farSalary } = far.fields;
  for (let r = 0; r < scale(200, 2); r++) {
    for (const a of beyond) {
      farId.set(a, (farId.get(a) + 1) >>> 0);
      farSalary.set(a, farSalary.get(a) + 1);
    }
  }
}

/**
 * `accessorLoop` again, as a function of its own: V8 compiles it after `outOfWindow` ran (the
 * first one was compiled before, and compiled code does not change with the feedback).
 */
function accessorLoopAfter(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = live[i];
    id.set(a, (id.get(a) + 1) >>> 0);
    salary.set(a, salary.get(a) + 0.5);
    sum += id.get(a) + salary.get(a);
  }
  return sum;
}

bench({
  name: "one ArrayBuffer, fixed offsets",
  group: afterGroup,
  baseline: true,
  setup: outOfWindow,
  fn(): void {
    sink.sum += run(fixedLoop, LIVE);
  },
});

bench({
  name: "lmm field accessors",
  group: afterGroup,
  fn(): void {
    sink.sum += run(accessorLoopAfter, LIVE);
  },
});
