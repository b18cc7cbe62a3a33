// Struct layouts (ffi/layout.ts) and field accessors (ffi/accessors.ts), against the system C
// compiler and over memories made of ArrayBuffers: no native library is involved.
import assert from "node:assert/strict";
import {
  bindLayout,
  type BoundLayout,
  bufferMemory,
  Layout,
  type LayoutSpec,
  LmmError,
  type LmmErrorCode,
  type Memory,
  type MemoryWindow,
} from "../mod.ts";
import { throwsCode } from "./_helpers.ts";

const BASE = 0x10000;

/** A memory of `bytes` bytes at BASE, and its bytes for inspection. */
function memoryOf(bytes: number, base = BASE): { memory: Memory; raw: Uint8Array } {
  const buffer = new ArrayBuffer(bytes);
  return { memory: bufferMemory(buffer, base), raw: new Uint8Array(buffer) };
}

/** Asserts the LmmError code, the message style (sentence case, no final period), and returns it. */
function fails(fn: () => unknown, code: LmmErrorCode, ...mentions: string[]): LmmError {
  const e = throwsCode(fn, code);
  assert.match(e.message, /^[A-Z]/, `sentence case: ${e.message}`);
  assert.ok(!e.message.endsWith("."), `no final period: ${e.message}`);
  for (const m of mentions) assert.ok(e.message.includes(m), `"${m}" is not in: ${e.message}`);
  return e;
}

/** As fails(), and every byte of `raw` is as it was before. */
function failsUnwritten(
  raw: Uint8Array,
  fn: () => unknown,
  code: LmmErrorCode,
  ...mentions: string[]
): LmmError {
  const before = raw.slice();
  const e = fails(fn, code, ...mentions);
  assert.deepEqual(raw, before, `${code} wrote into memory: ${e.message}`);
  return e;
}

// --- layouts against the C compiler ------------------------------------------------------

const point = new Layout("point_t", { x: "i32", y: "i32" });
const vec3 = new Layout("vec3_t", { x: "f64", y: "f64", z: "f64" });
const tiny = new Layout("tiny_t", { c: "u8" });
const inner = new Layout("inner_t", { c: "u8", d: "f64" });
const middle = new Layout("middle_t", { tag: "u16", in: inner, flag: "bool" });

const emp = new Layout("emp_t", { id: "u32", salary: "f64", name: "char[32]", boss: "pointer" });
const arrays = new Layout("arrays_t", { a: "u8", v: "u16[3]", w: "f64[2]", b: "bool[5]", x: "i8" });
const ptrs = new Layout("ptrs_t", { n: "u8", p: "pointer[3]", q: "u32" });
const rect = new Layout("rect_t", { tl: point, br: point, color: "u8" });
const carried = new Layout("carried_t", { flag: "bool", v: { layout: vec3 }, n: "u16" });
const deep = new Layout("deep_t", { a: "i8", m: middle, z: "i8", t: tiny });
const twice = new Layout("twice_t", { a: point, b: point, c: "u8", p: { layout: point } });

/** A dozen-plus layouts whose size, alignment and offsets the C compiler must agree with. */
const CASES: Layout[] = [
  emp,
  new Layout("scalars_t", {
    a: "u8",
    b: "u64",
    c: "i8",
    d: "i16",
    e: "u32",
    f: "f32",
    g: "f64",
    h: "bool",
    i: "pointer",
    j: "i32",
    k: "u16",
    l: "i64",
  }),
  tiny,
  new Layout("chars_t", { s: "char[3]" }),
  new Layout("tailpad_t", { d: "f64", c: "u8" }),
  new Layout("halves_t", { a: "u16", b: "f32", c: "u16" }),
  arrays,
  ptrs,
  rect,
  new Layout("holder_t", { c: "u8", in: inner, e: "u8" }),
  carried,
  deep,
  new Layout("bigname_t", { name: "char[1000]", id: "u64" }),
  new Layout("i64s_t", { c: "i8", v: "i64[3]", d: "i8" }),
  new Layout("floats_t", { a: "f32", b: "f32[3]", c: "u8" }),
  twice,
];

/** Every field path of a layout with its bound offset and size (nested fields included). */
function paths(layout: Layout): { path: string; offset: number; size: number }[] {
  const out: { path: string; offset: number; size: number }[] = [];
  const walk = (fields: Record<string, unknown>): void => {
    for (const f of Object.values(fields)) {
      const a = f as {
        name: string;
        offset: number;
        size: number;
        fields?: Record<string, unknown>;
      };
      out.push({ path: a.name, offset: a.offset, size: a.size });
      if (a.fields !== undefined) walk(a.fields);
    }
  };
  walk(bindLayout(layout, memoryOf(0).memory).fields as unknown as Record<string, unknown>);
  return out;
}

/** Compiles and runs a C program; returns its stdout. */
async function runC(
  source: string,
  options: { args?: string[]; dir?: string } = {},
): Promise<string> {
  const { args = [], dir } = options;
  const work = dir ?? await Deno.makeTempDir({ prefix: "lmm-layout-" });
  try {
    await Deno.writeTextFile(`${work}/t.c`, source);
    const cc = await new Deno.Command(Deno.env.get("CC") ?? "cc", {
      args: [
        "-std=c11",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-pedantic",
        "-o",
        `${work}/t`,
        `${work}/t.c`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = (b: Uint8Array): string => new TextDecoder().decode(b);
    assert.equal(cc.code, 0, `cc failed:\n${text(cc.stderr)}\n${source}`);
    const run = await new Deno.Command(`${work}/t`, { args, stdout: "piped", stderr: "piped" })
      .output();
    assert.equal(run.code, 0, `the C program failed:\n${text(run.stderr)}`);
    return text(run.stdout);
  } finally {
    if (dir === undefined) await Deno.remove(work, { recursive: true });
  }
}

const C_HEADERS = [
  "#include <inttypes.h>",
  "#include <stdbool.h>",
  "#include <stddef.h>",
  "#include <stdint.h>",
  "#include <stdio.h>",
  "#include <string.h>",
].join("\n");

/** Each struct's typedef once, nested ones first. */
function declarations(layouts: Layout[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const l of layouts) {
    for (const line of l.cDeclaration({ nested: true }).split("\n")) {
      if (!seen.has(line)) lines.push(line);
      seen.add(line);
    }
  }
  return lines.join("\n");
}

Deno.test("layouts: size, alignment and every offset match the C compiler's", async () => {
  const prints = CASES.map((l) => {
    const fields = paths(l).map((p) =>
      `  printf(" %s=%zu+%zu", "${p.path}", offsetof(${l.name}, ${p.path}), ` +
      `sizeof(((${l.name} *)0)->${p.path}));`
    );
    return [
      `  printf("${l.name} %zu %zu", sizeof(${l.name}), _Alignof(${l.name}));`,
      ...fields,
      `  printf("\\n");`,
    ].join("\n");
  });
  const source = `${C_HEADERS}\n${declarations(CASES)}\nint main(void) {\n${
    prints.join("\n")
  }\n  return 0;\n}\n`;
  const expected = CASES.map((l) =>
    `${l.name} ${l.size} ${l.align}` +
    paths(l).map((p) => ` ${p.path}=${p.offset}+${p.size}`).join("")
  );
  assert.deepEqual((await runC(source)).trimEnd().split("\n"), expected);
  assert.ok(CASES.length >= 12);
});

Deno.test("layouts: the issue's emp_t", () => {
  assert.deepEqual([emp.size, emp.align, emp.offsetOf("salary")], [56, 8, 8]);
  assert.deepEqual(emp.members.map((m) => m.offset), [0, 8, 16, 48]);
  assert.equal(
    emp.cDeclaration(),
    "typedef struct emp_t { uint32_t id; double salary; char name[32]; void *boss; } emp_t;",
  );
});

/** Every type, with extreme values: JS writes, C reads; C writes, JS reads. */
const allTypes = new Layout("all_t", {
  u8: "u8",
  i8: "i8",
  u16: "u16",
  i16: "i16",
  u32: "u32",
  i32: "i32",
  u64: "u64",
  i64: "i64",
  f32: "f32",
  f64: "f64",
  ok: "bool",
  ptr: "pointer",
  name: "char[8]",
  v: "u16[3]",
  at: point,
});

Deno.test("bytes agree with C in both directions (every type)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmm-layout-" });
  try {
    const { memory, raw } = memoryOf(allTypes.size);
    const all = bindLayout(allTypes, memory);
    all.write(BASE, {
      u8: 255,
      i8: -128,
      u16: 65535,
      i16: -32768,
      u32: 2 ** 32 - 1,
      i32: -(2 ** 31),
      u64: 2n ** 64n - 1n,
      i64: -(2n ** 63n),
      f32: Math.fround(3.14159),
      f64: -1.5e-300,
      ok: true,
      ptr: 0x7fff_1234_5678,
      name: "né日", // 6 bytes of UTF-8
      v: [1, 2, 65535],
      at: { x: -7, y: 2 ** 31 - 1 },
    });
    await Deno.writeFile(`${dir}/in.bin`, raw);
    const source = `${C_HEADERS}\n${allTypes.cDeclaration({ nested: true })}
int main(int argc, char **argv) {
  all_t s;
  FILE *f;
  const char *nul;
  if (argc != 3) return 2;
  f = fopen(argv[1], "rb");
  if (f == NULL || fread(&s, sizeof s, 1, f) != 1) return 3;
  fclose(f);
  printf("%u %d %u %d %" PRIu32 " %" PRId32 "\\n", s.u8, s.i8, s.u16, s.i16, s.u32, s.i32);
  printf("%" PRIu64 " %" PRId64 "\\n", s.u64, s.i64);
  printf("%.9g %.17g %d %" PRIuPTR "\\n", (double)s.f32, s.f64, (int)s.ok, (uintptr_t)s.ptr);
  nul = memchr(s.name, 0, sizeof s.name);
  printf("%.*s|%u %u %u|%d %d\\n", nul == NULL ? (int)sizeof s.name : (int)(nul - s.name), s.name,
         s.v[0], s.v[1], s.v[2], s.at.x, s.at.y);
  memset(&s, 0, sizeof s);
  s.u8 = 7; s.i8 = -1; s.u16 = 1000; s.i16 = -1000; s.u32 = 123456789; s.i32 = -123456789;
  s.u64 = UINT64_C(18446744073709551614); s.i64 = INT64_MAX;
  s.f32 = -0.0f; s.f64 = 5e-324; s.ok = true; s.ptr = (void *)(uintptr_t)0x1000;
  memcpy(s.name, "ABCDEFGH", 8);
  s.v[0] = 9; s.v[1] = 8; s.v[2] = 7; s.at.x = 1; s.at.y = -1;
  f = fopen(argv[2], "wb");
  if (f == NULL || fwrite(&s, sizeof s, 1, f) != 1) return 4;
  fclose(f);
  return 0;
}
`;
    const out = (await runC(source, { args: [`${dir}/in.bin`, `${dir}/out.bin`], dir })).split(
      "\n",
    );
    assert.equal(out[0], `255 -128 65535 -32768 ${2 ** 32 - 1} ${-(2 ** 31)}`);
    assert.equal(out[1], `${2n ** 64n - 1n} ${-(2n ** 63n)}`);
    const [f32, f64, ok, ptr] = out[2].split(" ");
    assert.equal(Math.fround(Number(f32)), Math.fround(3.14159));
    assert.equal(Number(f64), -1.5e-300);
    assert.deepEqual([ok, Number(ptr)], ["1", 0x7fff_1234_5678]);
    assert.equal(out[3], `né日|1 2 65535|-7 ${2 ** 31 - 1}`);

    const back = await Deno.readFile(`${dir}/out.bin`);
    const c = bindLayout(allTypes, bufferMemory(back.buffer as ArrayBuffer, 0x2000));
    const value = c.read(0x2000);
    assert.deepEqual(value, {
      u8: 7,
      i8: -1,
      u16: 1000,
      i16: -1000,
      u32: 123456789,
      i32: -123456789,
      u64: 18446744073709551614n,
      i64: 2n ** 63n - 1n,
      f32: -0,
      f64: 5e-324,
      ok: true,
      ptr: 0x1000,
      name: "ABCDEFGH",
      v: [9, 8, 7],
      at: { x: 1, y: -1 },
    });
    assert.ok(Object.is(value.f32, -0), "-0 survives");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- round trips -------------------------------------------------------------------------

Deno.test("round trip: integers at their extremes", () => {
  const { memory } = memoryOf(allTypes.size);
  const { fields: f } = bindLayout(allTypes, memory);
  const cases: [{ get(a: number): number; set(a: number, v: number): void }, number[]][] = [
    [f.u8, [0, 1, 127, 128, 255]],
    [f.i8, [-128, -1, 0, 127]],
    [f.u16, [0, 0x8000, 65535]],
    [f.i16, [-32768, -1, 32767]],
    [f.u32, [0, 2 ** 31, 2 ** 32 - 1]],
    [f.i32, [-(2 ** 31), -1, 2 ** 31 - 1]],
  ];
  for (const [field, values] of cases) {
    for (const v of values) {
      field.set(BASE, v);
      assert.equal(field.get(BASE), v);
    }
  }
  f.i32.set(BASE, -0);
  assert.ok(Object.is(f.i32.get(BASE), 0), "-0 is stored as integer 0");
});

Deno.test("round trip: 64-bit integers as bigint or safe number; getNumber", () => {
  const big = new Layout("big_t", { u: "u64", i: "i64" });
  const { memory } = memoryOf(big.size);
  const { fields: f } = bindLayout(big, memory);
  for (const v of [0n, 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]) {
    f.u.set(BASE, v);
    assert.equal(f.u.get(BASE), v);
  }
  for (const v of [-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n]) {
    f.i.set(BASE + 0, v);
    assert.equal(f.i.get(BASE), v);
  }
  for (const v of [0, 1, 2 ** 32, 2 ** 53 - 1]) {
    f.u.set(BASE, v);
    assert.equal(f.u.get(BASE), BigInt(v));
    assert.equal(f.u.getNumber(BASE), v);
  }
  for (const v of [-(2 ** 53 - 1), -(2 ** 32) - 1, -1, 0, 2 ** 53 - 1]) {
    f.i.set(BASE, v);
    assert.equal(f.i.get(BASE), BigInt(v));
    assert.equal(f.i.getNumber(BASE), v);
  }
  f.u.set(BASE, 2n ** 53n);
  fails(() => f.u.getNumber(BASE), "BAD_VALUE", "u", "9007199254740992");
  f.i.set(BASE, -(2n ** 53n));
  fails(() => f.i.getNumber(BASE), "BAD_VALUE", "-9007199254740992");
});

Deno.test("round trip: floats (-0, NaN, infinities, denormals, rounding)", () => {
  const fl = new Layout("fl_t", { f: "f32", d: "f64" });
  const { memory } = memoryOf(fl.size);
  const { fields: f } = bindLayout(fl, memory);
  const f32s = [0, -0, NaN, Infinity, -Infinity, 2 ** -149, 2 ** -126, 3.4028234663852886e38, 1.5];
  for (const v of f32s) {
    f.f.set(BASE, v);
    assert.ok(Object.is(f.f.get(BASE), v), `f32 ${v}`);
  }
  f.f.set(BASE, 0.1);
  assert.equal(f.f.get(BASE), Math.fround(0.1), "rounds to the nearest float");
  const f64s = [0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, 2 ** -1022, Number.MAX_VALUE];
  for (const v of [...f64s, Number.EPSILON, -1e-310, Math.PI]) {
    f.d.set(BASE, v);
    assert.ok(Object.is(f.d.get(BASE), v), `f64 ${v}`);
  }
});

Deno.test("round trip: bool and pointer", () => {
  const bp = new Layout("bp_t", { b: "bool", p: "pointer" });
  const { memory, raw } = memoryOf(bp.size);
  const { fields: f } = bindLayout(bp, memory);
  f.b.set(BASE, true);
  assert.deepEqual([f.b.get(BASE), raw[0]], [true, 1]);
  f.b.set(BASE, false);
  assert.deepEqual([f.b.get(BASE), raw[0]], [false, 0]);
  raw[0] = 2; // C may leave any non-zero byte
  assert.equal(f.b.get(BASE), true);
  for (const v of [0, 1, 0x7fff_ffff_f000, 2 ** 53 - 1]) {
    f.p.set(BASE, v);
    assert.equal(f.p.get(BASE), v);
  }
  assert.deepEqual([...raw.subarray(8, 16)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0]);
  raw[15] = 0x80; // 0x801f…: beyond 2^53, no number holds it
  fails(() => f.p.get(BASE), "BAD_VALUE", "p", "0x801fffffffffffff");
});

Deno.test("round trip: char[N] (UTF-8, exact fit, padding, truncation on read)", () => {
  const s = new Layout("s_t", { name: "char[8]", one: "char[1]" });
  const { memory, raw } = memoryOf(s.size);
  const { fields: f } = bindLayout(s, memory);
  for (const v of ["", "a", "Abhishek", "né日", "🎉🎉", "ab\u00e9\u00e9e", "x"]) {
    f.name.set(BASE, v);
    assert.equal(f.name.get(BASE), v);
  }
  assert.deepEqual([...raw.subarray(0, 8)], [0x78, 0, 0, 0, 0, 0, 0, 0], "NUL padded");
  f.name.set(BASE, "12345678"); // exactly 8 bytes: no terminator
  assert.equal(f.name.get(BASE), "12345678");
  assert.equal(raw[8], 0, "the next field is untouched");
  f.one.set(BASE, "z");
  assert.equal(f.one.get(BASE), "z");
  assert.equal(f.name.get(BASE), "12345678", "the exact fit still reads back whole");
  raw.set([0x41, 0xff, 0x42, 0], 0); // invalid UTF-8 from C reads as U+FFFD
  assert.equal(f.name.get(BASE), "A\ufffdB");
});

Deno.test("round trip: read and write whole structs; write only what is given", () => {
  const e = bindLayout(emp, memoryOf(emp.size).memory);
  e.fields.id.set(BASE, 1001);
  e.fields.name.set(BASE, "Abhishek");
  assert.deepEqual(e.read(BASE), { id: 1001, salary: 0, name: "Abhishek", boss: 0 });
  e.write(BASE, { salary: 5000.5 });
  assert.deepEqual(e.read(BASE), { id: 1001, salary: 5000.5, name: "Abhishek", boss: 0 });
  e.write(BASE, {});
  assert.equal(e.fields.id.get(BASE), 1001);
});

// --- arrays, nested structs, stride ------------------------------------------------------

Deno.test("arrays: elements, whole arrays, typed arrays, bool and bigint elements", () => {
  const a = new Layout("a_t", { v: "u16[4]", b: "bool[3]", w: "i64[2]", f: "f32[2]" });
  const { memory, raw } = memoryOf(a.size);
  const { fields: f } = bindLayout(a, memory);
  assert.equal(f.v.length, 4);
  f.v.set(BASE, [1, 2, 3, 4]);
  f.v.set(BASE, 3, 65535);
  assert.deepEqual(f.v.get(BASE), [1, 2, 3, 65535]);
  assert.equal(f.v.get(BASE, 0), 1);
  f.v.set(BASE, new Uint16Array([9, 8, 7, 6]));
  assert.deepEqual(f.v.get(BASE), [9, 8, 7, 6]);
  assert.deepEqual([...raw.subarray(0, 8)], [9, 0, 8, 0, 7, 0, 6, 0], "little endian, stride 2");
  f.b.set(BASE, [true, false, true]);
  assert.deepEqual(f.b.get(BASE), [true, false, true]);
  f.w.set(BASE, [-1n, 2 ** 53 - 1]);
  assert.deepEqual(f.w.get(BASE), [-1n, 2n ** 53n - 1n]);
  f.f.set(BASE, 1, 0.5);
  assert.deepEqual(f.f.get(BASE), [0, 0.5]);
});

Deno.test("nested structs: accessors at outer offsets, address, get/set, carriers", () => {
  const { memory } = memoryOf(rect.size * 2);
  const r = bindLayout(rect, memory);
  assert.deepEqual([r.fields.br.offset, r.fields.br.fields.y.offset], [8, 12]);
  assert.equal(r.fields.br.fields.y.name, "br.y");
  assert.equal(r.fields.br.address(BASE), BASE + 8);
  r.fields.br.set(BASE, { x: 5, y: 6 });
  r.fields.tl.fields.x.set(BASE, -1);
  r.fields.br.set(BASE, { y: 60 }); // like write: only what is given
  assert.deepEqual(r.read(BASE), { tl: { x: -1, y: 0 }, br: { x: 5, y: 60 }, color: 0 });
  assert.deepEqual(r.fields.br.get(BASE), { x: 5, y: 60 });
  // The nested struct's own binding at address() reads the same bytes.
  const p = bindLayout(point, memory);
  assert.deepEqual(p.read(r.fields.br.address(BASE)), { x: 5, y: 60 });
  r.write(BASE, { tl: { y: 3 }, color: 9 });
  assert.deepEqual(r.read(BASE).tl, { x: -1, y: 3 });

  const c = bindLayout(carried, memoryOf(carried.size).memory);
  c.write(BASE, { v: { z: 2.5 }, n: 7 });
  assert.deepEqual(c.read(BASE), { flag: false, v: { x: 0, y: 0, z: 2.5 }, n: 7 });
  assert.equal(carried.member("v").layout, vec3);
});

Deno.test("at(): the stride of a C array is sizeof", () => {
  const { memory } = memoryOf(emp.size * 3);
  const e = bindLayout(emp, memory);
  for (let i = 0; i < 3; i++) e.write(e.at(BASE, i), { id: 100 + i, salary: i / 2 });
  assert.equal(e.at(BASE, 2), BASE + 2 * 56);
  assert.deepEqual([0, 1, 2].map((i) => e.fields.salary.get(emp.at(BASE, i))), [0, 0.5, 1]);
  assert.equal(new DataView(memory.view.buffer).getUint32(56 * 2, true), 102);
  fails(() => e.at(BASE, -1), "BAD_VALUE", "-1", "emp_t");
  fails(() => e.at(BASE, 1.5), "BAD_VALUE", "1.5");
  fails(() => e.at(2 ** 53 - 10, 1), "BAD_VALUE");
  fails(() => e.at(-8, 0), "BAD_ADDRESS", "-8");
  fails(() => e.at(NaN, 0), "BAD_ADDRESS", "NaN");
});

// --- memory: the slow path, a closed memory, swapped windows -----------------------------

/**
 * A memory with a fast window at BASE and a second window at 0x90000 that only `locate`
 * finds; counts the calls of `locate`.
 */
function twoWindows(size: number): {
  memory: Memory & { located: number };
  first: Uint8Array;
  second: Uint8Array;
} {
  const first = new Uint8Array(size);
  const second = new Uint8Array(size);
  const other = { view: new DataView(second.buffer), bytes: second, base: 0x90000 };
  const memory = {
    view: new DataView(first.buffer),
    bytes: first,
    base: BASE,
    end: BASE + size,
    located: 0,
    locate(address: number, n: number): MemoryWindow {
      this.located++;
      if (address >= this.base && address + n <= this.end) {
        return { view: this.view, bytes: this.bytes, offset: address - this.base };
      }
      if (address >= other.base && address + n <= other.base + size) {
        return { view: other.view, bytes: other.bytes, offset: address - other.base };
      }
      throw new LmmError("NOT_OWNED", `No window holds ${n} bytes at ${address}`);
    },
  };
  return { memory, first, second };
}

Deno.test("slow path: an address in a second window goes through locate", () => {
  const { memory, first, second } = twoWindows(allTypes.size);
  const all = bindLayout(allTypes, memory);
  const value = {
    u8: 1,
    i8: -2,
    u16: 3,
    i16: -4,
    u32: 5,
    i32: -6,
    u64: 7n,
    i64: -8n,
    f32: 0.5,
    f64: 0.25,
    ok: true,
    ptr: 0x1234,
    name: "slow",
    v: [1, 2, 3],
    at: { x: 9, y: -9 },
  };
  all.write(0x90000, value);
  assert.ok(memory.located > 0, "locate was called");
  assert.deepEqual(all.read(0x90000), value);
  assert.ok(first.every((b) => b === 0), "the fast window is untouched");
  assert.equal(new DataView(second.buffer).getUint32(allTypes.offsetOf("u32"), true), 5);
  all.fields.v.set(0x90000, 1, 20);
  assert.equal(all.fields.v.get(0x90000, 1), 20);
  assert.equal(all.fields.u64.getNumber(0x90000), 7);
  assert.equal(all.fields.i64.getNumber(0x90000), -8);
  assert.equal(all.fields.at.fields.y.get(0x90000), -9);
  const before = memory.located;
  all.fields.u32.get(BASE);
  assert.equal(memory.located, before, "the fast window needs no locate");
});

Deno.test("slow path: a struct that no window holds whole is not written at all", () => {
  const { memory, first } = twoWindows(32);
  const e = bindLayout(emp, memory); // 56 bytes: larger than either window
  failsUnwritten(first, () => e.write(BASE, { id: 1, boss: 2 }), "NOT_OWNED");
  fails(() => e.read(BASE), "NOT_OWNED");
  fails(() => e.fields.boss.get(BASE), "NOT_OWNED"); // offset 48: past the window
  e.fields.id.set(BASE, 1); // a field that fits still works
  assert.equal(e.fields.id.get(BASE), 1);
});

Deno.test("slow path: a 64-bit store that straddles the window's edge writes nothing", () => {
  // Two 32-bit stores make a number-valued 64-bit field: neither may land when the other
  // cannot. Below the window the high word would fall inside it; at its end, the low word.
  const wide = new Layout("wide_t", { p: "pointer", u: "u64", i: "i64" });
  const { memory, raw } = memoryOf(wide.size);
  const w = bindLayout(wide, memory);
  raw.fill(0xaa);
  for (const [name, offset] of [["p", 0], ["u", 8], ["i", 16]] as const) {
    const f = w.fields[name];
    const below = BASE - offset - 4; // the field's low word 4 bytes below the window
    const past = BASE + wide.size - offset - 4; // its high word 4 bytes past the end
    for (const address of [below, past]) {
      failsUnwritten(raw, () => f.set(address, 1), "NOT_OWNED");
      failsUnwritten(raw, () => f.set(address, 2 ** 40 + 3), "NOT_OWNED");
    }
  }
  failsUnwritten(raw, () => w.fields.i.set(BASE - 16 - 4, -5), "NOT_OWNED");
  w.fields.i.set(BASE, -5);
  assert.equal(w.fields.i.get(BASE), -5n);
});

Deno.test("bindings share the accessors' code, not their memory or offsets", () => {
  // Every accessor of a type is a closure made by one factory: each must keep its own memory
  // and offset, whatever the others did (slow paths, errors) before.
  const a = memoryOf(emp.size, 0x10000);
  const b = memoryOf(emp.size * 2, 0x7f00_0000_0000);
  const ea = bindLayout(emp, a.memory);
  const eb = bindLayout(emp, b.memory);
  const other = bindLayout(new Layout("other_t", { a: "u64", b: "u64", id: "u32" }), a.memory);
  fails(() => eb.fields.id.get(0x10000), "NOT_OWNED");
  fails(() => ea.fields.salary.set(0x7f00_0000_0000, 1), "NOT_OWNED");
  for (let i = 0; i < 1000; i++) {
    ea.fields.id.set(0x10000, i);
    eb.fields.id.set(eb.at(0x7f00_0000_0000, 1), i + 1);
    other.fields.id.set(0x10000, i + 2);
    ea.fields.salary.set(0x10000, i / 2);
  }
  assert.equal(new DataView(a.raw.buffer).getUint32(0, true), 999);
  assert.equal(new DataView(a.raw.buffer).getUint32(16, true), 1001, "other_t.id at offset 16");
  assert.equal(new DataView(b.raw.buffer).getUint32(emp.size, true), 1000);
  assert.deepEqual(
    [ea.fields.id.get(0x10000), eb.fields.id.get(eb.at(0x7f00_0000_0000, 1))],
    [999, 1000],
  );
  assert.equal(ea.fields.salary.get(0x10000), 499.5);
  assert.equal(eb.fields.salary.get(0x7f00_0000_0000), 0, "b's first struct is untouched");
});

Deno.test("closed memory (empty view, end == base): every accessor goes to locate, which throws", () => {
  const { memory, raw } = memoryOf(allTypes.size);
  const closed = new LmmError("CLOSED", "The heap is closed");
  const all = bindLayout(allTypes, memory);
  all.write(BASE, { u32: 77 });
  memory.view = new DataView(new ArrayBuffer(0));
  memory.bytes = new Uint8Array(0);
  memory.end = memory.base;
  memory.locate = (): MemoryWindow => {
    throw closed;
  };
  const good: Record<string, unknown> = {
    u8: 1,
    i8: 1,
    u16: 1,
    i16: 1,
    u32: 1,
    i32: 1,
    u64: 1n,
    i64: 1n,
    f32: 1,
    f64: 1,
    ok: true,
    ptr: 1,
    name: "x",
    v: [1, 2, 3],
    at: { x: 1 },
  };
  const isClosed = (e: unknown): boolean => e === closed;
  assert.deepEqual(Object.keys(good), Object.keys(all.fields));
  for (const [name, field] of Object.entries(all.fields)) {
    const f = field as unknown as { get(a: number): unknown; set(a: number, v: unknown): void };
    assert.throws(() => f.get(BASE), isClosed, `${name}.get`);
    assert.throws(() => f.set(BASE, good[name]), isClosed, `${name}.set`);
    // NaN would reach view offset 0 of an open memory; a closed one has no offset 0.
    assert.throws(() => f.get(NaN), isClosed, `${name}.get(NaN)`);
    assert.throws(() => f.set(NaN, good[name]), isClosed, `${name}.set(NaN)`);
  }
  const before = raw.slice();
  assert.throws(() => all.read(BASE), isClosed);
  assert.throws(() => all.write(BASE, good), isClosed);
  assert.throws(() => all.fields.v.get(BASE, 0), isClosed);
  assert.throws(() => all.fields.v.set(BASE, 0, 1), isClosed);
  assert.throws(() => all.fields.u64.getNumber(BASE), isClosed);
  assert.throws(() => all.fields.i64.getNumber(BASE), isClosed);
  assert.deepEqual(raw, before, "nothing written after close");
  assert.equal(new DataView(raw.buffer).getUint32(allTypes.offsetOf("u32"), true), 77);
});

Deno.test("accessors: frozen plain objects with their field's metadata", () => {
  const { memory } = memoryOf(allTypes.size);
  const all = bindLayout(allTypes, memory);
  const f = all.fields;
  for (const m of allTypes.members) {
    const a = (f as Record<string, unknown>)[m.name] as Record<string, unknown>;
    assert.ok(Object.isFrozen(a), `${m.name} is frozen`);
    assert.deepEqual(
      [a.name, a.type, a.offset, a.size],
      [m.name, m.type, m.offset, m.size],
      `${m.name} describes its field`,
    );
    for (const method of ["get", "set", "check"]) {
      assert.equal(typeof a[method], "function", `${m.name}.${method}`);
    }
  }
  assert.equal(typeof f.u64.getNumber, "function");
  assert.equal(typeof f.i64.getNumber, "function");
  assert.equal(f.v.length, 3);
  assert.equal(f.at.layout, point);
  assert.deepEqual(Object.keys(f.at.fields), ["x", "y"]);
  assert.deepEqual(
    [f.at.fields.y.name, f.at.fields.y.offset, f.at.address(BASE)],
    ["at.y", allTypes.offsetOf("at") + 4, BASE + allTypes.offsetOf("at")],
  );
  fails(() => f.u32.check(-1), "BAD_VALUE", "u32", "all_t");
  fails(() => f.name.check("x".repeat(9)), "BAD_VALUE", "name");
  fails(() => f.v.check([1]), "BAD_VALUE", "v");
  f.i64.check(-1n);
});

Deno.test("accessors follow the memory's fields: a swapped view (growth) is used at once", () => {
  const { memory } = memoryOf(8);
  const p = bindLayout(point, memory);
  p.write(BASE, { x: 1, y: 2 });
  fails(() => p.fields.x.get(BASE + 8), "NOT_OWNED");
  const grown = new Uint8Array(64);
  grown.set(memory.bytes);
  memory.view = new DataView(grown.buffer);
  memory.bytes = grown;
  memory.end = BASE + 64;
  p.write(BASE + 8, { x: 3, y: 4 });
  assert.deepEqual([p.read(BASE), p.read(BASE + 8)], [{ x: 1, y: 2 }, { x: 3, y: 4 }]);
  assert.equal(new DataView(grown.buffer).getInt32(12, true), 4);
});

Deno.test("bufferMemory: window, locate, bad base", () => {
  const m = bufferMemory(new ArrayBuffer(16), 0x1000);
  assert.deepEqual([m.base, m.end], [0x1000, 0x1010]);
  assert.equal(m.locate(0x1008, 8).offset, 8);
  fails(() => m.locate(0x1009, 8), "NOT_OWNED", "0x1009");
  fails(() => m.locate(0xfff, 1), "NOT_OWNED");
  fails(() => m.locate(0x1000 + 0.5, 1), "NOT_OWNED");
  assert.equal(bufferMemory(new ArrayBuffer(4)).base, 0);
  for (const base of [-1, 0.5, NaN, 2 ** 53]) {
    fails(() => bufferMemory(new ArrayBuffer(4), base), "BAD_ADDRESS");
  }
  const p = bindLayout(point, bufferMemory(new ArrayBuffer(8), 0x1000));
  fails(() => p.fields.x.get(0x1000 - 4), "NOT_OWNED");
  fails(() => p.fields.y.set(0x1004, 1), "NOT_OWNED");
  // NaN is no address: the DataView reads it as offset 0 (LMM keeps that part of a heap's
  // memory unused, see heap_test.ts); it never faults.
  assert.equal(p.fields.x.get(NaN), p.fields.x.get(0x1000));
  fails(() => p.fields.x.get(Infinity), "NOT_OWNED");
});

// --- errors ------------------------------------------------------------------------------

Deno.test("BAD_LAYOUT: struct names", () => {
  for (const name of ["", "1abc", "emp t", "emp-t", "int", "struct", "bool", "_Foo", "__x"]) {
    fails(() => new Layout(name, { a: "u8" }), "BAD_LAYOUT", JSON.stringify(name));
  }
  fails(() => new Layout("a".repeat(64), { a: "u8" }), "BAD_LAYOUT", "63");
  assert.equal(new Layout("a".repeat(63), { a: "u8" }).name.length, 63);
  fails(() => new Layout("uint32_t", { a: "u8" }), "BAD_LAYOUT", "stdint");
  fails(() => new Layout("NULL", { a: "u8" }), "BAD_LAYOUT");
  fails(() => new Layout(5 as unknown as string, { a: "u8" }), "BAD_LAYOUT", "5");
});

Deno.test("BAD_LAYOUT: specs and field names", () => {
  const bad = (spec: unknown): LayoutSpec => spec as LayoutSpec;
  for (const spec of [null, "u8", ["u8"], new Map([["a", "u8"]]), 5]) {
    fails(() => new Layout("t_t", bad(spec)), "BAD_LAYOUT", "t_t");
  }
  fails(() => new Layout("t_t", {}), "BAD_LAYOUT", "no fields");
  fails(() => new Layout("t_t", bad({ [Symbol("s")]: "u8" })), "BAD_LAYOUT", "symbol");
  // Integer-like keys would come first whatever the order of writing: they are refused.
  fails(() => new Layout("t_t", { b: "u8", 0: "u32" }), "BAD_LAYOUT", '"0"', "C identifier");
  for (const name of ["1x", "a-b", "a b", "é", "for", "while", "true", "_Bool", "__proto__"]) {
    fails(() => new Layout("t_t", bad(JSON.parse(`{"${name}": "u8"}`))), "BAD_LAYOUT", name);
  }
  fails(() => new Layout("t_t", { ["f".repeat(64)]: "u8" }), "BAD_LAYOUT", "63");
  const many: Record<string, "u8"> = Object.fromEntries(
    Array.from({ length: 1024 }, (_, i) => [`f${i}`, "u8"]),
  );
  fails(() => new Layout("t_t", many), "BAD_LAYOUT", "1024", "1023");
  delete many.f1023;
  assert.equal(new Layout("t_t", many).size, 1023);
  // A null-prototype object is a plain object too.
  const plain = Object.assign(Object.create(null), { a: "u8" });
  assert.equal(new Layout("t_t", plain).size, 1);
});

Deno.test("BAD_LAYOUT: types, N and sizes", () => {
  const bad = (type: unknown): LayoutSpec => ({ f: type }) as LayoutSpec;
  for (const type of ["f65", "u8[]", "u8[-1]", "u8[2][3]", " u8", "U8", "char", "int", "u8[1.5]"]) {
    fails(() => new Layout("t_t", bad(type)), "BAD_LAYOUT", "f", JSON.stringify(type));
  }
  for (const type of [5, null, {}, { layout: 5 }, undefined, true]) {
    fails(() => new Layout("t_t", bad(type)), "BAD_LAYOUT", "f");
  }
  for (const type of ["u8[0]", "char[0]"]) {
    fails(() => new Layout("t_t", bad(type)), "BAD_LAYOUT", "N");
  }
  fails(() => new Layout("t_t", bad(`u8[${2 ** 30 + 1}]`)), "BAD_LAYOUT", "larger");
  fails(() => new Layout("t_t", bad(`u64[${2 ** 27 + 1}]`)), "BAD_LAYOUT", "larger");
  fails(
    () => new Layout("t_t", { a: `char[${2 ** 29}]`, b: `char[${2 ** 29 + 1}]` }),
    "BAD_LAYOUT",
    "larger",
  );
  assert.equal(new Layout("t_t", bad(`char[${2 ** 30}]`)).size, 2 ** 30);
});

Deno.test("BAD_LAYOUT: two different nested structs of one name", () => {
  const other = new Layout("point_t", { x: "f64", y: "f64" });
  fails(() => new Layout("t_t", { a: point, b: other }), "BAD_LAYOUT", "point_t");
  fails(() => new Layout("point_t", { a: point }), "BAD_LAYOUT", "point_t");
  const same = new Layout("point_t", { x: "i32", y: "i32" }); // the same struct again is fine
  assert.equal(new Layout("t_t", { a: point, b: same }).size, 16);
});

Deno.test("BAD_FIELD: unknown names in offsetOf, member, write, nested write", () => {
  const { memory, raw } = memoryOf(emp.size);
  const e = bindLayout(emp, memory);
  const any = (name: string): "id" => name as "id";
  fails(() => emp.offsetOf(any("salry")), "BAD_FIELD", "emp_t", '"salry"');
  fails(() => emp.member(any("toString")), "BAD_FIELD", "toString");
  failsUnwritten(raw, () => e.write(BASE, { id: 1, salry: 2 } as never), "BAD_FIELD", "salry");
  failsUnwritten(raw, () => e.write(BASE, { constructor: 1 } as never), "BAD_FIELD");
  const r = bindLayout(rect, memoryOf(rect.size).memory);
  fails(() => r.write(BASE, { tl: { z: 1 } } as never), "BAD_FIELD", "rect_t", '"tl.z"');
  fails(() => r.fields.tl.set(BASE, { z: 1 } as never), "BAD_FIELD", "tl.z");
});

Deno.test("BAD_VALUE: every scalar type refuses wrong types and out-of-range values", () => {
  const { memory, raw } = memoryOf(allTypes.size);
  const all = bindLayout(allTypes, memory);
  const refused: Record<string, unknown[]> = {
    u8: [-1, 256, 1.5, NaN, "1", null, undefined, 1n, true],
    i8: [-129, 128, 0.5, "0"],
    u16: [-1, 65536, Infinity],
    i16: [-32769, 32768],
    u32: [-1, 2 ** 32, 1e-9, "5"],
    i32: [-(2 ** 31) - 1, 2 ** 31, 2 ** 31 + 0.5],
    u64: [-1n, 2n ** 64n, -1, 1.5, 2 ** 53, "1", NaN],
    i64: [-(2n ** 63n) - 1n, 2n ** 63n, 2 ** 53, -(2 ** 53), 0.5],
    f32: [1e39, -1e39, 3.5e38, "1", 1n, null],
    f64: ["1", 1n, null, undefined, {}],
    ok: [0, 1, "true", null],
    ptr: [-1, 0.5, 2 ** 53, 1n, null, "0x10"],
  };
  const fields = all.fields as unknown as Record<string, { set(a: number, v: unknown): void }>;
  for (const [name, values] of Object.entries(refused)) {
    for (const v of values) {
      const e = failsUnwritten(raw, () => fields[name].set(BASE, v), "BAD_VALUE", name);
      failsUnwritten(raw, () => all.write(BASE, { u8: 9, [name]: v }), "BAD_VALUE", name);
      assert.ok(e.message.includes("all_t"), e.message);
    }
  }
  fails(() => all.fields.u8.set(BASE, 256), "BAD_VALUE", "256", "[0, 255]");
  fails(() => all.fields.i64.set(BASE, 2n ** 63n), "BAD_VALUE", "9223372036854775808n");
  // Infinities are floats like any other; only finite values beyond float range are refused.
  all.fields.f32.set(BASE, -Infinity);
  assert.equal(all.fields.f32.get(BASE), -Infinity);
});

Deno.test("BAD_VALUE: strings, arrays, nested values, write's argument", () => {
  const { memory, raw } = memoryOf(allTypes.size);
  const all = bindLayout(allTypes, memory);
  const f = all.fields;
  failsUnwritten(raw, () => f.name.set(BASE, "123456789"), "BAD_VALUE", "name", "8 bytes");
  failsUnwritten(raw, () => f.name.set(BASE, "日日日"), "BAD_VALUE", "9"); // 9 bytes of UTF-8
  failsUnwritten(raw, () => f.name.set(BASE, "a\0b"), "BAD_VALUE", "NUL");
  failsUnwritten(raw, () => f.name.set(BASE, "a\ud800"), "BAD_VALUE", "surrogate");
  failsUnwritten(raw, () => f.name.set(BASE, 5 as unknown as string), "BAD_VALUE", "string");
  failsUnwritten(raw, () => f.v.set(BASE, [1, 2]), "BAD_VALUE", "v", "3 values");
  failsUnwritten(raw, () => f.v.set(BASE, [1, 2, 3, 4]), "BAD_VALUE", "v");
  failsUnwritten(raw, () => f.v.set(BASE, [1, 70000, 3]), "BAD_VALUE", "70000", "element 1");
  failsUnwritten(raw, () => f.v.set(BASE, "abc" as never), "BAD_VALUE", "v");
  failsUnwritten(raw, () => f.v.set(BASE, 3, 1), "BAD_VALUE", "Index 3", "[0, 2]");
  failsUnwritten(raw, () => f.v.set(BASE, -1, 1), "BAD_VALUE", "-1");
  failsUnwritten(raw, () => f.v.set(BASE, 0, -1), "BAD_VALUE", "-1");
  fails(() => f.v.get(BASE, 1.5), "BAD_VALUE", "1.5");
  fails(() => f.v.get(BASE, 3), "BAD_VALUE", "3");
  failsUnwritten(raw, () => f.at.set(BASE, 5 as never), "BAD_VALUE", "at");
  failsUnwritten(raw, () => f.at.set(BASE, { x: 1, y: 0.5 }), "BAD_VALUE", "at.y", "0.5");
  failsUnwritten(raw, () => all.write(BASE, null as never), "BAD_VALUE", "all_t");
  failsUnwritten(raw, () => all.write(BASE, [1] as never), "BAD_VALUE", "all_t");
  // The case: a good value before a bad one, and nothing is written.
  failsUnwritten(raw, () => all.write(BASE, { u32: 1, name: "x".repeat(9) }), "BAD_VALUE");
  failsUnwritten(
    raw,
    () => all.write(BASE, { u8: 1, v: [1, 2, 3], at: { x: 1, y: 2 }, ok: "yes" as never }),
    "BAD_VALUE",
    "ok",
    '"yes"',
  );
  // check() is the same test without a write.
  fails(() => f.u16.check(-1), "BAD_VALUE", "u16");
  f.u16.check(1);
  fails(() => f.at.check({ q: 1 }), "BAD_FIELD", "at.q");
});

Deno.test("write reads each value once: a getter cannot slip a bad value past the checks", () => {
  const { memory, raw } = memoryOf(allTypes.size);
  const all = bindLayout(allTypes, memory);
  let reads = 0;
  const sneaky = {
    get u32(): number {
      return reads++ === 0 ? 5 : -1;
    },
    at: {
      get x(): number {
        return reads++ === 1 ? 6 : 0.5;
      },
    },
    v: {
      length: 3,
      get 0(): number {
        return reads++ === 2 ? 7 : 70000;
      },
      1: 0,
      2: 0,
    },
  };
  all.write(BASE, sneaky);
  assert.equal(reads, 3);
  assert.deepEqual(
    [all.fields.u32.get(BASE), all.fields.at.fields.x.get(BASE), all.fields.v.get(BASE, 0)],
    [5, 6, 7],
  );
  reads = 1; // from now on every getter answers a bad value: refused, nothing written
  failsUnwritten(raw, () => all.write(BASE, sneaky), "BAD_VALUE", "-1");
});

Deno.test("decode: a JSON-safe object, bounded", () => {
  const d = new Layout("dec_t", {
    n: "f64",
    f: "f32",
    u: "u64",
    i: "i64",
    p: "pointer",
    ok: "bool",
    s: "char[300]",
    many: "u8[40]",
    at: point,
    z: "f64",
  });
  const { memory, raw } = memoryOf(d.size);
  const b = bindLayout(d, memory);
  b.write(BASE, {
    n: NaN,
    f: -Infinity,
    u: 2n ** 64n - 1n,
    i: -5,
    p: 0x7f00_0000_1000,
    ok: true,
    s: "é".repeat(150),
    at: { x: -1, y: 1 },
    z: -0,
  });
  b.fields.many.set(BASE, 39, 7);
  const view = new DataView(raw.buffer);
  const out = d.decode(view, 0);
  assert.deepEqual(JSON.parse(JSON.stringify(out)), out, "JSON round trip");
  assert.equal(out.n, "NaN");
  assert.equal(out.f, "-Infinity");
  assert.equal(out.u, "18446744073709551615");
  assert.equal(out.i, "-5");
  assert.equal(out.p, "0x7f0000001000");
  assert.equal(out.ok, true);
  assert.equal(out.s, "é".repeat(150), "150 characters: not cut");
  assert.deepEqual(out.many, [...new Array(16).fill(0), "… 24 more"]);
  assert.deepEqual(out.at, { x: -1, y: 1 });
  assert.ok(Object.is(out.z, 0), "-0 decodes as 0");
  const short = d.decode(view, 0, { maxElements: 0, maxString: 3 });
  assert.deepEqual([short.s, short.many], ["ééé…", ["… 40 more"]]);
  assert.deepEqual(d.decode(view, 0, { maxElements: 100 }).many, [...new Array(39).fill(0), 7]);
  fails(() => d.decode(view, 1), "INVALID_ARG", "dec_t");
  fails(() => d.decode(view, -1), "INVALID_ARG");
  fails(() => d.decode(new DataView(new ArrayBuffer(8)), 0), "INVALID_ARG", "8 bytes");
});

Deno.test("decode: maxText bounds the whole struct and says what was left out", () => {
  const t = new Layout("t_t", { id: "u32", name: "char[40]", v: "u8[10]", at: point, z: "u8" });
  const view = new DataView(new ArrayBuffer(t.size));
  view.setUint32(0, 1001, true);
  new Uint8Array(view.buffer, 4, 40).fill(0x61); // 40 × "a"
  assert.deepEqual(t.decode(view, 0), {
    id: 1001,
    name: "a".repeat(40),
    v: new Array(10).fill(0),
    at: { x: 0, y: 0 },
    z: 0,
  });
  // 34 - 4 ("{ ", " }") - 10 ("id: " 1001 ", ") - 8 ("name: ", ", ") - 2 quotes: 10 characters.
  assert.deepEqual(t.decode(view, 0, { maxText: 34 }), {
    id: 1001,
    name: `${"a".repeat(10)}…`,
    "…": "3 more fields",
  });
  // Enough for the name: the array stops when the budget does, a nested struct says its rest.
  const more = t.decode(view, 0, { maxText: 80 });
  assert.deepEqual(more.v, [0, 0, 0, "… 7 more"]);
  assert.deepEqual(more["…"], "2 more fields");
  assert.deepEqual(t.decode(view, 0, { maxText: 0 }), { "…": "5 more fields" });
  const emoji = new Layout("e_t", { s: "char[8]" });
  const bytes = new TextEncoder().encode("a\u{1f600}b");
  const ev = new DataView(new ArrayBuffer(8));
  new Uint8Array(ev.buffer).set(bytes);
  assert.equal(emoji.decode(ev, 0, { maxString: 2 }).s, "a…", "never half a surrogate pair");
  for (const bad of [-1, 1.5, NaN, "9", null]) {
    fails(() => t.decode(view, 0, { maxText: bad as number }), "INVALID_ARG", "maxText", "t_t");
  }
  fails(() => t.decode(view, 0, { maxElements: -2 }), "INVALID_ARG", "maxElements");
  fails(() => t.decode(view, 0, { maxString: 0.5 }), "INVALID_ARG", "maxString");
});

Deno.test("cDeclaration: scalars, arrays, bool, pointers, nested typedef names", () => {
  assert.equal(
    ptrs.cDeclaration(),
    "typedef struct ptrs_t { uint8_t n; void *p[3]; uint32_t q; } ptrs_t;",
  );
  assert.equal(
    arrays.cDeclaration(),
    "typedef struct arrays_t { uint8_t a; uint16_t v[3]; double w[2]; bool b[5]; int8_t x; } " +
      "arrays_t;",
  );
  assert.equal(
    deep.cDeclaration({ nested: true }),
    [
      "typedef struct inner_t { uint8_t c; double d; } inner_t;",
      "typedef struct middle_t { uint16_t tag; inner_t in; bool flag; } middle_t;",
      "typedef struct tiny_t { uint8_t c; } tiny_t;",
      "typedef struct deep_t { int8_t a; middle_t m; int8_t z; tiny_t t; } deep_t;",
    ].join("\n"),
  );
  assert.equal(twice.cDeclaration({ nested: true }).split("\n").length, 2, "point_t once");
});

Deno.test("Layout: immutable, members in key order, spec kept", () => {
  assert.ok(Object.isFrozen(emp) && Object.isFrozen(emp.members) && Object.isFrozen(emp.spec));
  assert.ok(Object.isFrozen(emp.members[0]));
  assert.deepEqual(emp.members.map((m) => m.name), ["id", "salary", "name", "boss"]);
  assert.deepEqual(Object.keys(emp.spec), ["id", "salary", "name", "boss"]);
  const spec: Record<string, string> = { b: "u8", a: "u32" };
  const l = new Layout("order_t", spec as LayoutSpec);
  spec.c = "u8";
  assert.deepEqual([l.members.map((m) => m.name), l.offsetOf("a" as never)], [["b", "a"], 4]);
  const bound: BoundLayout = bindLayout(l, memoryOf(8).memory);
  assert.ok(Object.isFrozen(bound.fields));
  assert.deepEqual(Object.keys(bound.fields), ["b", "a"]);
});

Deno.test("types: accessors and values follow the spec (checked by the compiler)", () => {
  const typed = new Layout("typed_t", {
    id: "u32",
    big: "u64",
    ok: "bool",
    name: "char[4]",
    v: "i16[2]",
    at: point,
  });
  const e = bindLayout(typed, memoryOf(typed.size).memory);
  e.write(BASE, { big: 5, v: new Int16Array(2) });
  const id: number = e.fields.id.get(BASE);
  const big: bigint = e.fields.big.get(BASE);
  const n: number = e.fields.big.getNumber(BASE);
  const ok: boolean = e.fields.ok.get(BASE);
  const name: string = e.fields.name.get(BASE);
  const v: number[] = e.fields.v.get(BASE);
  const v0: number = e.fields.v.get(BASE, 0);
  const x: number = e.fields.at.fields.x.get(BASE);
  const whole: { id: number; at: { x: number; y: number } } = e.read(BASE);
  // @ts-expect-error: a u32 field takes a number
  assert.throws(() => e.fields.id.set(BASE, "1"));
  // @ts-expect-error: no such field
  assert.throws(() => e.write(BASE, { nope: 1 }));
  // @ts-expect-error: no such field
  assert.throws(() => typed.offsetOf("nope"));
  assert.deepEqual([id, big, n, ok, name, v, v0, x, whole.at], [0, 5n, 5, false, "", [0, 0], 0, 0, {
    x: 0,
    y: 0,
  }]);
});
