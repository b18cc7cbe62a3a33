/**
 * The heap's memory as TypeScript sees it: one `ArrayBuffer` per arena (the
 * reserved ranges where the engine places a heap's pages), and the checks that
 * let TypeScript read a meta block itself instead of asking the library.
 *
 * Lifetime. The engine keeps a heap's arenas mapped (`LMM_HEAP_KEEP_ARENAS`)
 * even after the heap is closed: pages are given back to the kernel, but the
 * range stays readable and writable, so a view kept past `free()` or
 * `close()` touches harmless memory instead of faulting. An arena is unmapped
 * only when both (a) its heap is released and (b) its `ArrayBuffer` — and so
 * every view into it — has been garbage-collected: a `FinalizationRegistry`
 * watches each buffer, and the heap's release looks at each arena once.
 *
 * @module
 */

import { hex, LmmError, Status } from "./errors.ts";
import {
  ArenaInfo,
  HeapInfo,
  HELD_BIT,
  MAX_ARENAS,
  META_BLOCK_SIZE,
  PAGE_HEADER_SIZE,
  PAGE_REQUESTED_OFFSET,
  SITE_LIMIT,
  STATE_CACHED,
  STATE_OCCUPIED,
} from "./native/abi.ts";
import type { LmmSymbols } from "./native/symbols.ts";

/** Where a range of memory is, for code that reads and writes it. */
export interface Window {
  /** Over the window; offset 0 is address `base`. */
  view: DataView;
  /** The same bytes. */
  bytes: Uint8Array;
  /** Offset of the address asked about. */
  offset: number;
}

/** One arena and what unmapping it waits for. */
export interface ArenaLife {
  readonly base: number;
  readonly len: number;
  /** Its `ArrayBuffer` was made and is still reachable. */
  buffered: boolean;
  /** Its heap was released (the engine no longer places pages there). */
  released: boolean;
  unmapped: boolean;
}

let S: LmmSymbols;

function unmapIfUnreachable(a: ArenaLife): void {
  if (a.unmapped || a.buffered || !a.released) return;
  a.unmapped = true;
  S.lmm_arena_unmap(Deno.UnsafePointer.create(BigInt(a.base)), BigInt(a.len));
}

const buffers = new FinalizationRegistry<ArenaLife>((a) => {
  a.buffered = false;
  unmapIfUnreachable(a);
});

/** One arena's buffer and views. */
interface Mapped {
  readonly base: number;
  readonly end: number;
  readonly view: DataView;
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  readonly f64: Float64Array;
}

/**
 * The memory of one heap: the first arena as a fast window (`view`,
 * `bytes`, `base`, `end`) and every arena through `locate`. Fields change
 * when the heap closes (the window becomes empty); readers take them from
 * the object on each use.
 *
 * The public fields are `declare`d: the constructor gives each its first
 * value. A plain TypeScript field declaration would first define it as
 * `undefined`, and V8 would then keep `base` and `end` as tagged values
 * and forget that `view` is a DataView. Every field accessor reads them on
 * each call: updating 2 fields and reading 2 of 100k records took 5.7 ns
 * per record against 4.7 with the class accessors of the time, 5.1 against
 * 2.1 with the closures of `accessors.ts`.
 */
export class ArenaMemory {
  /** The first arena's DataView (offset 0 is `base`). */
  declare view: DataView;
  /** The first arena's bytes. */
  declare bytes: Uint8Array;
  /**
   * The first arena's 32-bit words, signed (meta blocks are read through
   * them; int32 values keep V8's bitwise operations in 32-bit registers).
   */
  declare words: Int32Array;
  /** The first arena's 64-bit words (the TypeScript tier zeroes blocks with them). */
  declare f64: Float64Array;
  /** Address of the first arena. */
  declare base: number;
  /** End of the first arena (`base` when the heap is closed). */
  declare end: number;
  /** Key of the keyed checks (as an int32). */
  declare readonly key: number;
  /** `base / 8` modulo 2^32, as an int32: granule of an offset is `baseG + (off >>> 3)`. */
  declare baseG: number;
  declare readonly pageSize: number;
  readonly #handle: Deno.PointerObject;
  #closed = false;
  readonly #lives: ArenaLife[] = [];
  #mapped: Mapped[] = [];

  /**
   * Maps the arenas of a heap made with `LMM_HEAP_KEEP_ARENAS`. Holds the
   * handle, never the `Heap` (a finalizer's held value reaches this object).
   *
   * @param symbols The library.
   * @param handle The heap's handle.
   */
  constructor(symbols: LmmSymbols, handle: Deno.PointerObject) {
    S = symbols;
    this.#handle = handle;
    const info = new Uint8Array(HeapInfo.SIZE);
    const iv = new DataView(info.buffer);
    iv.setUint32(HeapInfo.size, HeapInfo.SIZE, true);
    const status = S.lmm_heap_info(handle, info);
    if (status !== 0) {
      throw new LmmError("BAD_HANDLE", `lmm_heap_info: status ${status}`, { status });
    }
    this.key = iv.getInt32(HeapInfo.key, true);
    this.pageSize = iv.getUint32(HeapInfo.page_size, true);
    this.#refresh();
    const first = this.#mapped[0];
    this.view = first.view;
    this.bytes = first.bytes;
    this.words = first.words;
    this.f64 = first.f64;
    this.base = first.base;
    this.end = first.end;
    this.baseG = ((first.base / 8) >>> 0) | 0;
  }

  /** Arena records for the heap's finalizer (no reference to this object). */
  get lives(): ArenaLife[] {
    return this.#lives;
  }

  /** Learns about arenas the engine reserved since the last look. */
  #refresh(): void {
    const records = new Uint8Array(ArenaInfo.SIZE * MAX_ARENAS);
    const count = new BigUint64Array(1);
    const status = S.lmm_heap_arenas(
      this.#handle,
      records,
      BigInt(MAX_ARENAS),
      new Uint8Array(count.buffer),
    );
    if (status !== 0) {
      throw new LmmError("BAD_HANDLE", `lmm_heap_arenas: status ${status}`, { status });
    }
    const rv = new DataView(records.buffer);
    for (let i = 0; i < Number(count[0]); i++) {
      const base = Number(rv.getBigUint64(i * ArenaInfo.SIZE + ArenaInfo.base, true));
      const len = Number(rv.getBigUint64(i * ArenaInfo.SIZE + ArenaInfo.len, true));
      if (this.#lives.some((a) => a.base === base)) continue;
      const life: ArenaLife = { base, len, buffered: true, released: false, unmapped: false };
      const buffer = Deno.UnsafePointerView.getArrayBuffer(
        Deno.UnsafePointer.create(BigInt(base))!,
        len,
      );
      buffers.register(buffer, life);
      this.#lives.push(life);
      this.#mapped.push({
        base,
        end: base + len,
        view: new DataView(buffer),
        bytes: new Uint8Array(buffer),
        words: new Int32Array(buffer),
        f64: new Float64Array(buffer),
      });
    }
  }

  /** The mapped arena holding `[address, address + size)`, or undefined. */
  #find(address: number, size: number): Mapped | undefined {
    for (const m of this.#mapped) {
      if (address >= m.base && address + size <= m.end) return m;
    }
    return undefined;
  }

  /**
   * The window holding `[address, address + size)`.
   *
   * @param address Any address.
   * @param size Bytes from it.
   * @returns The arena's views and the offset of `address`.
   * @throws {LmmError} `NOT_OWNED` outside every arena; `CLOSED` after close.
   */
  locate(address: number, size: number): Window {
    let m = this.#find(address, size);
    if (m === undefined && !this.#closed) {
      this.#refresh();
      m = this.#find(address, size);
    }
    if (m === undefined) {
      if (this.#closed) {
        throw new LmmError("CLOSED", `${hex(address)}: the heap is closed`, {
          status: Status.DESTROYED,
        });
      }
      throw new LmmError(
        "NOT_OWNED",
        `${hex(address)}+${size}: outside the heap's memory`,
        { status: Status.NOT_OWNED },
      );
    }
    return { view: m.view, bytes: m.bytes, offset: address - m.base };
  }

  /**
   * Requested bytes of the live block at `address`, read from its meta
   * block, or -1 when there is none there (the caller asks the engine why).
   * Reads only arena memory; allocates nothing.
   */
  requested(address: number): number {
    let words = this.words;
    let off = address - this.base;
    let g = 0;
    if (off >= 64 && address + 16 <= this.end) {
      g = (this.baseG + (off >>> 3)) | 0;
    } else {
      let m = this.#find(address - 64, 64);
      if (m === undefined && !this.#closed) {
        this.#refresh(); // an arena reserved since the last look?
        m = this.#find(address - 64, 64);
      }
      if (m === undefined) return -1;
      words = m.words;
      off = address - m.base;
      g = ((address / 8) >>> 0) | 0;
    }
    if (off % 8 !== 0) return -1;
    const i = (off - 16) / 4;
    const w0 = words[i];
    const w1 = words[i + 1];
    const w2 = words[i + 2];
    const state = w1 >>> 27;
    // The meta block is 16 bytes (2 granules) before the data.
    if (state === STATE_OCCUPIED << 2) {
      if (sealGranule(this.key, (g - 2) | 0, w0, w1, w2) !== words[i + 3]) return -1;
    } else if (state === STATE_CACHED << 2 && (w2 & HELD_BIT) !== 0) {
      // Handed out by the TypeScript tier: its held bit and slack are not sealed.
      if (sealGranule(this.key, (g - 2) | 0, w0, w1, w2 & (SITE_LIMIT - 1)) !== words[i + 3]) {
        return -1;
      }
    } else return -1;
    if (w0 !== 0) return w0 * 8 - (w2 >>> 22);
    // The one block of a large page: its page header, right before the meta
    // block, holds the requested bytes.
    const p = (off - META_BLOCK_SIZE - PAGE_HEADER_SIZE + PAGE_REQUESTED_OFFSET) / 4;
    return (words[p] >>> 0) + (words[p + 1] >>> 0) * 0x1_0000_0000;
  }

  /**
   * The heap was released: forget the windows (views made before keep
   * working on harmless memory) and unmap each arena whose buffer is
   * unreachable already.
   */
  release(): void {
    this.#closed = true;
    // Empty windows: every access goes to `locate`, which throws CLOSED.
    this.view = new DataView(new ArrayBuffer(0));
    this.bytes = new Uint8Array(0);
    this.words = new Int32Array(0);
    this.f64 = new Float64Array(0);
    this.end = this.base;
    this.#mapped = [];
    releaseArenas(this.#lives);
  }
}

/** Marks arenas released and unmaps those no buffer reaches. */
export function releaseArenas(lives: ArenaLife[]): void {
  for (const a of lives) {
    a.released = true;
    unmapIfUnreachable(a);
  }
}

/**
 * The keyed check of a meta block (three words at `at`), as the engine
 * computes it (`zig/src/seal.zig`).
 */
export function seal(key: number, at: number, w0: number, w1: number, w2: number): number {
  return sealGranule(key | 0, ((at / 8) >>> 0) | 0, w0 | 0, w1 | 0, w2 | 0) >>> 0;
}

/**
 * `seal` with the address given as its granule index modulo 2^32 (`at / 8`)
 * and every value as an int32, returning an int32: the form the hot paths
 * use (with an `Int32Array`), so that V8 keeps every step in 32-bit
 * registers — a 47-bit address, or a word above 2^31 read from a
 * `Uint32Array`, in a bitwise operation makes it deoptimise.
 */
export function sealGranule(key: number, g: number, w0: number, w1: number, w2: number): number {
  let h = key ^ g;
  let x = Math.imul(h ^ w0, 0x9E3779B1);
  h = x ^ (x >>> 15);
  x = Math.imul(h ^ w1, 0x9E3779B1);
  h = x ^ (x >>> 15);
  x = Math.imul(h ^ w2, 0x9E3779B1);
  h = x ^ (x >>> 15);
  h ^= h >>> 13;
  h = Math.imul(h, 0x85EBCA6B);
  return h ^ (h >>> 16);
}
