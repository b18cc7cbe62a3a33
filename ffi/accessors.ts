/**
 * Field accessors: a {@linkcode Layout} joined to a {@linkcode Memory}, a
 * window of native memory seen through one `DataView`.
 *
 * ## Basic Design
 * {@linkcode bindLayout} gives one accessor per field. Each accessor is an
 * instance of a small class per C type, so that a call site sees one
 * receiver map and one method: TurboFan inlines `get`/`set` into the caller.
 * The hot path of a numeric field is an offset computation and one
 * `DataView` load or store inside `try`: the DataView's own bounds check is
 * the only test (an explicit window test measured ≈ 2 ns more per access in
 * V8). An address outside the window makes the DataView throw a RangeError,
 * and the `catch` sends it to the memory's `locate`, which finds another
 * window or throws. It allocates nothing (64-bit fields return a bigint,
 * which V8 allocates — `getNumber` reads them without). Accessors read
 * `view` and `base` from the memory on every call, so its owner may swap
 * them (grow, close). A number that is not an address at all (NaN) reaches
 * view offset 0 — the owner keeps that byte range harmless (LMM's first
 * arena never places a page in its first unit). `char[N]` fields check the
 * window `[base, end)` explicitly: byte arrays do not throw.
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
 * address to `locate`.
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

/** What accessors share; the hot methods live in the per-type subclasses only. */
abstract class Field {
  readonly name: string;
  readonly type: string;
  readonly offset: number;
  readonly size: number;
  /** `offset + size`: the field fits when `address + reach <= memory.end`. */
  protected readonly reach: number;
  protected readonly memory: Memory;
  /** The bound struct's name, for messages. */
  protected readonly owner: string;

  constructor(
    memory: Memory,
    owner: string,
    name: string,
    type: string,
    offset: number,
    size: number,
  ) {
    this.memory = memory;
    this.owner = owner;
    this.name = name;
    this.type = type;
    this.offset = offset;
    this.size = size;
    this.reach = offset + size;
  }

  /** Slow path: the window holding this field of the struct at `address`. */
  protected window(address: number): MemoryWindow {
    if (typeof address !== "number") throw notAnAddress(address);
    return this.memory.locate(address + this.offset, this.size);
  }

  protected badValue(value: unknown, rule: string): LmmError {
    return new LmmError(
      "BAD_VALUE",
      `Field ${this.name} (${this.type}) of ${this.owner} cannot hold ${describe(value)}: ` +
        `expected ${rule}`,
    );
  }

  abstract get(address: number): unknown;
  abstract set(address: number, value: unknown): void;
  abstract check(value: unknown): void;

  /**
   * Checks `value` and appends what `set` must write to `out`; writes
   * nothing. What is appended is immutable (or a private copy), so that the
   * writes cannot fail after the checks, whatever getters the value has.
   */
  plan(value: unknown, out: Planned[]): void {
    this.check(value);
    out.push([this, value]);
  }
}

/** A checked write: the accessor and the value to give its `set`. */
type Planned = [Field, unknown];

/** Writes what `plan` checked. */
function perform(planned: Planned[], address: number): void {
  for (const [field, value] of planned) field.set(address, value);
}

/** A scalar field; subclasses implement `get`/`set` with one DataView call each. */
abstract class Scalar extends Field {
  readonly scalar: ScalarType;

  constructor(memory: Memory, owner: string, name: string, scalar: ScalarType, offset: number) {
    super(memory, owner, name, scalar, offset, SCALARS[scalar].size);
    this.scalar = scalar;
  }

  /** Whether `set` accepts `value`. */
  abstract valid(value: unknown): boolean;
  abstract override get(address: number): number | bigint | boolean;

  check(value: unknown): void {
    if (!this.valid(value)) throw this.badValue(value, scalarRule(this.scalar));
  }

  /** The error for `value` (error path). */
  protected bad(value: unknown): LmmError {
    return this.badValue(value, scalarRule(this.scalar));
  }
}

// Each class below repeats the same few lines with its own DataView method on purpose: one
// class per type keeps every call site monomorphic, so that TurboFan inlines get/set whole.
class U8Field extends Scalar implements ScalarAccessor<number> {
  valid(v: unknown): boolean {
    return typeof v === "number" && (v & 0xff) === v;
  }
  get(a: number): number {
    const m = this.memory;
    try {
      return m.view.getUint8(a - m.base + this.offset);
    } catch {
      const w = this.window(a);
      return w.view.getUint8(w.offset);
    }
  }
  set(a: number, v: number): void {
    if (typeof v !== "number" || (v & 0xff) !== v) throw this.bad(v);
    const m = this.memory;
    try {
      m.view.setUint8(a - m.base + this.offset, v);
    } catch {
      const w = this.window(a);
      w.view.setUint8(w.offset, v);
    }
  }
}

class I8Field extends Scalar implements ScalarAccessor<number> {
  valid(v: unknown): boolean {
    return typeof v === "number" && ((v << 24) >> 24) === v;
  }
  get(a: number): number {
    const m = this.memory;
    try {
      return m.view.getInt8(a - m.base + this.offset);
    } catch {
      const w = this.window(a);
      return w.view.getInt8(w.offset);
    }
  }
  set(a: number, v: number): void {
    if (typeof v !== "number" || ((v << 24) >> 24) !== v) throw this.bad(v);
    const m = this.memory;
    try {
      m.view.setInt8(a - m.base + this.offset, v);
    } catch {
      const w = this.window(a);
      w.view.setInt8(w.offset, v);
    }
  }
}

class U16Field extends Scalar implements ScalarAccessor<number> {
  valid(v: unknown): boolean {
    return typeof v === "number" && (v & 0xffff) === v;
  }
  get(a: number): number {
    const m = this.memory;
    try {
      return m.view.getUint16(a - m.base + this.offset, true);
    } catch {
      const w = this.window(a);
      return w.view.getUint16(w.offset, true);
    }
  }
  set(a: number, v: number): void {
    if (typeof v !== "number" || (v & 0xffff) !== v) throw this.bad(v);
    const m = this.memory;
    try {
      m.view.setUint16(a - m.base + this.offset, v, true);
    } catch {
      const w = this.window(a);
      w.view.setUint16(w.offset, v, true);
    }
  }
}

class I16Field extends Scalar implements ScalarAccessor<number> {
  valid(v: unknown): boolean {
    return typeof v === "number" && ((v << 16) >> 16) === v;
  }
  get(a: number): number {
    const m = this.memory;
    try {
      return m.view.getInt16(a - m.base + this.offset, true);
    } catch {
      const w = this.window(a);
      return w.view.getInt16(w.offset, true);
    }
  }
  set(a: number, v: number): void {
    if (typeof v !== "number" || ((v << 16) >> 16) !== v) throw this.bad(v);
    const m = this.memory;
    try {
      m.view.setInt16(a - m.base + this.offset, v, true);
    } catch {
      const w = this.window(a);
      w.view.setInt16(w.offset, v, true);
    }
  }
}

class U32Field extends Scalar implements ScalarAccessor<number> {
  valid(v: unknown): boolean {
    return typeof v === "number" && v >>> 0 === v;
  }
  get(a: number): number {
    const m = this.memory;
    try {
      return m.view.getUint32(a - m.base + this.offset, true);
    } catch {
      const w = this.window(a);
      return w.view.getUint32(w.offset, true);
    }
  }
  set(a: number, v: number): void {
    if (typeof v !== "number" || v >>> 0 !== v) throw this.bad(v);
    const m = this.memory;
    try {
      m.view.setUint32(a - m.base + this.offset, v, true);
    } catch {
      const w = this.window(a);
      w.view.setUint32(w.offset, v, true);
    }
  }
}

class I32Field extends Scalar implements ScalarAccessor<number> {
  valid(v: unknown): boolean {
    return typeof v === "number" && (v | 0) === v;
  }
  get(a: number): number {
    const m = this.memory;
    try {
      return m.view.getInt32(a - m.base + this.offset, true);
    } catch {
      const w = this.window(a);
      return w.view.getInt32(w.offset, true);
    }
  }
  set(a: number, v: number): void {
    if (typeof v !== "number" || (v | 0) !== v) throw this.bad(v);
    const m = this.memory;
    try {
      m.view.setInt32(a - m.base + this.offset, v, true);
    } catch {
      const w = this.window(a);
      w.view.setInt32(w.offset, v, true);
    }
  }
}

class F32Field extends Scalar implements ScalarAccessor<number> {
  valid(v: unknown): boolean {
    // Rounding is fine; a finite value beyond FLT_MAX is not (C leaves it undefined).
    return typeof v === "number" && (Number.isFinite(Math.fround(v)) || !Number.isFinite(v));
  }
  get(a: number): number {
    const m = this.memory;
    try {
      return m.view.getFloat32(a - m.base + this.offset, true);
    } catch {
      const w = this.window(a);
      return w.view.getFloat32(w.offset, true);
    }
  }
  set(a: number, v: number): void {
    if (!this.valid(v)) throw this.bad(v);
    const m = this.memory;
    try {
      m.view.setFloat32(a - m.base + this.offset, v, true);
    } catch {
      const w = this.window(a);
      w.view.setFloat32(w.offset, v, true);
    }
  }
}

class F64Field extends Scalar implements ScalarAccessor<number> {
  valid(v: unknown): boolean {
    return typeof v === "number";
  }
  get(a: number): number {
    const m = this.memory;
    try {
      return m.view.getFloat64(a - m.base + this.offset, true);
    } catch {
      const w = this.window(a);
      return w.view.getFloat64(w.offset, true);
    }
  }
  set(a: number, v: number): void {
    if (typeof v !== "number") throw this.bad(v);
    const m = this.memory;
    try {
      m.view.setFloat64(a - m.base + this.offset, v, true);
    } catch {
      const w = this.window(a);
      w.view.setFloat64(w.offset, v, true);
    }
  }
}

class BoolField extends Scalar implements ScalarAccessor<boolean> {
  valid(v: unknown): boolean {
    return typeof v === "boolean";
  }
  get(a: number): boolean {
    const m = this.memory;
    try {
      return m.view.getUint8(a - m.base + this.offset) !== 0;
    } catch {
      const w = this.window(a);
      return w.view.getUint8(w.offset) !== 0;
    }
  }
  set(a: number, v: boolean): void {
    if (typeof v !== "boolean") throw this.bad(v);
    const m = this.memory;
    try {
      m.view.setUint8(a - m.base + this.offset, v ? 1 : 0);
    } catch {
      const w = this.window(a);
      w.view.setUint8(w.offset, v ? 1 : 0);
    }
  }
}

const TWO_32 = 4294967296;

/** Stores a safe integer as 64-bit two's complement, low word first, without a bigint. */
function storeInt64(view: DataView, o: number, v: number): void {
  const low = v >>> 0; // ToUint32 is v mod 2^32: the low word, negative values included
  // The high word first: if it is out of the view (and throws), nothing was written.
  view.setInt32(o + 4, (v - low) / TWO_32, true);
  view.setUint32(o, low, true);
}

/** The 8 bytes at `o` as a number, without a bigint: exact while it is a safe integer. */
function loadInt64(view: DataView, o: number, signed: boolean): number {
  const high = signed ? view.getInt32(o + 4, true) : view.getUint32(o + 4, true);
  return high * TWO_32 + view.getUint32(o, true);
}

/** A pointer: 8 bytes read and written as two words, as a number below 2^53. */
class PointerField extends Scalar implements ScalarAccessor<number> {
  valid(v: unknown): boolean {
    return Number.isSafeInteger(v) && (v as number) >= 0;
  }
  get(a: number): number {
    const m = this.memory;
    let v: number;
    try {
      v = loadInt64(m.view, a - m.base + this.offset, false);
    } catch {
      const w = this.window(a);
      v = loadInt64(w.view, w.offset, false);
    }
    if (v > Number.MAX_SAFE_INTEGER) throw this.unsafe(a);
    return v;
  }
  set(a: number, v: number): void {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw this.bad(v);
    const m = this.memory;
    try {
      storeInt64(m.view, a - m.base + this.offset, v);
    } catch {
      const w = this.window(a);
      storeInt64(w.view, w.offset, v);
    }
  }
  private unsafe(a: number): LmmError {
    const w = this.window(a);
    const raw = w.view.getBigUint64(w.offset, true);
    return new LmmError(
      "BAD_VALUE",
      `Field ${this.name} (pointer) of ${this.owner} holds 0x${raw.toString(16)}, beyond 2^53: ` +
        "not an address a number can hold",
    );
  }
}

/** `u64`, and through {@linkcode I64Field} `i64`: bigint values, safe numbers accepted. */
class U64Field extends Scalar implements Int64Accessor {
  readonly #signed: boolean;
  readonly #min: bigint;
  readonly #max: bigint;

  constructor(memory: Memory, owner: string, name: string, scalar: ScalarType, offset: number) {
    super(memory, owner, name, scalar, offset);
    this.#signed = scalar === "i64";
    this.#min = this.#signed ? -(2n ** 63n) : 0n;
    this.#max = this.#signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  }
  valid(v: unknown): boolean {
    return typeof v === "bigint"
      ? v >= this.#min && v <= this.#max
      : Number.isSafeInteger(v) && ((v as number) >= 0 || this.#signed);
  }
  get(a: number): bigint {
    const m = this.memory;
    try {
      return m.view.getBigUint64(a - m.base + this.offset, true);
    } catch {
      const w = this.window(a);
      return w.view.getBigUint64(w.offset, true);
    }
  }
  getNumber(a: number): number {
    const m = this.memory;
    let v: number;
    try {
      v = loadInt64(m.view, a - m.base + this.offset, this.#signed);
    } catch {
      const w = this.window(a);
      v = loadInt64(w.view, w.offset, this.#signed);
    }
    if (!Number.isSafeInteger(v)) {
      throw new LmmError(
        "BAD_VALUE",
        `Field ${this.name} (${this.type}) of ${this.owner} holds ${this.get(a)}, not a safe ` +
          "integer: read it with get() as a bigint",
      );
    }
    return v;
  }
  set(a: number, v: bigint | number): void {
    if (!this.valid(v)) throw this.bad(v);
    const m = this.memory;
    try {
      this.store(m.view, a - m.base + this.offset, v);
    } catch {
      const w = this.window(a);
      this.store(w.view, w.offset, v);
    }
  }
  private store(view: DataView, at: number, v: bigint | number): void {
    // setBigUint64 stores v mod 2^64: the two's complement of a negative i64 too.
    if (typeof v === "bigint") view.setBigUint64(at, v, true);
    else storeInt64(view, at, v);
  }
}

class I64Field extends U64Field {
  override get(a: number): bigint {
    const m = this.memory;
    try {
      return m.view.getBigInt64(a - m.base + this.offset, true);
    } catch {
      const w = this.window(a);
      return w.view.getBigInt64(w.offset, true);
    }
  }
}

const SCALAR_CLASSES: {
  readonly [T in ScalarType]: new (
    memory: Memory,
    owner: string,
    name: string,
    scalar: ScalarType,
    offset: number,
  ) => Scalar;
} = {
  u8: U8Field,
  i8: I8Field,
  u16: U16Field,
  i16: I16Field,
  u32: U32Field,
  i32: I32Field,
  u64: U64Field,
  i64: I64Field,
  f32: F32Field,
  f64: F64Field,
  bool: BoolField,
  pointer: PointerField,
};

/** `char[N]`: NUL-padded UTF-8. */
class CharField extends Field implements ScalarAccessor<string> {
  // Byte arrays do not throw out of range: these check the window first.
  get(a: number): string {
    if (typeof a !== "number") throw notAnAddress(a);
    const m = this.memory;
    const o = a - m.base + this.offset;
    if (o >= 0 && a + this.reach <= m.end) return this.decode(m.bytes, o);
    const w = this.window(a);
    return this.decode(w.bytes, w.offset);
  }

  set(a: number, v: string): void {
    const ascii = this.encodable(v);
    if (typeof a !== "number") throw notAnAddress(a);
    const m = this.memory;
    const o = a - m.base + this.offset;
    if (o >= 0 && a + this.reach <= m.end) this.store(m.bytes, o, v, ascii);
    else {
      const w = this.window(a);
      this.store(w.bytes, w.offset, v, ascii);
    }
  }

  check(value: unknown): void {
    this.encodable(value);
  }

  /** Throws BAD_VALUE unless `v` fits; returns whether it is ASCII (one byte per unit). */
  private encodable(v: unknown): boolean {
    if (typeof v !== "string") throw this.badValue(v, "a string");
    let ascii = true;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c === 0) throw this.badValue(v, "a string without NUL characters");
      if (c >= 0x80) ascii = false;
    }
    if (ascii && v.length <= this.size) return true;
    if (!v.isWellFormed()) throw this.badValue(v, "well-formed text (no lone surrogate)");
    const bytes = ascii ? v.length : utf8Encoder.encode(v).length;
    if (bytes > this.size) {
      throw this.badValue(v, `at most ${this.size} bytes of UTF-8 (it has ${bytes})`);
    }
    return ascii;
  }

  private store(bytes: Uint8Array, o: number, v: string, ascii: boolean): void {
    let n = v.length;
    if (ascii) {
      for (let i = 0; i < n; i++) bytes[o + i] = v.charCodeAt(i);
    } else {
      const encoded = utf8Encoder.encode(v);
      n = encoded.length;
      bytes.set(encoded, o);
    }
    bytes.fill(0, o + n, o + this.size);
  }

  private decode(bytes: Uint8Array, o: number): string {
    return decodeChars(bytes.subarray(o, o + this.size));
  }
}

/** `T[N]`: elements through one scalar accessor at the array's offset. */
class ArrayField extends Field implements ArrayAccessor<number | bigint | boolean, unknown> {
  readonly length: number;
  readonly #element: Scalar;
  readonly #stride: number;

  constructor(memory: Memory, owner: string, name: string, member: Member, offset: number) {
    super(memory, owner, name, member.type, offset, member.size);
    const scalar = member.scalar as ScalarType;
    this.length = member.length;
    this.#element = new SCALAR_CLASSES[scalar](memory, owner, `${name}[]`, scalar, offset);
    this.#stride = SCALARS[scalar].size;
  }

  get(address: number): (number | bigint | boolean)[];
  get(address: number, index: number): number | bigint | boolean;
  get(a: number, i?: number): number | bigint | boolean | (number | bigint | boolean)[] {
    if (typeof a !== "number") throw notAnAddress(a);
    if (i !== undefined) return this.#element.get(a + this.#index(i) * this.#stride);
    ensureInMemory(this.memory, a + this.offset, this.size);
    const out = new Array(this.length);
    for (let k = 0; k < this.length; k++) out[k] = this.#element.get(a + k * this.#stride);
    return out;
  }

  set(address: number, values: ArrayLike<unknown>): void;
  set(address: number, index: number, value: unknown): void;
  set(a: number, i: number | ArrayLike<unknown>, v?: unknown): void {
    if (typeof a !== "number") throw notAnAddress(a);
    if (typeof i === "number") {
      this.#element.set(a + this.#index(i) * this.#stride, v);
      return;
    }
    const planned: Planned[] = [];
    this.plan(i, planned);
    const values = planned[0][1] as unknown[];
    ensureInMemory(this.memory, a + this.offset, this.size);
    for (let k = 0; k < this.length; k++) this.#element.set(a + k * this.#stride, values[k]);
  }

  override plan(values: unknown, out: Planned[]): void {
    const copy = typeof values === "object" && values !== null
      ? Array.from(values as ArrayLike<unknown>)
      : values;
    this.check(copy);
    out.push([this, copy]);
  }

  check(values: unknown): void {
    if (
      typeof values !== "object" || values === null ||
      (values as ArrayLike<unknown>).length !== this.length
    ) {
      throw this.badValue(values, `an array of ${this.length} values`);
    }
    const list = values as ArrayLike<unknown>;
    for (let k = 0; k < this.length; k++) {
      if (!this.#element.valid(list[k])) {
        throw this.badValue(
          list[k],
          `${scalarRule(this.#element.scalar)} (element ${k} of ${describe(values)})`,
        );
      }
    }
  }

  #index(i: number): number {
    if (typeof i !== "number" || i >>> 0 !== i || i >= this.length) {
      throw new LmmError(
        "BAD_VALUE",
        `Index ${describe(i)} is out of range for field ${this.name} (${this.type}) of ` +
          `${this.owner}: expected an integer in [0, ${this.length - 1}]`,
      );
    }
    return i;
  }
}

/** A Symbol or a BigInt where an address goes: arithmetic on it would throw a TypeError. */
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

/** The accessors of `layout`'s fields, `offset` bytes into the bound struct. */
function bindFields(
  layout: Layout,
  memory: Memory,
  owner: string,
  prefix: string,
  offset: number,
): Record<string, Field> {
  const fields: Record<string, Field> = {};
  for (const m of layout.members) {
    const name = prefix + m.name;
    const at = offset + m.offset;
    if (m.layout !== null) fields[m.name] = new StructField(memory, owner, name, m.layout, at);
    else if (m.kind === "char") {
      fields[m.name] = new CharField(memory, owner, name, m.type, at, m.size);
    } else if (m.kind === "array") fields[m.name] = new ArrayField(memory, owner, name, m, at);
    else fields[m.name] = new SCALAR_CLASSES[m.scalar!](memory, owner, name, m.scalar!, at);
  }
  return Object.freeze(fields);
}

function readFields(fields: Record<string, Field>, a: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(fields)) {
    out[name] = fields[name].get(a);
  }
  return out;
}

/** Plans the writes of `values` into `fields` (BAD_VALUE/BAD_FIELD on the first refusal). */
function planFields(
  fields: Record<string, Field>,
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
    if (!Object.hasOwn(fields, name)) throw noField(struct, path === "" ? name : `${path}.${name}`);
    fields[name].plan((values as Record<string, unknown>)[name], out);
  }
}

/** A nested struct field. */
class StructField extends Field implements StructAccessor {
  readonly layout: Layout;
  readonly fields: Fields<LayoutSpec>;
  readonly #fields: Record<string, Field>;

  constructor(memory: Memory, owner: string, name: string, layout: Layout, offset: number) {
    super(memory, owner, name, layout.name, offset, layout.size);
    this.layout = layout;
    this.#fields = bindFields(layout, memory, owner, `${name}.`, offset);
    this.fields = this.#fields as unknown as Fields<LayoutSpec>;
  }

  address(a: number): number {
    if (typeof a !== "number") throw notAnAddress(a);
    return a + this.offset;
  }

  get(a: number): LayoutValue<LayoutSpec> {
    if (typeof a !== "number") throw notAnAddress(a);
    ensureInMemory(this.memory, a + this.offset, this.size);
    return readFields(this.#fields, a) as LayoutValue<LayoutSpec>;
  }

  set(a: number, values: LayoutInput<LayoutSpec>): void {
    const planned: Planned[] = [];
    this.plan(values, planned);
    if (typeof a !== "number") throw notAnAddress(a);
    ensureInMemory(this.memory, a + this.offset, this.size);
    perform(planned, a);
  }

  check(values: unknown): void {
    this.plan(values, []);
  }

  override plan(values: unknown, out: Planned[]): void {
    planFields(this.#fields, this.owner, this.name, values, out);
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
  readonly #fields: Record<string, Field>;

  constructor(layout: Layout, memory: Memory) {
    this.layout = layout;
    this.memory = memory;
    this.#fields = bindFields(layout, memory, layout.name, "", 0);
    this.fields = this.#fields as unknown as Fields<LayoutSpec>;
  }

  read(a: number): LayoutValue<LayoutSpec> {
    ensureInMemory(this.memory, a, this.layout.size);
    return readFields(this.#fields, a) as LayoutValue<LayoutSpec>;
  }

  write(a: number, values: LayoutInput<LayoutSpec>): void {
    const planned: Planned[] = [];
    planFields(this.#fields, this.layout.name, "", values, planned);
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
