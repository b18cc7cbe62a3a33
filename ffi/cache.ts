/**
 * The TypeScript tier: allocation and free of small blocks without a native
 * call, in front of the engine's own front caches and worst-fit heap.
 *
 * ## Basic Design
 * An FFI call costs more than glibc's whole `malloc` + `free` (PERFORMANCE.md:
 * libc through `Deno.dlopen` ≈ 16 ns per pair, both calls included), so a
 * heap that calls the library for every allocation cannot beat it. The
 * engine lends this tier blocks of each family's front unit (one structure,
 * or one size class of untyped memory) in batches (`lmm_front_refill_f64`),
 * in state `cached`; this tier keeps them in a LIFO stack per family and:
 * - **alloc** pops one, zeroes it, and marks it handed out by setting the
 *   `held` bit and the slack in its meta block — bits the keyed check leaves
 *   out for cached blocks, so no hash is computed;
 * - **free** reads the meta block in front of the address: a held block whose
 *   keyed check holds (one hash: an interior address or stale data fails it)
 *   gets its bit cleared and goes back on the stack; anything else — a double
 *   free, an address never given out, an interior one — goes to the engine,
 *   which says what it is;
 * - what it did is counted per family and reported in one call
 *   (`lmm_front_settle`) before anything reads the heap's statistics or
 *   walks its blocks, so the statistics are exact whenever they are read;
 * - a stack that overflows gives half back in one call
 *   (`lmm_front_return_f64`); `flush` gives everything back.
 *
 * Only blocks of the heap's first arena are served here (every address of
 * it is in `memory.words`); others take the native path. Exact heaps and
 * allocations whose stack is recorded (`trackSites`) never come here.
 *
 * @module
 */

import { type ArenaMemory, sealGranule } from "./arena.ts";
import { unwrap } from "./errors.ts";
import {
  ALL_FAMILIES,
  FrontDelta,
  HELD_BIT,
  PAGE_FAMILY_OFFSET,
  SITE_LIMIT,
  STATE_CACHED,
} from "./native/abi.ts";
import type { LmmSymbols } from "./native/symbols.ts";

/** Blocks one refill asks for. */
const REFILL = 64;
/** State bits of a cached block's `link` word (bits 27–31: state, and two zeros). */
const CACHED_LINK = STATE_CACHED << 2;

/** One family's stack and what it did since the last settle. */
class Lane {
  // `declare`: no field definition as `undefined` before the constructor's
  // assignment, which would leave V8 with untyped fields (see arena.ts).
  declare readonly family: number;
  /** Block size it serves. */
  declare readonly unit: number;
  declare readonly alignment: number;
  declare readonly stack: Float64Array;
  top = 0;
  allocs = 0;
  frees = 0;
  netSize = 0;
  netApp = 0;
  netHard = 0;
  running = 0;
  peak = 0;

  constructor(family: number, unit: number, alignment: number, capacity: number) {
    this.family = family;
    this.unit = unit;
    this.alignment = alignment;
    this.stack = new Float64Array(capacity);
  }
}

/** The TypeScript tier of one heap. Holds no reference to the `Heap`. */
export class FrontCache {
  readonly #S: LmmSymbols;
  readonly #handle: Deno.PointerObject;
  readonly #memory: ArenaMemory;
  /** By family id (undefined: no front unit). */
  readonly #lanes: (Lane | undefined)[] = [];
  readonly #active: Lane[] = [];
  /** Heap-wide running net requested bytes, and its peak, since the last settle. */
  #running = 0;
  #peak = 0;
  /** Whether anything happened since the last settle. */
  pending = false;
  /** Family of each untyped size class, by request size in 16-byte steps (-1: unknown). */
  readonly #classOf: Int32Array;

  /**
   * @param S The library.
   * @param handle The heap (made without `LMM_HEAP_EXACT`).
   * @param memory Its memory.
   * @param maxClass Largest untyped request a size class serves.
   */
  constructor(S: LmmSymbols, handle: Deno.PointerObject, memory: ArenaMemory, maxClass: number) {
    this.#S = S;
    this.#handle = handle;
    this.#memory = memory;
    this.#classOf = new Int32Array(maxClass / 16 + 1).fill(-1);
  }

  /** Set once the engine said the heap is damaged: no lane serves any more. */
  #poisoned = false;

  /**
   * Stops serving: every alloc and free goes to the engine from now on (the
   * heap is damaged; the engine answers POISONED). Blocks on the stacks stay
   * lent; closing the heap frees everything.
   */
  poison(): void {
    this.#poisoned = true;
    this.#lanes.length = 0;
  }

  /** Makes `family` a lane of this tier when it has a front unit. */
  addFamily(family: number, unit: number, alignment: number): void {
    if (unit === 0 || this.#poisoned) return;
    const lane = new Lane(family, unit, alignment, Math.max(16, Math.min(1024, 65536 / unit)) * 2);
    this.#lanes[family] = lane;
    this.#active.push(lane);
  }

  /**
   * The family that serves an untyped request of `n` bytes, or -1 when the
   * request is larger than any size class.
   */
  classFamily(n: number): number {
    if (n >= this.#classOf.length * 16) return -1;
    const i = (n + 15) >>> 4;
    let id = this.#classOf[i];
    if (id < 0) {
      id = this.#S.lmm_class_family_f64(this.#handle, n);
      if (id < 0) return -1; // the engine path reports it
      this.#classOf[i] = id;
    }
    return id;
  }

  /** Whether `family` has a lane (its blocks of its unit size come here). */
  serves(family: number): boolean {
    return this.#lanes[family] !== undefined;
  }

  /**
   * A zeroed block of `family` for `requested` bytes (at most its unit), or
   * -1 when none can be had here (the caller asks the engine).
   */
  alloc(family: number, requested: number): number {
    const lane = this.#lanes[family];
    if (lane === undefined || (lane.top === 0 && !this.#refill(lane))) return -1;
    const a = lane.stack[--lane.top];
    const m = this.#memory;
    const words = m.words;
    // Every offset this tier keeps is below 2^31 (see #refill): int32 arithmetic.
    const off = (a - m.base) | 0;
    const i = (off - 16) >> 2;
    const unit = lane.unit;
    // A block this tier took in: its header was checked then; this notices
    // a write since — past the block before (size changes first) or stale.
    if (
      words[i] !== unit >>> 3 || words[i + 1] >>> 27 !== CACHED_LINK ||
      (words[i + 2] & HELD_BIT) !== 0
    ) {
      this.#S.lmm_validate_f64(this.#handle, a); // the engine finds the damage and poisons
      this.poison();
      return -1;
    }
    const f64 = m.f64;
    // A few 8-byte stores (a fill() call costs more for small blocks).
    for (let k = off >> 3, end = k + (unit >> 3); k < end; k++) f64[k] = 0;
    words[i + 2] = HELD_BIT | ((unit - requested) << 22);
    const a1 = lane.alignment - 1;
    const hard = unit - ((requested + a1) & ~a1);
    lane.allocs++;
    lane.netSize += unit;
    lane.netApp += requested;
    lane.netHard += hard;
    lane.running += requested;
    if (lane.running > lane.peak) lane.peak = lane.running;
    this.#running += requested;
    if (this.#running > this.#peak) this.#peak = this.#running;
    this.pending = true;
    return a;
  }

  /**
   * Takes back a block this tier handed out; false when `address` is not
   * one (the caller asks the engine, which says what it is).
   */
  free(address: number): boolean {
    const m = this.#memory;
    const d = address - m.base;
    if (!(d >= 64 && address < m.end)) return false;
    // int32 arithmetic: this tier only serves offsets below 2^31.
    const off = d | 0;
    if (off !== d || (off & 7) !== 0) return false;
    const words = m.words;
    const i = (off - 16) >> 2;
    const w1 = words[i + 1];
    const w2 = words[i + 2];
    if (w1 >>> 27 !== CACHED_LINK || (w2 & HELD_BIT) === 0) return false;
    const w0 = words[i];
    const g = (m.baseG + ((off - 16) >>> 3)) | 0;
    // sealGranule, inlined by hand (V8 leaves the call in this function).
    let h = m.key ^ g;
    let x = Math.imul(h ^ w0, 0x9E3779B1);
    h = x ^ (x >>> 15);
    x = Math.imul(h ^ w1, 0x9E3779B1);
    h = x ^ (x >>> 15);
    x = Math.imul(h ^ (w2 & (SITE_LIMIT - 1)), 0x9E3779B1);
    h = x ^ (x >>> 15);
    h ^= h >>> 13;
    h = Math.imul(h, 0x85EBCA6B);
    if ((h ^ (h >>> 16)) !== words[i + 3]) return false;
    const lane = this.#lanes[words[((off & -m.pageSize) + PAGE_FAMILY_OFFSET) >> 2]];
    if (lane === undefined || lane.unit !== w0 * 8) return false;
    const requested = lane.unit - (w2 >>> 22);
    words[i + 2] = 0;
    if (lane.top === lane.stack.length) this.#giveBack(lane, lane.top >>> 1);
    lane.stack[lane.top++] = address;
    lane.frees++;
    lane.netSize -= lane.unit;
    lane.netApp -= requested;
    const a1 = lane.alignment - 1;
    lane.netHard -= lane.unit - ((requested + a1) & ~a1);
    lane.running -= requested;
    this.#running -= requested;
    this.pending = true;
    return true;
  }

  /** Whether `address` is a block this tier handed out (its keyed check holds). */
  holds(address: number): boolean {
    return this.#laneOf(address) !== undefined;
  }

  /**
   * Resizes a block this tier handed out in place when `requested` bytes
   * still fit it (and, for a size class, still belong to the class); false
   * otherwise (the caller moves it).
   */
  resize(address: number, requested: number, sameClass: boolean): boolean {
    const lane = this.#laneOf(address);
    if (lane === undefined || requested > lane.unit || !sameClass) return false;
    const m = this.#memory;
    const i = (address - m.base - 16) / 4;
    const old = lane.unit - (m.words[i + 2] >>> 22);
    if (requested > old) m.bytes.fill(0, address - m.base + old, address - m.base + requested);
    m.words[i + 2] = HELD_BIT | ((lane.unit - requested) << 22);
    const d = requested - old;
    lane.netApp += d;
    lane.netHard += alignUp(old, lane.alignment) - alignUp(requested, lane.alignment);
    lane.running += d;
    if (lane.running > lane.peak) lane.peak = lane.running;
    this.#running += d;
    if (this.#running > this.#peak) this.#peak = this.#running;
    this.pending = true;
    return true;
  }

  /** The lane of a held block at `address` (verified), or undefined. */
  #laneOf(address: number): Lane | undefined {
    const m = this.#memory;
    const d = address - m.base;
    if (!(d >= 64 && address < m.end)) return undefined;
    const off = d | 0;
    if (off !== d || (off & 7) !== 0) return undefined;
    const words = m.words;
    const i = (off - 16) >> 2;
    const w1 = words[i + 1];
    const w2 = words[i + 2];
    if (w1 >>> 27 !== CACHED_LINK || (w2 & HELD_BIT) === 0) return undefined;
    const g = (m.baseG + ((off - 16) >>> 3)) | 0;
    if (sealGranule(m.key, g, words[i], w1, w2 & (SITE_LIMIT - 1)) !== words[i + 3]) {
      return undefined;
    }
    const lane = this.#lanes[words[((off & -m.pageSize) + PAGE_FAMILY_OFFSET) >> 2]];
    return lane !== undefined && lane.unit === words[i] * 8 ? lane : undefined;
  }

  /** Tells the engine what this tier did since the last settle. */
  settle(): void {
    if (!this.pending) return;
    const lanes = this.#active.filter((l) => l.allocs !== 0 || l.frees !== 0);
    const buf = new Uint8Array(FrontDelta.SIZE * (lanes.length + 1));
    const v = new DataView(buf.buffer);
    lanes.forEach((l, k) => {
      const o = k * FrontDelta.SIZE;
      v.setUint32(o + FrontDelta.family, l.family, true);
      v.setBigUint64(o + FrontDelta.allocs, BigInt(l.allocs), true);
      v.setBigUint64(o + FrontDelta.frees, BigInt(l.frees), true);
      v.setBigInt64(o + FrontDelta.net_size, BigInt(l.netSize), true);
      v.setBigInt64(o + FrontDelta.net_app, BigInt(l.netApp), true);
      v.setBigInt64(o + FrontDelta.net_hard, BigInt(l.netHard), true);
      v.setBigInt64(o + FrontDelta.peak_app, BigInt(l.peak), true);
    });
    const o = lanes.length * FrontDelta.SIZE;
    v.setUint32(o + FrontDelta.family, ALL_FAMILIES, true);
    v.setBigInt64(o + FrontDelta.peak_app, BigInt(this.#peak), true);
    unwrap(this.#S.lmm_front_settle(this.#handle, buf, lanes.length + 1), "lmm_front_settle");
    for (const l of lanes) {
      l.allocs =
        l.frees =
        l.netSize =
        l.netApp =
        l.netHard =
        l.running =
        l.peak =
          0;
    }
    this.#running = this.#peak = 0;
    this.pending = false;
  }

  /** Settles, then gives every block on the stacks back to the engine. */
  flush(): void {
    this.settle();
    for (const lane of this.#active) if (lane.top > 0) this.#giveBack(lane, lane.top);
  }

  /**
   * Gives the `n` oldest blocks of a lane back. Settles first: the engine
   * counts a returned block as a free block leaving its loose count, which
   * holds only once the frees that put it on the stack are applied.
   */
  #giveBack(lane: Lane, n: number): void {
    if (this.pending) this.settle();
    const status = this.#S.lmm_front_return_f64(this.#handle, lane.family, lane.stack, n);
    unwrap(status, "lmm_front_return_f64");
    lane.stack.copyWithin(0, n, lane.top);
    lane.top -= n;
  }

  /** Borrows blocks from the engine; false when it has none to lend here. */
  #refill(lane: Lane): boolean {
    const m = this.#memory;
    const n = this.#S.lmm_front_refill_f64(
      this.#handle,
      lane.family,
      lane.stack,
      Math.min(REFILL, lane.stack.length),
    );
    if (n <= 0) return false; // out of memory or poisoned: the engine path says so
    // Blocks outside the first arena, or past its first 2 GiB (where offsets
    // stop being int32), are not served here: give them back.
    let kept = 0;
    const outside: number[] = [];
    for (let k = 0; k < n; k++) {
      const a = lane.stack[k];
      const off = a - m.base;
      if (off >= 64 && a + lane.unit <= m.end && off + lane.unit < 2 ** 31) lane.stack[kept++] = a;
      else outside.push(a);
    }
    if (outside.length > 0) {
      unwrap(
        this.#S.lmm_front_return_f64(
          this.#handle,
          lane.family,
          new Float64Array(outside),
          outside.length,
        ),
        "lmm_front_return_f64",
      );
    }
    // Hand out the lowest address first, as worst fit would have carved them.
    lane.stack.subarray(0, kept).reverse();
    lane.top = kept;
    return kept > 0;
  }
}

/** `n` rounded up to `alignment` (a power of two; `n` below 2^31). */
function alignUp(n: number, alignment: number): number {
  return (n + alignment - 1) & -alignment;
}
