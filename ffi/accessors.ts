/**
 * Field accessors: a {@linkcode Layout} joined to a {@linkcode Memory}, a
 * window of native memory seen through one `DataView`.
 *
 * ## Basic Design
 * {@linkcode bindLayout} gives one accessor per field: a frozen plain object
 * (name, type, offset, size, `check`, `get`, `set`) whose `get` and `set`
 * are closures made by one factory per C type. A closure keeps the memory
 * and the field's offset in `const`s; where a call site always calls the
 * same accessor, V8 inlines it with those as constants, and a loop over
 * records compiles to nearly the loop over `heap.memory`.
 *
 * The hot path of a numeric field is one DataView call at `address - base +
 * offset` inside `try`, and for a setter a value test before it (which V8
 * drops when it knows the value's type). The DataView's own bounds check is
 * the only test of the address: inlined, it leaves the compiled code by
 * deoptimizing, so a loop of accessors carries no branch of ours. An address
 * outside the window makes the DataView throw a RangeError; the `catch`
 * hands it to `slowScalar`, one function for every type, which asks the
 * memory's `locate` for the window (or its error: NOT_OWNED, CLOSED for a
 * closed heap). A refused value goes there too, and it throws BAD_VALUE
 * before anything is written. The slow path is larger than V8 inlines (460
 * bytes of bytecode), so accessors whose slow path has run stay small. The
 * numeric paths allocate nothing (64-bit fields return a bigint, which V8
 * allocates — `getNumber` reads them without). Accessors read `view` and
 * `base` from the memory on every call, so its owner may swap them (grow,
 * close). A number that is not an address at all (NaN) reaches view offset
 * 0 — the owner keeps that byte range harmless (LMM's first arena never
 * places a page in its first unit). `char[N]` fields test the window `[base,
 * end)` first: byte arrays do not throw. A 64-bit number is stored as two
 * 32-bit words, the far one read first, so that nothing is written when
 * either word is out of the window.
 *
 * Measured while choosing (ns per record to update 2 fields and read 2 of
 * 100k `emp_t` in a heap, CPU time, Deno 2.9.6, medians of 9 rounds; the
 * same loop over one ArrayBuffer at fixed offsets takes ≈ 0.7, over
 * `heap.memory` ≈ 1.6):
 *
 * | accessors                   | hot loop | helper of 2 | one long call | after out-of-window |
 * | --------------------------- | -------: | ----------: | ------------: | ------------------: |
 * | a class per type (before)   |      4.7 |         4.9 |          11.1 |                  42 |
 * | closures, `try` (this)      |      2.1 |         5.1 |           4.4 |                  29 |
 * | closures, window test first |      2.5 |        13.7 |          10.4 |                 7.5 |
 *
 * In `bench/record_bench.ts` (wall time, 5 runs, medians of ratios to the
 * fixed-offset loop in the same run): accessors 2.9×, `heap.memory` 2.35×.
 * The class accessors were 8.6× in the suite as it was, and 53× in this
 * one, where other layouts over memories of two classes ran first (their
 * shared methods then no longer inline the DataView call anywhere).
 * `bench/layout_bench.ts` update: 1.9× (4.5× before).
 *
 * "Helper of 2": one function that two fields' accessors are passed to;
 * "one long call": the loop in a function called once (V8 compiles it on
 * the stack); "after out-of-window": once accessors of the same types have
 * reached blocks beyond a heap's first arena. A window test before the
 * DataView call is a branch V8 keeps where it does not specialize on one
 * accessor, and a `throw` in a closure costs the same (4 ns in the helper):
 * the closures have neither. Their cost is the last column: the first time
 * an out-of-window address reaches a compiled accessor, V8 stops inlining
 * the DataView call of every accessor of that type (they share their code)
 * for the rest of the process. That happens with heaps beyond their 4 GiB
 * first arena, accessors used after `close()` and wrong addresses; a
 * program with none of these never pays it. A call site that sees the
 * accessors of memories of different classes (a heap's and `bufferMemory`'s)
 * no longer inlines the DataView call either (≈ 40 ns); one that always
 * calls the same accessor does not care. The memory's fields must be plain
 * data a constructor assigns once (see `ArenaMemory`): fields defined as
 * `undefined` first cost 3 ns per record here.
 *
 * Values are checked before anything is written: a setter either writes the
 * whole value or throws `BAD_VALUE` and writes nothing, and `write` checks
 * every value (and that the struct lies in memory) before it writes the
 * first.
 *
 * For the hottest loops, the fixed offsets are there too: `accessor.offset`
 * (or `layout.offsetOf`) with the memory's own `view` and an address's
 * offset `address - memory.base` is the plain DataView loop, with no check
 * but the DataView's.
 *
 * @module
 */

import { LmmError, Status } from "./errors.ts";
import {
  type CharType,
  decodeChars,
  describe,
  hexOf,
  type Int64Type,
  type Layout,
  type LayoutCarrier,
  type LayoutInput,
  type LayoutSpec,
  type LayoutValue,
  loadScalar,
  type Member,
  noField,
  type ScalarInput,
  SCALARS,
  type ScalarType,
  type ScalarValue,
  type SpecOf,
} from "./layout.ts";

const utf8Encoder = new TextEncoder();

// --- memory ------------------------------------------------------------------------------

/**
 * A window of native memory that accessors read and write. The fast path
 * covers addresses `[base, end)`: `view` and `bytes` span that window, view
 * offset 0 being address `base`. Accessors read these fields on every call
 * (the owner may swap them when the memory grows or closes: a closed memory
 * has an empty `view` and `bytes` and `end === base`) and send any other
 * address to `locate`. Make it a plain object, or a class whose constructor
 * assigns these fields (TypeScript `declare`): a field defined as
 * `undefined` first makes every accessor slower (module notes).
 *
 * @example A memory over an ArrayBuffer
 * ```ts
 * import { bufferMemory, type Memory } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const m: Memory = bufferMemory(new ArrayBuffer(64), 0x10000);
 * assert.equal(m.end - m.base, 64);
 * assert.equal(m.locate(0x10008, 8).offset, 8);
 * ```
 */
export interface Memory {
  /** The window; offset 0 is address `base`. */
  view: DataView;
  /** The same window as bytes. */
  bytes: Uint8Array;
  /** Address of view offset 0. */
  base: number;
  /** First address past the window (`base` when the memory is closed). */
  end: number;
  /**
   * The slow path: the window holding `[address, address + size)` and the
   * address's offset in it; throws an `LmmError` when no window holds it.
   */
  locate(address: number, size: number): MemoryWindow;
}

/**
 * What {@linkcode Memory.locate} returns: a window and an offset in it.
 *
 * @example Locate an address
 * ```ts
 * import { bufferMemory, type MemoryWindow } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const w: MemoryWindow = bufferMemory(new ArrayBuffer(16), 100).locate(104, 4);
 * assert.equal(w.offset, 4);
 * ```
 */
export interface MemoryWindow {
  /** A view that holds the bytes asked for. */
  view: DataView;
  /** The same bytes as a Uint8Array (same offsets as `view`). */
  bytes: Uint8Array;
  /** Offset of the address in `view` and `bytes`. */
  offset: number;
}

/**
 * A {@linkcode Memory} over an ArrayBuffer whose first byte has address
 * `base`: layouts over plain JavaScript memory (structs to hand to FFI,
 * tests, benchmarks). Addresses outside it throw `NOT_OWNED`.
 *
 * @example Structs in an ArrayBuffer
 * ```ts
 * import { bindLayout, bufferMemory, Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const point = new Layout("point_t", { x: "i32", y: "i32" });
 * const buffer = new ArrayBuffer(point.size * 10);
 * const p = bindLayout(point, bufferMemory(buffer));
 * p.write(point.at(0, 3), { x: 7, y: -7 });
 * assert.equal(new DataView(buffer).getInt32(3 * 8 + 4, true), -7);
 * ```
 *
 * @param buffer The memory.
 * @param base The address of its first byte (default 0).
 * @returns The memory; its `end` is `base + buffer.byteLength`.
 */
export function bufferMemory(buffer: ArrayBuffer, base = 0): Memory {
  if (!Number.isSafeInteger(base) || base < 0 || !Number.isSafeInteger(base + buffer.byteLength)) {
    throw new LmmError(
      "BAD_ADDRESS",
      `Base address ${describe(base)} of a buffer memory is not a non-negative integer below 2^53`,
      { status: Status.BAD_ADDRESS },
    );
  }
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  const end = base + buffer.byteLength;
  return {
    view,
    bytes,
    base,
    end,
    locate(address: number, size: number): MemoryWindow {
      if (address >= base && address + size <= end && Number.isInteger(address)) {
        return { view, bytes, offset: address - base };
      }
      throw new LmmError(
        "NOT_OWNED",
        `No window holds ${size} bytes at ${hexOf(address)}: the memory is [${hexOf(base)}, ` +
          `${hexOf(end)})`,
        { status: Status.NOT_OWNED },
      );
    },
  };
}

/** Why a scalar field refuses `value` (error path only). */
function scalarRule(type: ScalarType): string {
  switch (type) {
    case "f32":
      return "a number within float range";
    case "f64":
      return "a number";
    case "bool":
      return "a boolean";
    case "pointer":
      return "an address (an integer in [0, 2^53))";
    case "u64":
      return "an integer in [0, 2^64) (bigint or safe-integer number)";
    case "i64":
      return "an integer in [-2^63, 2^63) (bigint or safe-integer number)";
    default: {
      const bits = SCALARS[type].size * 8;
      return type[0] === "u"
        ? `an integer in [0, ${2 ** bits - 1}]`
        : `an integer in [${-(2 ** (bits - 1))}, ${2 ** (bits - 1) - 1}]`;
    }
  }
}

// --- accessors -----------------------------------------------------------------------------

/**
 * What every field accessor has: where the field lies and what it is.
 * `offset` counts from the start of the bound struct (nested fields
 * included), so `get(address)` takes the address of the outermost struct.
 *
 * @example Describe a field
 * ```ts
 * import { bindLayout, bufferMemory, type FieldAccessor, Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const emp = bindLayout(new Layout("emp_t", { id: "u32", salary: "f64" }), bufferMemory(new ArrayBuffer(16)));
 * const f: FieldAccessor = emp.fields.salary;
 * assert.deepEqual([f.name, f.type, f.offset, f.size], ["salary", "f64", 8, 8]);
 * ```
 */
export interface FieldAccessor {
  /** The field's path from the bound struct: `"salary"`, `"pos.x"`. */
  readonly name: string;
  /** The type as in {@linkcode Member.type}. */
  readonly type: string;
  /** Byte offset from the bound struct's address. */
  readonly offset: number;
  /** Bytes. */
  readonly size: number;
  /**
   * Throws what `set` would throw for `value` (`BAD_VALUE`, `BAD_FIELD`)
   * without writing anything.
   */
  check(value: unknown): void;
}

/**
 * A scalar or `char[N]` field: `get` reads it, `set` checks and writes it.
 * Numeric fields allocate nothing on either path.
 *
 * @example Read and write a u32
 * ```ts
 * import { bindLayout, bufferMemory, Layout, type ScalarAccessor } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const emp = bindLayout(new Layout("emp_t", { id: "u32" }), bufferMemory(new ArrayBuffer(8), 0x100));
 * const id: ScalarAccessor<number> = emp.fields.id;
 * id.set(0x104, 1001);
 * assert.equal(id.get(0x104), 1001);
 * ```
 */
export interface ScalarAccessor<V, In = V> extends FieldAccessor {
  /** The field of the struct at `address`. */
  get(address: number): V;
  /** Writes the field of the struct at `address`; throws `BAD_VALUE` (nothing written). */
  set(address: number, value: In): void;
}

/**
 * A `u64`/`i64` field: `get` gives a bigint, `set` takes a bigint or a
 * safe-integer number, and `getNumber` reads without allocating.
 *
 * @example A counter read as a number
 * ```ts
 * import { bindLayout, bufferMemory, type Int64Accessor, Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const s = bindLayout(new Layout("s_t", { n: "i64" }), bufferMemory(new ArrayBuffer(8)));
 * const n: Int64Accessor = s.fields.n;
 * n.set(0, -5);
 * assert.equal(n.get(0), -5n);
 * assert.equal(n.getNumber(0), -5);
 * ```
 */
export interface Int64Accessor extends ScalarAccessor<bigint, bigint | number> {
  /** The field as a number; throws `BAD_VALUE` when it is not a safe integer. */
  getNumber(address: number): number;
}

/**
 * A `T[N]` field: the whole array (`get(a)`, `set(a, values)` with exactly N
 * values) or one element (`get(a, i)`, `set(a, i, v)`). An index outside
 * [0, N) throws `BAD_VALUE`.
 *
 * @example Elements and the whole array
 * ```ts
 * import { type ArrayAccessor, bindLayout, bufferMemory, Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const vec = bindLayout(new Layout("vec_t", { v: "u16[4]" }), bufferMemory(new ArrayBuffer(8)));
 * const v: ArrayAccessor<number> = vec.fields.v;
 * v.set(0, [1, 2, 3, 4]);
 * v.set(0, 3, 40);
 * assert.equal(v.get(0, 1), 2);
 * assert.deepEqual(v.get(0), [1, 2, 3, 40]);
 * ```
 */
export interface ArrayAccessor<V, In = V> extends FieldAccessor {
  /** N. */
  readonly length: number;
  /** All N elements. */
  get(address: number): V[];
  /** Element `index`. */
  get(address: number, index: number): V;
  /** Writes all N elements (exactly N values). */
  set(address: number, values: ArrayLike<In>): void;
  /** Writes element `index`. */
  set(address: number, index: number, value: In): void;
}

/**
 * A nested struct field: its own field accessors (offsets from the outer
 * struct), its address, and `get`/`set` of the whole as a plain object
 * (`set` writes the fields it is given, like `write`).
 *
 * @example A point inside a shape
 * ```ts
 * import { bindLayout, bufferMemory, Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const point = new Layout("point_t", { x: "i32", y: "i32" });
 * const shape = bindLayout(new Layout("shape_t", { id: "u32", at: point }), bufferMemory(new ArrayBuffer(12)));
 * shape.fields.at.set(0, { x: 1, y: 2 });
 * shape.fields.at.fields.y.set(0, 20);
 * assert.deepEqual(shape.fields.at.get(0), { x: 1, y: 20 });
 * assert.equal(shape.fields.at.address(0x1000), 0x1004);
 * ```
 */
export interface StructAccessor<S extends LayoutSpec = LayoutSpec> extends FieldAccessor {
  /** The nested struct's layout. */
  readonly layout: Layout<S>;
  /** Its fields, offsets counted from the outer struct. */
  readonly fields: Fields<S>;
  /** Address of the nested struct inside the struct at `address`. */
  address(address: number): number;
  /** The nested struct as a plain object. */
  get(address: number): LayoutValue<S>;
  /** Writes the given fields of the nested struct; checks all first. */
  set(address: number, values: LayoutInput<S>): void;
}

/**
 * The accessor type of a field of type T.
 *
 * @example Accessor types follow the spec
 * ```ts
 * import type { AccessorOf, Int64Accessor } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const isInt64 = (a: AccessorOf<"u64">): Int64Accessor => a;
 * assert.equal(typeof isInt64, "function");
 * ```
 */
export type AccessorOf<T> = T extends Layout | LayoutCarrier ? StructAccessor<SpecOf<T>>
  : T extends CharType ? ScalarAccessor<string>
  : T extends `${infer E}[${number}]` ? ArrayAccessor<ScalarValue<E>, ScalarInput<E>>
  : T extends Int64Type ? Int64Accessor
  : ScalarAccessor<ScalarValue<T>>;

/**
 * An accessor of a layout whose spec the type checker does not know (a
 * plain `Layout`): `get` gives `unknown`, `set` takes any value and checks
 * it at run time, as every accessor does.
 *
 * @example Fields of an untyped layout
 * ```ts
 * import { bindLayout, bufferMemory, Layout, type UntypedAccessor } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const layout: Layout = new Layout("t_t", { n: "u32", v: "u8[2]" });
 * const t = bindLayout(layout, bufferMemory(new ArrayBuffer(8)));
 * const v: UntypedAccessor = t.fields.v;
 * v.set(0, 1, 200);
 * t.fields.n.set(0, 5);
 * assert.deepEqual([t.fields.n.get(0), v.get(0)], [5, [0, 200]]);
 * ```
 */
export interface UntypedAccessor extends FieldAccessor {
  /** The field of the struct at `address` (element `index` of an array). */
  get(address: number, index?: number): unknown;
  /** Writes the field of the struct at `address`. */
  set(address: number, value: unknown): void;
  /** Writes element `index` of an array field. */
  set(address: number, index: number, value: unknown): void;
}

/**
 * Field accessors by name: typed after the spec when it is known, else
 * {@linkcode UntypedAccessor}s.
 *
 * @example Fields of a bound layout
 * ```ts
 * import { bindLayout, bufferMemory, type Fields, Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const emp = new Layout("emp_t", { id: "u32", name: "char[8]" });
 * const fields: Fields<typeof emp.spec> = bindLayout(emp, bufferMemory(new ArrayBuffer(12))).fields;
 * assert.deepEqual(Object.keys(fields), ["id", "name"]);
 * ```
 */
export type Fields<S> = string extends keyof S ? { readonly [name: string]: UntypedAccessor }
  : { readonly [K in keyof S]: AccessorOf<S[K]> };

// --- the slow path -------------------------------------------------------------------------

/** Any accessor, as the code that binds them sees it. */
interface AnyAccessor extends FieldAccessor {
  get(address: number): unknown;
  set(address: number, value: unknown): void;
}

/** What the slow path and the messages know of a field. */
interface Site {
  readonly memory: Memory;
  /** The bound struct's name. */
  readonly owner: string;
  /** The field's path from the bound struct (`"pos.x"`; `"v[]"` for an element). */
  readonly name: string;
  /** The type as written. */
  readonly type: string;
  /** Bytes from the address an accessor is given to the field. */
  readonly offset: number;
  /** Bytes. */
  readonly size: number;
}

/** A scalar field, or the elements of an array. */
interface ScalarSite extends Site {
  readonly scalar: ScalarType;
}

/** What {@linkcode slowScalar} is asked to do. */
const GET = 0;
const SET = 1;
const GET_NUMBER = 2;

const TWO_32 = 4294967296;
const U64_MAX = 2n ** 64n - 1n;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/**
 * Stores a safe integer as 64-bit two's complement without a bigint. Two 32-bit stores, so
 * the far word is read first: if any of the 8 bytes is out of the view, that read or the first
 * store throws and nothing was written.
 */
function storeInt64(view: DataView, o: number, v: number): void {
  const low = v >>> 0; // ToUint32 is v mod 2^32: the low word, negative values included
  view.getUint32(o + 4, true);
  view.setUint32(o, low, true);
  view.setInt32(o + 4, (v - low) / TWO_32, true);
}

/** The 8 bytes at `o` as a number, without a bigint: exact while it is a safe integer. */
function loadInt64(view: DataView, o: number, signed: boolean): number {
  const high = signed ? view.getInt32(o + 4, true) : view.getUint32(o + 4, true);
  return high * TWO_32 + view.getUint32(o, true);
}

/** Whether a scalar field of type `t` can hold `v`. */
function validScalar(t: ScalarType, v: unknown): boolean {
  switch (t) {
    case "u8":
      return typeof v === "number" && (v & 0xff) === v;
    case "i8":
      return typeof v === "number" && ((v << 24) >> 24) === v;
    case "u16":
      return typeof v === "number" && (v & 0xffff) === v;
    case "i16":
      return typeof v === "number" && ((v << 16) >> 16) === v;
    case "u32":
      return typeof v === "number" && v >>> 0 === v;
    case "i32":
      return typeof v === "number" && (v | 0) === v;
    case "f32":
      // Rounding is fine; a finite value beyond FLT_MAX is not (C leaves it undefined).
      return typeof v === "number" && (Number.isFinite(Math.fround(v)) || !Number.isFinite(v));
    case "f64":
      return typeof v === "number";
    case "bool":
      return typeof v === "boolean";
    case "pointer":
      return Number.isSafeInteger(v) && (v as number) >= 0;
    case "u64":
      return typeof v === "bigint"
        ? v >= 0n && v <= U64_MAX
        : Number.isSafeInteger(v) && (v as number) >= 0;
    case "i64":
      return typeof v === "bigint" ? v >= I64_MIN && v <= I64_MAX : Number.isSafeInteger(v);
  }
}

function badValue(s: Site, value: unknown, rule: string): LmmError {
  return new LmmError(
    "BAD_VALUE",
    `Field ${s.name} (${s.type}) of ${s.owner} cannot hold ${describe(value)}: expected ${rule}`,
  );
}

/** The BAD_VALUE error of a scalar field for `value` (error path). */
function refused(s: ScalarSite, value: unknown): LmmError {
  return badValue(s, value, scalarRule(s.scalar));
}

/**
 * Where the slow path reads and writes `size` bytes at `at`: a NaN address at offset 0 of the
 * fast window, as the DataView of the fast path takes it (see the module notes); any other
 * address where `locate` finds it (it throws when no window holds it, CLOSED for a closed
 * heap).
 */
function windowOf(m: Memory, at: number, size: number): MemoryWindow {
  if (Number.isNaN(at) && m.view.byteLength >= size) {
    return { view: m.view, bytes: m.bytes, offset: 0 };
  }
  return m.locate(at, size);
}

/**
 * The slow path of every scalar accessor, where its `catch` sends it when the fast window's
 * DataView threw: refuses a value the field cannot hold (BAD_VALUE, nothing written), finds
 * the window, then reads (`GET`, `GET_NUMBER`) or writes (`SET`). One function serves every
 * type on purpose: it is larger than V8 inlines (460 bytes of bytecode), so that accessors whose
 * slow path has run stay small enough to be inlined into their callers.
 */
function slowScalar(
  s: ScalarSite,
  address: number,
  op: number,
  value?: unknown,
): number | bigint | boolean | undefined {
  const t = s.scalar;
  if (typeof address !== "number") throw notAnAddress(address);
  if (op === SET && !validScalar(t, value)) throw refused(s, value);
  const w = windowOf(s.memory, address + s.offset, s.size);
  const view = w.view;
  const o = w.offset;
  if (op === SET) {
    const v = value as number;
    switch (t) {
      case "u8":
        view.setUint8(o, v);
        break;
      case "i8":
        view.setInt8(o, v);
        break;
      case "u16":
        view.setUint16(o, v, true);
        break;
      case "i16":
        view.setInt16(o, v, true);
        break;
      case "u32":
        view.setUint32(o, v, true);
        break;
      case "i32":
        view.setInt32(o, v, true);
        break;
      case "f32":
        view.setFloat32(o, v, true);
        break;
      case "f64":
        view.setFloat64(o, v, true);
        break;
      case "bool":
        view.setUint8(o, value ? 1 : 0);
        break;
      default: // u64, i64, pointer
        // setBigUint64 stores v mod 2^64: the two's complement of a negative i64 too.
        if (typeof value === "bigint") view.setBigUint64(o, value, true);
        else storeInt64(view, o, v);
    }
    return undefined;
  }
  if (op === GET) return loadScalar(view, o, t); // never for a pointer: it reads GET_NUMBER
  const n = loadInt64(view, o, t === "i64");
  if (Number.isSafeInteger(n)) return n;
  if (t === "pointer") {
    throw new LmmError(
      "BAD_VALUE",
      `Field ${s.name} (pointer) of ${s.owner} holds 0x${view.getBigUint64(o, true).toString(16)}` +
        ", beyond 2^53: not an address a number can hold",
    );
  }
  throw new LmmError(
    "BAD_VALUE",
    `Field ${s.name} (${s.type}) of ${s.owner} holds ` +
      `${t === "i64" ? view.getBigInt64(o, true) : view.getBigUint64(o, true)}, not a safe ` +
      "integer: read it with get() as a bigint",
  );
}

// --- scalar accessors: the fast path -------------------------------------------------------

/**
 * The accessor object of a scalar field. Every scalar accessor but the 64-bit ones comes from
 * this one literal, so they share one hidden class; `get` and `set` are the type's closures.
 */
function scalarAccessor<V, In>(
  s: ScalarSite,
  get: (address: number) => V,
  set: (address: number, value: In) => void,
): ScalarAccessor<V, In> {
  return Object.freeze({
    name: s.name,
    type: s.type,
    offset: s.offset,
    size: s.size,
    check(value: unknown): void {
      if (!validScalar(s.scalar, value)) throw refused(s, value);
    },
    get,
    set,
  });
}

/**
 * The fast paths, one factory per type (see the module notes). Each `get` is one DataView call
 * at `address - base + offset` inside `try`, and each `set` tests its value, then makes one
 * DataView call inside `try`; the `catch` hands everything the window does not hold to
 * `slowScalar`. The closures read `view` and `base` from the memory on every call (its owner
 * swaps them) and keep the rest in `const`s, which V8 folds into the caller it inlines them in.
 *
 * The factories repeat the same few lines with their own DataView method on purpose: a
 * closure's code, and V8's feedback for it, belong to the function literal it was made from.
 * One literal per type keeps each DataView call site to one method, which V8 inlines; a
 * literal shared by types would give that call site several. A setter's refusals end at the
 * same `slowScalar` call as its misses: a call that never ran leaves compiled code by
 * deoptimizing, while V8 compiles a `throw` into callers that see several accessors.
 */
const SCALAR_FACTORIES: { readonly [T in ScalarType]: (s: ScalarSite) => AnyAccessor } = {
  u8(s: ScalarSite): AnyAccessor {
    const m = s.memory, off = s.offset;
    return scalarAccessor(
      s,
      (a: number): number => {
        try {
          return m.view.getUint8(a - m.base + off);
        } catch {
          return slowScalar(s, a, GET) as number;
        }
      },
      (a: number, v: number): void => {
        if (typeof v === "number" && (v & 0xff) === v) {
          try {
            m.view.setUint8(a - m.base + off, v);
            return;
          } catch {
            // Not in this window: the slow path below finds it.
          }
        }
        slowScalar(s, a, SET, v); // throws BAD_VALUE for a refused value
      },
    );
  },
  i8(s: ScalarSite): AnyAccessor {
    const m = s.memory, off = s.offset;
    return scalarAccessor(
      s,
      (a: number): number => {
        try {
          return m.view.getInt8(a - m.base + off);
        } catch {
          return slowScalar(s, a, GET) as number;
        }
      },
      (a: number, v: number): void => {
        if (typeof v === "number" && ((v << 24) >> 24) === v) {
          try {
            m.view.setInt8(a - m.base + off, v);
            return;
          } catch {
            // Not in this window: the slow path below finds it.
          }
        }
        slowScalar(s, a, SET, v); // throws BAD_VALUE for a refused value
      },
    );
  },
  u16(s: ScalarSite): AnyAccessor {
    const m = s.memory, off = s.offset;
    return scalarAccessor(
      s,
      (a: number): number => {
        try {
          return m.view.getUint16(a - m.base + off, true);
        } catch {
          return slowScalar(s, a, GET) as number;
        }
      },
      (a: number, v: number): void => {
        if (typeof v === "number" && (v & 0xffff) === v) {
          try {
            m.view.setUint16(a - m.base + off, v, true);
            return;
          } catch {
            // Not in this window: the slow path below finds it.
          }
        }
        slowScalar(s, a, SET, v); // throws BAD_VALUE for a refused value
      },
    );
  },
  i16(s: ScalarSite): AnyAccessor {
    const m = s.memory, off = s.offset;
    return scalarAccessor(
      s,
      (a: number): number => {
        try {
          return m.view.getInt16(a - m.base + off, true);
        } catch {
          return slowScalar(s, a, GET) as number;
        }
      },
      (a: number, v: number): void => {
        if (typeof v === "number" && ((v << 16) >> 16) === v) {
          try {
            m.view.setInt16(a - m.base + off, v, true);
            return;
          } catch {
            // Not in this window: the slow path below finds it.
          }
        }
        slowScalar(s, a, SET, v); // throws BAD_VALUE for a refused value
      },
    );
  },
  u32(s: ScalarSite): AnyAccessor {
    const m = s.memory, off = s.offset;
    return scalarAccessor(
      s,
      (a: number): number => {
        try {
          return m.view.getUint32(a - m.base + off, true);
        } catch {
          return slowScalar(s, a, GET) as number;
        }
      },
      (a: number, v: number): void => {
        if (typeof v === "number" && v >>> 0 === v) {
          try {
            m.view.setUint32(a - m.base + off, v, true);
            return;
          } catch {
            // Not in this window: the slow path below finds it.
          }
        }
        slowScalar(s, a, SET, v); // throws BAD_VALUE for a refused value
      },
    );
  },
  i32(s: ScalarSite): AnyAccessor {
    const m = s.memory, off = s.offset;
    return scalarAccessor(
      s,
      (a: number): number => {
        try {
          return m.view.getInt32(a - m.base + off, true);
        } catch {
          return slowScalar(s, a, GET) as number;
        }
      },
      (a: number, v: number): void => {
        if (typeof v === "number" && (v | 0) === v) {
          try {
            m.view.setInt32(a - m.base + off, v, true);
            return;
          } catch {
            // Not in this window: the slow path below finds it.
          }
        }
        slowScalar(s, a, SET, v); // throws BAD_VALUE for a refused value
      },
    );
  },
  f32(s: ScalarSite): AnyAccessor {
    const m = s.memory, off = s.offset;
    return scalarAccessor(
      s,
      (a: number): number => {
        try {
          return m.view.getFloat32(a - m.base + off, true);
        } catch {
          return slowScalar(s, a, GET) as number;
        }
      },
      (a: number, v: number): void => {
        if (typeof v === "number" && (Number.isFinite(Math.fround(v)) || !Number.isFinite(v))) {
          try {
            m.view.setFloat32(a - m.base + off, v, true);
            return;
          } catch {
            // Not in this window: the slow path below finds it.
          }
        }
        slowScalar(s, a, SET, v); // throws BAD_VALUE for a refused value
      },
    );
  },
  f64(s: ScalarSite): AnyAccessor {
    const m = s.memory, off = s.offset;
    return scalarAccessor(
      s,
      (a: number): number => {
        try {
          return m.view.getFloat64(a - m.base + off, true);
        } catch {
          return slowScalar(s, a, GET) as number;
        }
      },
      (a: number, v: number): void => {
        if (typeof v === "number") {
          try {
            m.view.setFloat64(a - m.base + off, v, true);
            return;
          } catch {
            // Not in this window: the slow path below finds it.
          }
        }
        slowScalar(s, a, SET, v); // throws BAD_VALUE for a refused value
      },
    );
  },
  bool(s: ScalarSite): AnyAccessor {
    const m = s.memory, off = s.offset;
    return scalarAccessor(
      s,
      (a: number): boolean => {
        try {
          return m.view.getUint8(a - m.base + off) !== 0;
        } catch {
          return slowScalar(s, a, GET) as boolean;
        }
      },
      (a: number, v: boolean): void => {
        if (typeof v === "boolean") {
          try {
            m.view.setUint8(a - m.base + off, v ? 1 : 0);
            return;
          } catch {
            // Not in this window: the slow path below finds it.
          }
        }
        slowScalar(s, a, SET, v); // throws BAD_VALUE for a refused value
      },
    );
  },
  pointer(s: ScalarSite): AnyAccessor {
    const m = s.memory, off = s.offset;
    return scalarAccessor(
      s,
      (a: number): number => {
        let v: number;
        try {
          v = loadInt64(m.view, a - m.base + off, false);
        } catch {
          return slowScalar(s, a, GET_NUMBER) as number;
        }
        return v <= Number.MAX_SAFE_INTEGER ? v : slowScalar(s, a, GET_NUMBER) as number;
      },
      (a: number, v: number): void => {
        if (Number.isSafeInteger(v) && v >= 0) {
          try {
            storeInt64(m.view, a - m.base + off, v);
            return;
          } catch {
            // Not in this window: the slow path below finds it.
          }
        }
        slowScalar(s, a, SET, v); // throws BAD_VALUE for a refused value
      },
    );
  },
  u64: (s: ScalarSite): AnyAccessor => int64Accessor(s, false),
  i64: (s: ScalarSite): AnyAccessor => int64Accessor(s, true),
};

/** `u64` and `i64`: bigint values, safe numbers accepted, `getNumber` without a bigint. */
function int64Accessor(s: ScalarSite, signed: boolean): Int64Accessor {
  const m = s.memory, off = s.offset;
  return Object.freeze({
    name: s.name,
    type: s.type,
    offset: s.offset,
    size: s.size,
    check(value: unknown): void {
      if (!validScalar(s.scalar, value)) throw refused(s, value);
    },
    get: signed
      ? (a: number): bigint => {
        try {
          return m.view.getBigInt64(a - m.base + off, true);
        } catch {
          return slowScalar(s, a, GET) as bigint;
        }
      }
      : (a: number): bigint => {
        try {
          return m.view.getBigUint64(a - m.base + off, true);
        } catch {
          return slowScalar(s, a, GET) as bigint;
        }
      },
    getNumber(a: number): number {
      let v: number;
      try {
        v = loadInt64(m.view, a - m.base + off, signed);
      } catch {
        return slowScalar(s, a, GET_NUMBER) as number;
      }
      // Not a safe integer: the slow path reads it again and says so.
      return Number.isSafeInteger(v) ? v : slowScalar(s, a, GET_NUMBER) as number;
    },
    set(a: number, v: bigint | number): void {
      if (validScalar(s.scalar, v)) {
        try {
          // setBigUint64 stores v mod 2^64: the two's complement of a negative i64 too.
          if (typeof v === "bigint") m.view.setBigUint64(a - m.base + off, v, true);
          else storeInt64(m.view, a - m.base + off, v);
          return;
        } catch {
          // Not in this window: the slow path below finds it.
        }
      }
      slowScalar(s, a, SET, v); // throws BAD_VALUE for a refused value
    },
  });
}

// --- char[N], arrays, nested structs -------------------------------------------------------

/** A checked write: the accessor, and the value to give its `set`. */
type Planned = [AnyAccessor, unknown];

/** A bound field as `write` sees it: its accessor, and how a value for it is checked. */
interface Entry {
  readonly accessor: AnyAccessor;
  /**
   * Checks `value` and appends what `set` must write to `out`; writes nothing. What is
   * appended is immutable (or a private copy), so that the writes cannot fail after the
   * checks, whatever getters the value has.
   */
  plan(value: unknown, out: Planned[]): void;
}

/** Writes what `plan` checked. */
function perform(planned: Planned[], address: number): void {
  for (const [field, value] of planned) field.set(address, value);
}

/** An entry whose value is checked by the accessor's `check` and written as given. */
function checkedEntry(accessor: AnyAccessor): Entry {
  return {
    accessor,
    plan(value: unknown, out: Planned[]): void {
      accessor.check(value);
      out.push([accessor, value]);
    },
  };
}

/** A Symbol, a BigInt or anything else where an address goes: BAD_ADDRESS, not a TypeError. */
function notAnAddress(address: unknown): LmmError {
  return new LmmError("BAD_ADDRESS", `Address ${describe(address)} is not a number`, {
    status: Status.BAD_ADDRESS,
  });
}

/** Throws (through `locate`) unless `[address, address + size)` is in memory. */
function ensureInMemory(m: Memory, address: number, size: number): void {
  if (typeof address !== "number") throw notAnAddress(address);
  const o = address - m.base;
  if (!(o >= 0 && address + size <= m.end)) m.locate(address, size);
}

/** Throws BAD_VALUE unless `v` fits `char[N]`; returns whether it is ASCII (a byte per unit). */
function encodable(s: Site, v: unknown): boolean {
  if (typeof v !== "string") throw badValue(s, v, "a string");
  let ascii = true;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0) throw badValue(s, v, "a string without NUL characters");
    if (c >= 0x80) ascii = false;
  }
  if (ascii && v.length <= s.size) return true;
  if (!v.isWellFormed()) throw badValue(s, v, "well-formed text (no lone surrogate)");
  const bytes = ascii ? v.length : utf8Encoder.encode(v).length;
  if (bytes > s.size) throw badValue(s, v, `at most ${s.size} bytes of UTF-8 (it has ${bytes})`);
  return ascii;
}

/** Writes `v` (checked by `encodable`) NUL-padded into `size` bytes at `o`. */
function storeChars(bytes: Uint8Array, o: number, size: number, v: string, ascii: boolean): void {
  let n = v.length;
  if (ascii) {
    for (let i = 0; i < n; i++) bytes[o + i] = v.charCodeAt(i);
  } else {
    const encoded = utf8Encoder.encode(v);
    n = encoded.length;
    bytes.set(encoded, o);
  }
  bytes.fill(0, o + n, o + size);
}

/** `char[N]`: NUL-padded UTF-8, through the memory's bytes. */
function charAccessor(s: Site): ScalarAccessor<string> {
  // Byte arrays do not throw out of range: these test the window first.
  const m = s.memory, off = s.offset, size = s.size, reach = off + size;
  return Object.freeze({
    name: s.name,
    type: s.type,
    offset: s.offset,
    size: s.size,
    check(value: unknown): void {
      encodable(s, value);
    },
    get(a: number): string {
      if (typeof a !== "number") throw notAnAddress(a);
      const o = a - m.base + off;
      if (o >= 0 && a + reach <= m.end) return decodeChars(m.bytes.subarray(o, o + size));
      const w = m.locate(a + off, size);
      return decodeChars(w.bytes.subarray(w.offset, w.offset + size));
    },
    set(a: number, v: string): void {
      const ascii = encodable(s, v);
      if (typeof a !== "number") throw notAnAddress(a);
      const o = a - m.base + off;
      if (o >= 0 && a + reach <= m.end) storeChars(m.bytes, o, size, v, ascii);
      else {
        const w = m.locate(a + off, size);
        storeChars(w.bytes, w.offset, size, v, ascii);
      }
    },
  });
}

/** `T[N]`: elements through one scalar accessor at the array's offset. */
function arrayEntry(s: Site, member: Member): Entry {
  const scalar = member.scalar as ScalarType;
  const length = member.length;
  const stride = SCALARS[scalar].size;
  const elementSite: ScalarSite = { ...s, name: `${s.name}[]`, type: scalar, scalar, size: stride };
  // The element accessor is given the struct's address plus the element's index × stride.
  const element = SCALAR_FACTORIES[scalar](elementSite);
  const index = (i: number): number => {
    if (typeof i !== "number" || i >>> 0 !== i || i >= length) {
      throw new LmmError(
        "BAD_VALUE",
        `Index ${describe(i)} is out of range for field ${s.name} (${s.type}) of ${s.owner}: ` +
          `expected an integer in [0, ${length - 1}]`,
      );
    }
    return i;
  };
  const check = (values: unknown): void => {
    if (
      typeof values !== "object" || values === null ||
      (values as ArrayLike<unknown>).length !== length
    ) {
      throw badValue(s, values, `an array of ${length} values`);
    }
    const list = values as ArrayLike<unknown>;
    for (let k = 0; k < length; k++) {
      if (!validScalar(scalar, list[k])) {
        throw badValue(
          s,
          list[k],
          `${scalarRule(scalar)} (element ${k} of ${describe(values)})`,
        );
      }
    }
  };
  const accessor = Object.freeze({
    name: s.name,
    type: s.type,
    offset: s.offset,
    size: s.size,
    length,
    check,
    get(a: number, i?: number): unknown {
      if (typeof a !== "number") throw notAnAddress(a);
      if (i !== undefined) return element.get(a + index(i) * stride);
      ensureInMemory(s.memory, a + s.offset, s.size);
      const out = new Array(length);
      for (let k = 0; k < length; k++) out[k] = element.get(a + k * stride);
      return out;
    },
    set(a: number, i: number | ArrayLike<unknown>, v?: unknown): void {
      if (typeof a !== "number") throw notAnAddress(a);
      if (typeof i === "number") {
        element.set(a + index(i) * stride, v);
        return;
      }
      const values = copyOf(i);
      check(values);
      ensureInMemory(s.memory, a + s.offset, s.size);
      for (let k = 0; k < length; k++) element.set(a + k * stride, (values as unknown[])[k]);
    },
  });
  return {
    accessor,
    plan(value: unknown, out: Planned[]): void {
      const values = copyOf(value);
      check(values);
      out.push([accessor, values]);
    },
  };
}

/** A private copy of an array-like (each element read once), or the value itself. */
function copyOf(values: unknown): unknown {
  return typeof values === "object" && values !== null
    ? Array.from(values as ArrayLike<unknown>)
    : values;
}

/** A nested struct field: its own entries, offsets from the outer struct. */
function structEntry(s: Site, layout: Layout): Entry {
  const entries = bindFields(layout, s.memory, s.owner, `${s.name}.`, s.offset);
  const plan = (values: unknown, out: Planned[]): void =>
    planFields(entries, s.owner, s.name, values, out);
  const accessor = Object.freeze({
    name: s.name,
    type: s.type,
    offset: s.offset,
    size: s.size,
    layout,
    fields: fieldsOf(entries),
    address(a: number): number {
      if (typeof a !== "number") throw notAnAddress(a);
      return a + s.offset;
    },
    check(values: unknown): void {
      plan(values, []);
    },
    get(a: number): LayoutValue<LayoutSpec> {
      if (typeof a !== "number") throw notAnAddress(a);
      ensureInMemory(s.memory, a + s.offset, s.size);
      return readFields(entries, a) as LayoutValue<LayoutSpec>;
    },
    set(a: number, values: unknown): void {
      const planned: Planned[] = [];
      plan(values, planned);
      if (typeof a !== "number") throw notAnAddress(a);
      ensureInMemory(s.memory, a + s.offset, s.size);
      perform(planned, a);
    },
  });
  return { accessor, plan };
}

/** What {@linkcode bindFields} gives: an entry per field, by name, in layout order. */
type Entries = Readonly<Record<string, Entry>>;

/** The entries of `layout`'s fields, `offset` bytes into the bound struct. */
function bindFields(
  layout: Layout,
  memory: Memory,
  owner: string,
  prefix: string,
  offset: number,
): Entries {
  const entries: Record<string, Entry> = {};
  for (const m of layout.members) {
    const site: Site = {
      memory,
      owner,
      name: prefix + m.name,
      type: m.type,
      offset: offset + m.offset,
      size: m.size,
    };
    if (m.layout !== null) entries[m.name] = structEntry(site, m.layout);
    else if (m.kind === "char") entries[m.name] = checkedEntry(charAccessor(site));
    else if (m.kind === "array") entries[m.name] = arrayEntry(site, m);
    else {
      const scalar = m.scalar!;
      entries[m.name] = checkedEntry(SCALAR_FACTORIES[scalar]({ ...site, scalar }));
    }
  }
  return Object.freeze(entries);
}

/** The public accessors of `entries`: a frozen object, fields in layout order. */
function fieldsOf(entries: Entries): Fields<LayoutSpec> {
  const fields: Record<string, unknown> = {};
  for (const name of Object.keys(entries)) fields[name] = entries[name].accessor;
  return Object.freeze(fields) as Fields<LayoutSpec>;
}

function readFields(entries: Entries, a: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(entries)) out[name] = entries[name].accessor.get(a);
  return out;
}

/** Plans the writes of `values` into `entries` (BAD_VALUE/BAD_FIELD on the first refusal). */
function planFields(
  entries: Entries,
  struct: string,
  path: string,
  values: unknown,
  out: Planned[],
): void {
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    const what = path === "" ? struct : `field ${path} of ${struct}`;
    throw new LmmError(
      "BAD_VALUE",
      `Values for ${what} are ${describe(values)}: expected an object of field values`,
    );
  }
  for (const name of Object.keys(values)) {
    if (!Object.hasOwn(entries, name)) {
      throw noField(struct, path === "" ? name : `${path}.${name}`);
    }
    entries[name].plan((values as Record<string, unknown>)[name], out);
  }
}

/**
 * A layout joined to a memory: field accessors and whole-struct reads and
 * writes at addresses of that memory.
 *
 * @example Read and write whole structs
 * ```ts
 * import { bindLayout, type BoundLayout, bufferMemory, Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const emp = new Layout("emp_t", { id: "u32", salary: "f64" });
 * const e: BoundLayout<typeof emp.spec> = bindLayout(emp, bufferMemory(new ArrayBuffer(32)));
 * e.write(e.at(0, 1), { id: 7, salary: 1.5 });
 * assert.deepEqual(e.read(16), { id: 7, salary: 1.5 });
 * ```
 */
export interface BoundLayout<S extends LayoutSpec = LayoutSpec> {
  /** The layout. */
  readonly layout: Layout<S>;
  /** The memory the accessors read and write. */
  readonly memory: Memory;
  /** One accessor per field. */
  readonly fields: Fields<S>;
  /** The struct at `address` as a plain object. */
  read(address: number): LayoutValue<S>;
  /**
   * Writes the given fields of the struct at `address`. Every value is
   * checked, and the struct located, before the first byte is written:
   * `BAD_FIELD`, `BAD_VALUE` or the memory's error leave memory untouched.
   */
  write(address: number, values: LayoutInput<S>): void;
  /** `&array[index]` for a C array of this struct at `address` ({@linkcode Layout.prototype.at}). */
  at(address: number, index: number): number;
}

class Bound implements BoundLayout {
  readonly layout: Layout;
  readonly memory: Memory;
  readonly fields: Fields<LayoutSpec>;
  readonly #entries: Entries;

  constructor(layout: Layout, memory: Memory) {
    this.layout = layout;
    this.memory = memory;
    this.#entries = bindFields(layout, memory, layout.name, "", 0);
    this.fields = fieldsOf(this.#entries);
  }

  read(a: number): LayoutValue<LayoutSpec> {
    ensureInMemory(this.memory, a, this.layout.size);
    return readFields(this.#entries, a) as LayoutValue<LayoutSpec>;
  }

  write(a: number, values: LayoutInput<LayoutSpec>): void {
    const planned: Planned[] = [];
    planFields(this.#entries, this.layout.name, "", values, planned);
    ensureInMemory(this.memory, a, this.layout.size);
    perform(planned, a);
  }

  at(a: number, index: number): number {
    return this.layout.at(a, index);
  }
}

/**
 * Joins a layout to a memory. The accessors keep `memory` itself and read
 * its `view`, `base` and `end` on every call, so the memory's owner may swap
 * them (grow, close) and every accessor follows.
 *
 * @example The employee over an ArrayBuffer
 * ```ts
 * import { bindLayout, bufferMemory, Layout } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const layout = new Layout("emp_t", { id: "u32", salary: "f64", name: "char[32]", boss: "pointer" });
 * const emp = bindLayout(layout, bufferMemory(new ArrayBuffer(4096), 0x10000));
 * const e = 0x10000;
 * emp.fields.id.set(e, 1001);
 * emp.fields.name.set(e, "Abhishek");
 * emp.write(e, { salary: 5000.5 });
 * assert.deepEqual(emp.read(e), { id: 1001, salary: 5000.5, name: "Abhishek", boss: 0 });
 * assert.equal(emp.fields.id.get(emp.at(e, 1)), 0);
 * ```
 *
 * @param layout The struct.
 * @param memory Where its instances live.
 * @returns The accessors.
 */
export function bindLayout<const S extends LayoutSpec>(
  layout: Layout<S>,
  memory: Memory,
): BoundLayout<S> {
  return new Bound(layout as unknown as Layout, memory) as unknown as BoundLayout<S>;
}
