/**
 * C struct layouts: fields, offsets, sizes and alignment as a C compiler
 * lays them out, a C declaration, and a decoder for reports.
 *
 * ## Basic Design
 * A {@linkcode Layout} is a struct described by name and fields, laid out by
 * the C rules of the LP64 Linux ABIs (x86-64 System V and AAPCS64): every
 * scalar aligns to its size, an array aligns as its element, a nested struct
 * as that struct; fields are padded to their alignment, the struct aligns as
 * its most aligned field and its size rounds up to that alignment. A layout
 * knows nothing of memory: it gives offsets, sizes, a C declaration and a
 * JSON-safe decoder for reports. Reading and writing fields in memory is
 * `accessors.ts` (`bindLayout`).
 *
 * Field order is the spec object's own-key order. JavaScript lists
 * integer-like keys (`"0"`, `"12"`) before all others whatever the order of
 * writing; they are not C identifiers either, so they are rejected.
 *
 * @module
 */

import { describe, LmmError, Status } from "./errors.ts";

// --- types of the spec ---------------------------------------------------------------------

/**
 * The C scalar types a field can have, with their C spelling: `u8`…`u64`
 * (`uint8_t`…`uint64_t`), `i8`…`i64` (`int8_t`…`int64_t`), `f32` (`float`),
 * `f64` (`double`), `bool` (`bool` of `<stdbool.h>`, one byte) and `pointer`
 * (`void *`, 8 bytes: LP64 only). Every one aligns to its size.
 *
 * @example Scalars in a spec
 * ```ts
 * import { Layout, type ScalarType } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const t: ScalarType = "u16";
 * assert.equal(new Layout("s_t", { a: "u8", b: t }).size, 4);
 * ```
 */
export type ScalarType =
  | "u8"
  | "i8"
  | "u16"
  | "i16"
  | "u32"
  | "i32"
  | "u64"
  | "i64"
  | "f32"
  | "f64"
  | "bool"
  | "pointer";

/**
 * A fixed-size character field: `char[N]` holds up to N bytes of UTF-8,
 * padded with NUL bytes. A string of exactly N bytes fills the field and
 * leaves no terminator (as `strncpy` does): C code reads it with
 * `strnlen`/`%.*s`. N ≥ 1.
 *
 * @example A name field
 * ```ts
 * import { type CharType, Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const name: CharType = "char[32]";
 * assert.equal(new Layout("emp_t", { name }).size, 32);
 * ```
 */
export type CharType = `char[${number}]`;

/**
 * A C array of N scalars, `T[N]` with N ≥ 1 (e.g. `"u16[4]"` is
 * `uint16_t v[4]`): aligned as T, N × sizeof(T) bytes.
 *
 * @example An array field
 * ```ts
 * import { type ArrayType, Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const v: ArrayType = "u16[4]";
 * assert.equal(new Layout("vec_t", { n: "u8", v }).offsetOf("v"), 2);
 * ```
 */
export type ArrayType = `${ScalarType}[${number}]`;

/**
 * Anything that carries a layout (for instance a heap family of a layout):
 * usable wherever a nested struct is expected.
 *
 * @example A carrier as a nested field
 * ```ts
 * import { Layout, type LayoutCarrier } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const point: LayoutCarrier = { layout: new Layout("point_t", { x: "f64", y: "f64" }) };
 * assert.equal(new Layout("seg_t", { a: point, b: point }).size, 32);
 * ```
 */
export interface LayoutCarrier {
  /** The layout this object stands for. */
  readonly layout: Layout;
}

/**
 * The type of one field: a scalar, `char[N]`, `T[N]`, or a nested struct (a
 * {@linkcode Layout} or any object carrying one).
 *
 * @example Every kind of field
 * ```ts
 * import { type FieldType, Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const point = new Layout("point_t", { x: "i32", y: "i32" });
 * const types: FieldType[] = ["u8", "char[3]", "i16[2]", point];
 * assert.equal(types.length, 4);
 * ```
 */
export type FieldType = ScalarType | CharType | ArrayType | Layout | LayoutCarrier;

/**
 * Fields by name, in declaration order (the object's own-key order). Names
 * are C identifiers of at most 63 characters, not C keywords and not
 * reserved (`_X…`, `__…`). Integer-like keys (`"0"`, `"12"`) could not keep
 * their place anyway — JavaScript lists them first, in numeric order — and
 * are not identifiers: they are refused.
 *
 * @example A spec
 * ```ts
 * import { Layout, type LayoutSpec } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const spec: LayoutSpec = { id: "u32", salary: "f64" };
 * assert.equal(new Layout("emp_t", spec).offsetOf("salary"), 8);
 * ```
 */
export type LayoutSpec = { readonly [name: string]: FieldType };

/** The 64-bit integer types (bigint values). */
export type Int64Type = "u64" | "i64";
/** The value of a scalar of type T: bigint for 64-bit integers, boolean for bool, else number. */
export type ScalarValue<T> = T extends Int64Type ? bigint : T extends "bool" ? boolean : number;
/** What a setter of scalar type T accepts: also a safe-integer number for 64-bit integers. */
export type ScalarInput<T> = T extends Int64Type ? bigint | number : ScalarValue<T>;
/** The spec of a layout, or of an object carrying a layout. */
export type SpecOf<T> = T extends Layout<infer S> ? S
  : T extends { readonly layout: Layout<infer S> } ? S
  : never;

/**
 * What `read` gives for a field of type T: number, bigint (64-bit
 * integers), boolean, string (`char[N]`), an array, or an object (nested).
 *
 * @example The value of a field
 * ```ts
 * import type { FieldValue } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const v: FieldValue<"u64"> = 5n;
 * const s: FieldValue<"char[8]"> = "abc";
 * assert.equal(typeof v + typeof s, "bigintstring");
 * ```
 */
export type FieldValue<T> = T extends Layout | LayoutCarrier ? LayoutValue<SpecOf<T>>
  : T extends CharType ? string
  : T extends `${infer E}[${number}]` ? ScalarValue<E>[]
  : ScalarValue<T>;

/**
 * What a setter accepts for a field of type T: as {@linkcode FieldValue},
 * but 64-bit integers also as safe-integer numbers, arrays as any
 * array-like of exactly N values, and nested structs as partial objects.
 *
 * @example The input of a field
 * ```ts
 * import type { FieldInput } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const a: FieldInput<"i64"> = 5; // a safe integer is fine for 64-bit fields
 * const b: FieldInput<"u8[2]"> = new Uint8Array([1, 2]);
 * assert.equal(a + b[1], 7);
 * ```
 */
export type FieldInput<T> = T extends Layout | LayoutCarrier ? LayoutInput<SpecOf<T>>
  : T extends CharType ? string
  : T extends `${infer E}[${number}]` ? ArrayLike<ScalarInput<E>>
  : ScalarInput<T>;

/**
 * A whole struct as a plain object, as `read` gives it.
 *
 * @example The value of a struct
 * ```ts
 * import type { LayoutValue } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const e: LayoutValue<{ id: "u32"; name: "char[8]" }> = { id: 1, name: "Ann" };
 * assert.equal(e.name, "Ann");
 * ```
 */
export type LayoutValue<S> = { [K in keyof S]: FieldValue<S[K]> };

/**
 * What `write` accepts: any subset of the fields, each as {@linkcode FieldInput}.
 *
 * @example A partial struct
 * ```ts
 * import type { LayoutInput } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const patch: LayoutInput<{ id: "u32"; salary: "f64" }> = { salary: 5000.5 };
 * assert.equal(Object.keys(patch).length, 1);
 * ```
 */
export type LayoutInput<S> = { [K in keyof S]?: FieldInput<S[K]> };

// --- the C rules ---------------------------------------------------------------------------

/** Largest struct: 1 GiB (a spec beyond that is a mistake, not a struct). */
export const LAYOUT_MAX_SIZE = 2 ** 30;
/** Most fields in one struct: C11's translation limit (5.2.4.1), 1023 members. */
export const LAYOUT_MAX_FIELDS = 1023;
/** Longest field or struct name: C11's 63 significant characters of an identifier. */
export const LAYOUT_MAX_NAME = 63;

/** Byte size and C spelling of each scalar; each aligns to its size (LP64). */
export const SCALARS: {
  readonly [T in ScalarType]: { readonly size: number; readonly c: string };
} = {
  u8: { size: 1, c: "uint8_t" },
  i8: { size: 1, c: "int8_t" },
  u16: { size: 2, c: "uint16_t" },
  i16: { size: 2, c: "int16_t" },
  u32: { size: 4, c: "uint32_t" },
  i32: { size: 4, c: "int32_t" },
  u64: { size: 8, c: "uint64_t" },
  i64: { size: 8, c: "int64_t" },
  f32: { size: 4, c: "float" },
  f64: { size: 8, c: "double" },
  bool: { size: 1, c: "bool" },
  pointer: { size: 8, c: "void *" },
};

function isScalar(name: string): name is ScalarType {
  return Object.hasOwn(SCALARS, name);
}

/** C11 and C23 keywords (C23 makes bool/true/false keywords; before, stdbool macros). */
const C_KEYWORDS = new Set(
  ("auto break case char const continue default do double else enum extern float for goto if " +
    "inline int long register restrict return short signed sizeof static struct switch typedef " +
    "union unsigned void volatile while alignas alignof bool constexpr false nullptr " +
    "static_assert thread_local true typeof typeof_unqual").split(" "),
);

/** Type names and macros of `<stdint.h>`/`<stdbool.h>`/`<stddef.h>` the declaration relies on. */
const C_HEADER_NAMES =
  /^(u?int(8|16|32|64|ptr|max)_t|size_t|ptrdiff_t|NULL|U?INT\w*_(MIN|MAX|C)|SIZE_MAX|PTRDIFF_(MIN|MAX))$/;

/** Why `name` cannot name a C struct or member, or undefined when it can. */
function identifierProblem(name: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return "is not a C identifier";
  if (name.length > LAYOUT_MAX_NAME) return `is longer than ${LAYOUT_MAX_NAME} characters`;
  if (C_KEYWORDS.has(name)) return "is a C keyword";
  if (/^_[A-Z_]/.test(name)) return "is reserved in C (it starts with _ and a capital or _)";
  if (C_HEADER_NAMES.test(name)) return "is a name of <stdint.h> or <stddef.h>";
  return undefined;
}

function roundUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** The layout of a nested-struct field value, or undefined. */
function layoutOf(value: unknown): Layout | undefined {
  if (value instanceof Layout) return value;
  if (typeof value === "object" && value !== null && "layout" in value) {
    const inner = (value as { layout: unknown }).layout;
    if (inner instanceof Layout) return inner;
  }
  return undefined;
}

/**
 * One field of a {@linkcode Layout}: where it lies and what it holds.
 *
 * @example Members of a struct
 * ```ts
 * import { Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const emp = new Layout("emp_t", { id: "u32", name: "char[8]", v: "u16[3]" });
 * const [id, name, v] = emp.members;
 * assert.deepEqual([id.kind, id.offset, id.size], ["scalar", 0, 4]);
 * assert.deepEqual([name.kind, name.length, name.align], ["char", 8, 1]);
 * assert.deepEqual([v.kind, v.scalar, v.offset, v.size], ["array", "u16", 12, 6]);
 * ```
 */
export interface Member {
  /** The field name. */
  readonly name: string;
  /** The type as written in the spec (`"u32"`, `"char[32]"`, `"u16[4]"`) or the nested struct's name. */
  readonly type: string;
  /** `scalar`, `char` (`char[N]`), `array` (`T[N]`) or `struct` (nested). */
  readonly kind: "scalar" | "char" | "array" | "struct";
  /** The scalar type, or the element type of an array; null for `char[N]` and structs. */
  readonly scalar: ScalarType | null;
  /** N of `T[N]` and `char[N]`; 1 for scalars and structs. */
  readonly length: number;
  /** Byte offset from the start of the struct (`offsetof`). */
  readonly offset: number;
  /** Bytes (`sizeof`). */
  readonly size: number;
  /** Alignment (`_Alignof`). */
  readonly align: number;
  /** The nested struct's layout; null for other kinds. */
  readonly layout: Layout | null;
}

function badLayout(message: string): LmmError {
  return new LmmError("BAD_LAYOUT", message);
}

/** The member of `name` with type `type` (offset still 0). */
function memberOf(struct: string, name: string, type: unknown): Member {
  const problem = identifierProblem(name);
  if (problem !== undefined) {
    throw badLayout(`Field name ${JSON.stringify(name)} of ${struct} ${problem}`);
  }
  const nested = layoutOf(type);
  if (nested !== undefined) {
    return {
      name,
      type: nested.name,
      kind: "struct",
      scalar: null,
      length: 1,
      offset: 0,
      size: nested.size,
      align: nested.align,
      layout: nested,
    };
  }
  if (typeof type !== "string") {
    throw badLayout(
      `Field ${name} of ${struct} has type ${describe(type)}: expected a type name or a layout`,
    );
  }
  const base = { name, type, offset: 0, layout: null };
  if (isScalar(type)) {
    const { size } = SCALARS[type];
    return { ...base, kind: "scalar", scalar: type, length: 1, size, align: size };
  }
  const array = /^([a-z0-9]+)\[(\d+)\]$/.exec(type);
  if (array === null || (array[1] !== "char" && !isScalar(array[1]))) {
    throw badLayout(
      `Field ${name} of ${struct} has an unknown type ${JSON.stringify(type)}: expected one of ` +
        `${Object.keys(SCALARS).join(" ")}, char[N] or T[N]`,
    );
  }
  const length = Number(array[2]);
  if (length < 1) throw badLayout(`Field ${name} of ${struct} has type ${type}: N must be ≥ 1`);
  const scalar = array[1] === "char" ? null : array[1] as ScalarType;
  const element = scalar === null ? 1 : SCALARS[scalar].size;
  if (length * element > LAYOUT_MAX_SIZE) {
    throw badLayout(
      `Field ${name} of ${struct} has type ${type}: larger than ${LAYOUT_MAX_SIZE} bytes`,
    );
  }
  return {
    ...base,
    kind: scalar === null ? "char" : "array",
    scalar,
    length,
    size: length * element,
    align: element,
  };
}

/**
 * Options of {@linkcode Layout.prototype.cDeclaration}.
 *
 * @example Declarations with nested structs first
 * ```ts
 * import { Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const point = new Layout("point_t", { x: "i32", y: "i32" });
 * const seg = new Layout("seg_t", { a: point, b: point });
 * assert.equal(seg.cDeclaration({ nested: true }).split("\n").length, 2);
 * ```
 */
export interface CDeclarationOptions {
  /** Also declare every nested struct, each once, before the struct that uses it (default false). */
  nested?: boolean;
}

/**
 * Options of {@linkcode Layout.prototype.decode}: how much of long fields,
 * and of the whole struct, a report shows.
 *
 * @example Short arrays, strings and structs
 * ```ts
 * import { Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const t = new Layout("t_t", { v: "u8[100]" });
 * const d = t.decode(new DataView(new ArrayBuffer(100)), 0, { maxElements: 2 });
 * assert.deepEqual(d.v, [0, 0, "… 98 more"]);
 * const w = new Layout("w_t", { a: "u32", b: "u32", c: "u32" });
 * const line = w.decode(new DataView(new ArrayBuffer(12)), 0, { maxText: 14 });
 * assert.deepEqual(line, { a: 0, b: 0, "…": "1 more field" });
 * ```
 */
export interface DecodeOptions {
  /** Array elements shown before the rest is summarised as `"… N more"` (default 16). */
  maxElements?: number;
  /** Characters of a `char[N]` string shown before it is cut with `…` (default 256). */
  maxString?: number;
  /**
   * About how many characters the whole decoded struct may take as one line
   * of text — field names, values, quotes and separators counted as
   * `{ name: value, … }` would show them (default: no limit). Once they are
   * spent, nothing more is read: each struct being decoded ends with the
   * key `"…"` saying how many of its fields were left out (`"2 more
   * fields"`), an array with `"… N more"`, a string with `…`. The key `"…"`
   * is never a field name (those are C identifiers).
   */
  maxText?: number;
}

/**
 * A JSON-safe value of a decoded field: numbers (NaN and ±Infinity as
 * strings), 64-bit integers as decimal strings, pointers as `"0x…"`
 * strings, booleans, strings, arrays and nested objects (a struct cut
 * short by {@linkcode DecodeOptions.maxText} ends with the key `"…"`).
 *
 * @example A decoded value
 * ```ts
 * import type { Decoded } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const d: Decoded = { id: 1, big: "18446744073709551615", v: [1, 2] };
 * assert.equal(JSON.parse(JSON.stringify(d)).big, "18446744073709551615");
 * ```
 */
export type Decoded = number | string | boolean | Decoded[] | { [name: string]: Decoded };

/**
 * A C struct: its fields with their offsets, its size and alignment, as a C
 * compiler for x86-64 or aarch64 Linux lays them out. Immutable.
 *
 * Invalid specs throw `LmmError` `BAD_LAYOUT`: a name that is not a C
 * identifier (or is a keyword, reserved, or longer than 63 characters), no
 * fields or more than 1023, an unknown type, N < 1, a struct over 1 GiB, or
 * two different nested structs of the same name.
 *
 * @example The issue's employee
 * ```ts
 * import { Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const emp = new Layout("emp_t", { id: "u32", salary: "f64", name: "char[32]", boss: "pointer" });
 * assert.deepEqual([emp.size, emp.align, emp.offsetOf("salary")], [56, 8, 8]);
 * assert.equal(
 *   emp.cDeclaration(),
 *   "typedef struct emp_t { uint32_t id; double salary; char name[32]; void *boss; } emp_t;",
 * );
 * ```
 */
export class Layout<const S extends LayoutSpec = LayoutSpec> {
  /** The struct's name: the C typedef name. */
  readonly name: string;
  /** The spec it was made from (a frozen copy). */
  readonly spec: Readonly<S>;
  /** `sizeof`: the stride of a C array of this struct. */
  readonly size: number;
  /** `_Alignof`: the largest alignment of a field. */
  readonly align: number;
  /** The fields in declaration order. */
  readonly members: readonly Member[];
  #byName: Map<string, Member>;

  /**
   * Lays out a struct.
   *
   * @param name The C typedef name (a C identifier).
   * @param spec Fields by name, in order.
   */
  constructor(name: string, spec: S) {
    const problem = typeof name === "string" ? identifierProblem(name) : "is not a string";
    if (problem !== undefined) throw badLayout(`Struct name ${describe(name)} ${problem}`);
    if (
      typeof spec !== "object" || spec === null ||
      ![Object.prototype, null].includes(Object.getPrototypeOf(spec))
    ) {
      throw badLayout(`The fields of ${name} are ${describe(spec)}: expected a plain object`);
    }
    if (Object.getOwnPropertySymbols(spec).length > 0) {
      throw badLayout(`The fields of ${name} have a symbol key: field names are strings`);
    }
    const names = Object.keys(spec);
    if (names.length === 0) throw badLayout(`Struct ${name} has no fields`);
    if (names.length > LAYOUT_MAX_FIELDS) {
      throw badLayout(
        `Struct ${name} has ${names.length} fields: at most ${LAYOUT_MAX_FIELDS} are allowed`,
      );
    }
    const members: Member[] = [];
    let offset = 0;
    let align = 1;
    for (const field of names) {
      const m = memberOf(name, field, spec[field]);
      offset = roundUp(offset, m.align);
      members.push(Object.freeze({ ...m, offset }));
      offset += m.size;
      align = Math.max(align, m.align);
      if (offset > LAYOUT_MAX_SIZE) {
        throw badLayout(`Struct ${name} is larger than ${LAYOUT_MAX_SIZE} bytes`);
      }
    }
    this.name = name;
    this.spec = Object.freeze(Object.fromEntries(names.map((n) => [n, spec[n]]))) as Readonly<S>;
    this.size = roundUp(offset, align);
    this.align = align;
    this.members = Object.freeze(members);
    this.#byName = new Map(members.map((m) => [m.name, m]));
    this.#declarations(); // rejects two different structs of one name
    Object.freeze(this);
  }

  /**
   * The member called `name`.
   *
   * @example Look a field up
   * ```ts
   * import { Layout } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * const emp = new Layout("emp_t", { id: "u32", name: "char[32]" });
   * assert.equal(emp.member("name").size, 32);
   * ```
   *
   * @param name A field name.
   * @returns Its member; throws `BAD_FIELD` when there is none.
   */
  member(name: keyof S & string): Member {
    const m = this.#byName.get(name);
    if (m === undefined) throw noField(this.name, name);
    return m;
  }

  /**
   * `offsetof(struct, name)`.
   *
   * @example Padding before a double
   * ```ts
   * import { Layout } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * const s = new Layout("s_t", { c: "u8", d: "f64" });
   * assert.equal(s.offsetOf("d"), 8);
   * ```
   *
   * @param name A field name.
   * @returns Its byte offset; throws `BAD_FIELD` for an unknown name.
   */
  offsetOf(name: keyof S & string): number {
    return this.member(name).offset;
  }

  /**
   * The address of element `index` of a C array of this struct at `address`
   * (`&array[index]`: the stride is `size`). Throws `BAD_ADDRESS` for an
   * address and `BAD_VALUE` for an index that is not a non-negative integer.
   *
   * @example The third element
   * ```ts
   * import { Layout } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * const emp = new Layout("emp_t", { id: "u32", salary: "f64" });
   * assert.equal(emp.at(0x1000, 2), 0x1000 + 2 * 16);
   * ```
   *
   * @param address The array's address.
   * @param index The element.
   * @returns The element's address.
   */
  at(address: number, index: number): number {
    if (!Number.isSafeInteger(address) || address < 0) {
      throw new LmmError(
        "BAD_ADDRESS",
        `Address ${describe(address)} of ${this.name}[${describe(index)}] is not a non-negative ` +
          "integer",
        { status: Status.BAD_ADDRESS },
      );
    }
    if (
      !Number.isSafeInteger(index) || index < 0 ||
      !Number.isSafeInteger(address + index * this.size)
    ) {
      throw new LmmError(
        "BAD_VALUE",
        `Index ${describe(index)} of ${this.name} at ${hexOf(address)} is not a non-negative ` +
          "integer (or the address overflows)",
      );
    }
    return address + index * this.size;
  }

  /**
   * The C declaration: `typedef struct NAME { … } NAME;` on one line, using
   * `<stdint.h>` and `<stdbool.h>` types; nested fields use the nested
   * typedef name.
   *
   * @example An array and a nested struct
   * ```ts
   * import { Layout } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * const point = new Layout("point_t", { x: "f32", y: "f32" });
   * const shape = new Layout("shape_t", { at: point, v: "u16[4]", ok: "bool" });
   * assert.equal(
   *   shape.cDeclaration(),
   *   "typedef struct shape_t { point_t at; uint16_t v[4]; bool ok; } shape_t;",
   * );
   * ```
   *
   * @param options `nested: true` declares the nested structs first.
   * @returns The declaration; with `nested`, one line per struct.
   */
  cDeclaration(options: CDeclarationOptions = {}): string {
    if (options.nested) return [...this.#declarations().values()].join("\n");
    const fields = this.members.map((m) => {
      let c: string;
      if (m.kind === "struct") c = `${m.type} ${m.name}`;
      else if (m.kind === "char") c = `char ${m.name}[${m.length}]`;
      else {
        const t = SCALARS[m.scalar as ScalarType].c;
        c = `${t}${t.endsWith("*") ? "" : " "}${m.name}${
          m.kind === "array" ? `[${m.length}]` : ""
        }`;
      }
      return `${c};`;
    });
    return `typedef struct ${this.name} { ${fields.join(" ")} } ${this.name};`;
  }

  /** Declarations by struct name, nested ones first; throws on a name with two structs. */
  #declarations(): Map<string, string> {
    const out = new Map<string, string>();
    const visit = (layout: Layout): void => {
      for (const m of layout.members) if (m.layout !== null) visit(m.layout);
      const text = layout.cDeclaration();
      const seen = out.get(layout.name);
      if (seen === undefined) out.set(layout.name, text);
      else if (seen !== text) {
        throw badLayout(
          `Struct ${this.name} uses two different structs named ${layout.name}: ${seen} and ${text}`,
        );
      }
    };
    visit(this);
    return out;
  }

  /**
   * Decodes a struct in a `DataView` into a JSON-safe object, for reports
   * (e.g. of leaked blocks): numbers as numbers (NaN, ±Infinity as strings),
   * 64-bit integers as decimal strings, pointers as `"0x…"`, `char[N]` as
   * text up to its first NUL (invalid UTF-8 shown as U+FFFD), long arrays and
   * strings cut (see {@linkcode DecodeOptions}). Throws `INVALID_ARG` when
   * the struct does not fit in the view.
   *
   * @example Decode a leaked block's bytes
   * ```ts
   * import { Layout } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * const emp = new Layout("emp_t", { id: "u32", name: "char[8]", big: "u64", boss: "pointer" });
   * const view = new DataView(new ArrayBuffer(emp.size));
   * view.setUint32(0, 1001, true);
   * view.setUint8(4, 65);
   * view.setBigUint64(16, 2n ** 64n - 1n, true);
   * assert.deepEqual(emp.decode(view, 0), {
   *   id: 1001,
   *   name: "A",
   *   big: "18446744073709551615",
   *   boss: "0x0",
   * });
   * ```
   *
   * @param view Memory holding the struct.
   * @param offset Where in `view` the struct starts.
   * @param options Limits for long arrays and strings.
   * @returns The fields by name.
   */
  decode(view: DataView, offset: number, options: DecodeOptions = {}): { [name: string]: Decoded } {
    if (
      !(view instanceof DataView) || !Number.isSafeInteger(offset) || offset < 0 ||
      offset + this.size > view.byteLength
    ) {
      throw new LmmError(
        "INVALID_ARG",
        `Decode ${this.name}: ${this.size} bytes at offset ${describe(offset)} are not inside ` +
          `the view (${view instanceof DataView ? `${view.byteLength} bytes` : describe(view)})`,
        { status: Status.INVALID_ARG },
      );
    }
    const limits: Limits = {
      elements: decodeLimit(this.name, "maxElements", options.maxElements, 16),
      string: decodeLimit(this.name, "maxString", options.maxString, 256),
      left: decodeLimit(this.name, "maxText", options.maxText, Infinity),
    };
    return decodeStruct(this, view, offset, limits);
  }
}

/** How much {@linkcode Layout.decode} shows; `left` is the text budget still unspent. */
interface Limits {
  elements: number;
  string: number;
  left: number;
}

/** A decode option: a non-negative integer (or Infinity), else INVALID_ARG. */
function decodeLimit(struct: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" || !(value >= 0) ||
    (!Number.isInteger(value) && value !== Infinity)
  ) {
    throw new LmmError(
      "INVALID_ARG",
      `Decode ${struct}: ${name} ${describe(value)} is not a non-negative integer`,
      { status: Status.INVALID_ARG },
    );
  }
  return value;
}

// --- decoding (reports; not a hot path) ----------------------------------------------------

/**
 * The scalar of type `type` at `o`, little-endian: u64, i64 and pointers as bigints. Not a hot
 * path (reports; the slow path of `accessors.ts`).
 */
export function loadScalar(
  view: DataView,
  o: number,
  type: ScalarType,
): number | bigint | boolean {
  switch (type) {
    case "u8":
      return view.getUint8(o);
    case "i8":
      return view.getInt8(o);
    case "u16":
      return view.getUint16(o, true);
    case "i16":
      return view.getInt16(o, true);
    case "u32":
      return view.getUint32(o, true);
    case "i32":
      return view.getInt32(o, true);
    case "u64":
    case "pointer":
      return view.getBigUint64(o, true);
    case "i64":
      return view.getBigInt64(o, true);
    case "f32":
      return view.getFloat32(o, true);
    case "f64":
      return view.getFloat64(o, true);
    case "bool":
      return view.getUint8(o) !== 0;
  }
}

function decodeScalar(view: DataView, o: number, type: ScalarType): Decoded {
  const v = loadScalar(view, o, type);
  if (type === "pointer") return `0x${v.toString(16)}`;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return Object.is(v, -0) ? 0 : v;
}

function decodeStruct(
  layout: Layout,
  view: DataView,
  offset: number,
  limits: Limits,
): { [name: string]: Decoded } {
  const out: { [name: string]: Decoded } = {};
  limits.left -= 4; // "{ " and " }"
  const members = layout.members;
  for (let k = 0; k < members.length; k++) {
    const m = members[k];
    if (limits.left <= 0) {
      const rest = members.length - k;
      out["…"] = `${rest} more field${rest === 1 ? "" : "s"}`;
      break;
    }
    limits.left -= m.name.length + 4; // "name: " and ", "
    const o = offset + m.offset;
    let value: Decoded;
    if (m.layout !== null) value = decodeStruct(m.layout, view, o, limits);
    else if (m.kind === "char") {
      const text = decodeChars(new Uint8Array(view.buffer, view.byteOffset + o, m.length));
      const room = Math.max(0, Math.min(limits.string, limits.left - 2));
      value = text.length > room ? `${cut(text, room)}…` : text;
      limits.left -= value.length + 2;
    } else if (m.kind === "array") {
      const step = SCALARS[m.scalar as ScalarType].size;
      const shown = Math.min(m.length, limits.elements);
      const list: Decoded[] = [];
      limits.left -= 4; // "[ " and " ]"
      for (let i = 0; i < shown && limits.left > 0; i++) {
        const item = decodeScalar(view, o + i * step, m.scalar!);
        list.push(item);
        limits.left -= String(item).length + 2;
      }
      if (list.length < m.length) list.push(`… ${m.length - list.length} more`);
      value = list;
    } else {
      value = decodeScalar(view, o, m.scalar!);
      limits.left -= String(value).length;
    }
    out[m.name] = value;
  }
  return out;
}

/** The first `n` UTF-16 units of `text`, one less rather than half of a surrogate pair. */
function cut(text: string, n: number): string {
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

const utf8 = new TextDecoder();

/** The text of a NUL-padded `char[N]`: bytes up to the first NUL, as UTF-8. */
export function decodeChars(bytes: Uint8Array): string {
  let end = 0;
  let ascii = true;
  while (end < bytes.length && bytes[end] !== 0) {
    if (bytes[end] >= 0x80) ascii = false;
    end++;
  }
  if (!ascii || end > 64) return utf8.decode(bytes.subarray(0, end));
  let s = "";
  for (let i = 0; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

// --- messages ------------------------------------------------------------------------------

/** A short, safe description of any value for an error message (shared with the heap's). */
export { describe };

/** An address as `0x…` for messages. */
export function hexOf(address: number): string {
  return Number.isSafeInteger(address) && address >= 0
    ? `0x${address.toString(16)}`
    : describe(address);
}

/** The BAD_FIELD error for a name `struct` has no field of. */
export function noField(struct: string, name: string): LmmError {
  return new LmmError("BAD_FIELD", `Struct ${struct} has no field ${describe(name)}`);
}
