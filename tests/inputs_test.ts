// Issue 12, findings 5 and 6: values outside the TypeScript types get LmmError codes (never a
// TypeError), family names and heap labels are well-formed UTF-16 without control characters,
// text output escapes labels, and sizeOf means the bytes asked for.
import assert from "node:assert/strict";
import { Heap } from "../mod.ts";
import { renderText } from "../cli/render/text.ts";
import { modelOf } from "./fixtures/cli/helpers.ts";
import { throwsCode, throwsCodeAndIntact } from "./_helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** Values that no TypeScript caller can pass, but JavaScript callers can. */
function strangeValues(): [string, unknown][] {
  return [
    ["null", null],
    ["a Symbol", Symbol("s")],
    ["a BigInt", 4096n],
    ["an object", {}],
    ["an object without a prototype", Object.create(null)],
    ["an object whose toString throws", {
      toString(): string {
        throw new Error("toString called");
      },
    }],
    ["an array", [1]],
    ["a function", () => 1],
    ["a numeric string", "8"],
    ["a boolean", true],
  ];
}

Deno.test("values outside the types: every method answers with an LmmError code", () => {
  using heap = new Heap();
  const emp = heap.register("emp_t", 36);
  const p = heap.alloc(emp, 2);
  for (const [what, v] of strangeValues()) {
    const x = v as Any;
    const calls: [string, () => unknown, string][] = [
      ["alloc(v)", () => heap.alloc(x), "UNKNOWN_FAMILY"],
      ["alloc(emp, v)", () => heap.alloc(emp, x), "BAD_SIZE"],
      ["allocBytes(v)", () => heap.allocBytes(x), "BAD_SIZE"],
      ["realloc(p, v)", () => heap.realloc(p, x), "BAD_SIZE"],
      ["realloc(v, 1)", () => heap.realloc(x, 1), "BAD_ADDRESS"],
      ["free(v)", () => heap.free(x), "BAD_ADDRESS"],
      ["bytes(v)", () => heap.bytes(x), "BAD_ADDRESS"],
      ["view(v)", () => heap.view(x), "BAD_ADDRESS"],
      ["pointer(v)", () => heap.pointer(x), "BAD_ADDRESS"],
      ["sizeOf(v)", () => heap.sizeOf(x), "BAD_ADDRESS"],
      ["familyOf(v)", () => heap.familyOf(x), "BAD_ADDRESS"],
      ["blockInfo(v)", () => heap.blockInfo(x), "BAD_ADDRESS"],
      ["blocks(v)", () => heap.blocks(x), "UNKNOWN_FAMILY"],
      ["family(v)", () => heap.family(x), "UNKNOWN_FAMILY"],
      ["register(v, 8)", () => heap.register(x, 8), "BAD_NAME"],
      ["register(name, v)", () => heap.register("v_t", x), "BAD_SIZE"],
    ];
    for (const [call, fn, code] of calls) {
      if (typeof v === "object" && v !== null && call === "register(name, v)") continue; // a layout
      if (typeof v === "string" && call === "register(v, 8)") continue; // a good name

      try {
        throwsCodeAndIntact(heap, fn, code as Any);
      } catch (e) {
        throw new Error(`${call} with ${what}: ${(e as Error).message}`);
      }
    }
    assert.equal(heap.owns(x), false, `owns(${what})`);
  }
  assert.equal(heap.families().length, 2, "nothing was registered");
  assert.equal(heap.stats().totals.occupiedBlocks, 1, "nothing was allocated or freed");
});

Deno.test("values outside the types: a layout family's accessors answer with an LmmError code", () => {
  using heap = new Heap();
  const point = heap.register("point_t", { x: "f64", y: "f64" });
  const emp = heap.register("emp_t", { id: "u32", name: "char[8]", marks: "u16[3]", at: point });
  const e = heap.alloc(emp);
  for (const address of [Symbol("a"), 1n, BigInt(e)] as Any[]) {
    const f = emp.fields;
    for (
      const fn of [
        () => f.id.get(address),
        () => f.id.set(address, 1),
        () => f.name.get(address),
        () => f.name.set(address, "x"),
        () => f.marks.get(address),
        () => f.marks.get(address, 1),
        () => f.marks.set(address, 1, 7),
        () => f.marks.set(address, [1, 2, 3]),
        () => f.at.get(address),
        () => f.at.set(address, { x: 1, y: 2 }),
        () => f.at.address(address),
        () => f.at.fields.y.get(address),
        () => emp.read(address),
        () => emp.write(address, { id: 1 }),
        () => emp.at(address, 0),
      ]
    ) throwsCode(fn, "BAD_ADDRESS");
  }
  for (const index of [Symbol("i"), 1n, null] as Any[]) {
    throwsCode(() => emp.at(e, index), "BAD_VALUE");
  }
  assert.deepEqual(
    emp.read(e),
    { id: 0, name: "", marks: [0, 0, 0], at: { x: 0, y: 0 } },
    "nothing was written",
  );
});

Deno.test("a unit count is not converted: its valueOf is never called", () => {
  using heap = new Heap();
  let calls = 0;
  const sneaky = {
    valueOf(): number {
      calls++;
      return 2;
    },
  } as Any;
  throwsCodeAndIntact(heap, () => heap.allocBytes(sneaky), "BAD_SIZE");
  throwsCodeAndIntact(heap, () => heap.alloc("bytes", sneaky), "BAD_SIZE");
  const p = heap.allocBytes(8);
  throwsCodeAndIntact(heap, () => heap.realloc(p, sneaky), "BAD_SIZE");
  throwsCodeAndIntact(heap, () => heap.free(sneaky), "BAD_ADDRESS");
  throwsCodeAndIntact(heap, () => heap.sizeOf(sneaky), "BAD_ADDRESS");
  assert.equal(calls, 0);
});

Deno.test("heap options outside the types → BAD_CONFIG, bad labels → BAD_NAME / NAME_TOO_LONG", () => {
  for (const options of [null, 5, "x", Symbol("o")]) {
    throwsCode(() => new Heap(options as Any), "BAD_CONFIG");
  }
  for (
    const [key, value] of [
      ["pageSize", Symbol("p")],
      ["pageSize", 4096n],
      ["pageCache", Symbol("c")],
      ["reserve", 1n << 30n],
      ["trackSites", "yes"],
      ["trackSites", 1],
    ] as [string, unknown][]
  ) {
    throwsCode(() => new Heap({ [key]: value } as Any), "BAD_CONFIG");
  }
  const badLabels: [unknown, string][] = [
    ["two\nlines", "BAD_NAME"],
    ["\x1b[31mred", "BAD_NAME"],
    ["nul\0", "BAD_NAME"],
    ["lone \uD800 surrogate", "BAD_NAME"],
    ["\uDC00", "BAD_NAME"],
    [42, "BAD_NAME"],
    [Symbol("l"), "BAD_NAME"],
    [null, "BAD_NAME"],
    ["x".repeat(64), "NAME_TOO_LONG"],
    ["é".repeat(32), "NAME_TOO_LONG"],
  ];
  for (const [label, code] of badLabels) {
    throwsCode(() => new Heap({ label: label as string }), code as Any);
  }
  for (const label of [undefined, "", "app", "x".repeat(63), "émoji 😀", "a b-c.d"]) {
    using heap = new Heap({ label });
    assert.equal(heap.label, label ?? "");
  }
});

Deno.test("family names are well-formed UTF-16: a lone surrogate is BAD_NAME, pairs are fine", () => {
  using heap = new Heap();
  // Both would encode to the same bytes ("a" U+FFFD): the second used to be DUPLICATE_NAME, and
  // family() could not find the first by the name the engine stored.
  throwsCodeAndIntact(heap, () => heap.register("a\uD800", 8), "BAD_NAME");
  throwsCodeAndIntact(heap, () => heap.register("a\uDBFF", 8), "BAD_NAME");
  throwsCodeAndIntact(heap, () => heap.register("\uDC00b", 8), "BAD_NAME");
  throwsCodeAndIntact(heap, () => heap.register("\uDC00\uD800", 8), "BAD_NAME"); // reversed pair
  throwsCodeAndIntact(heap, () => heap.register("a\uD800", { x: "u32" }), "BAD_LAYOUT");
  const smile = heap.register("smile_😀", 8);
  assert.equal(heap.family("smile_😀"), smile);
  assert.equal(heap.families().length, 2);
  heap.free(heap.alloc("smile_😀"));
});

Deno.test("text output escapes a heap's label (a report file may hold any)", () => {
  const text = Deno.readTextFileSync(new URL("./fixtures/cli/leaky.report.jsonl", import.meta.url));
  assert.match(renderText(modelOf(text)), /^Heap \d+ "main" · /m);
  const evil = JSON.stringify('evil\n\x1b[2J"quoted"');
  const out = renderText(modelOf(text.replace('"label":"main"', `"label":${evil}`)));
  assert.ok(!out.includes("\x1b"), "no escape sequence reaches the terminal");
  assert.match(out, /^Heap \d+ "evil\\x0a\\x1b\[2J"quoted"" · /m);
  assert.equal(
    out.split("\n").filter((l) => /^Heap \d+ "evil/.test(l)).length,
    1,
    "one header line",
  );
});

Deno.test("sizeOf is the bytes asked for: what bytes() and view() cover", () => {
  using heap = new Heap();
  const emp = heap.register("emp_t", 36);
  const cases: [number, number, number][] = [ // address, requested, block size
    [heap.allocBytes(10), 10, 16],
    [heap.alloc(emp, 3), 108, 112],
    [heap.allocBytes(1), 1, 16],
  ];
  for (const [p, requested, size] of cases) {
    assert.equal(heap.sizeOf(p), requested);
    assert.equal(heap.bytes(p).length, requested);
    assert.equal(heap.view(p).byteLength, requested);
    assert.equal(heap.blockInfo(p).requested, requested);
    assert.equal(heap.blockInfo(p).size, size);
  }
  const q = heap.realloc(cases[0][0], 3);
  assert.equal(heap.sizeOf(q), 3);
  const big = heap.allocBytes(1 << 20); // a large page of its own
  assert.equal(heap.sizeOf(big), 1 << 20);
  assert.equal(heap.bytes(big).length, 1 << 20);
});
