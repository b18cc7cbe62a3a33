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
 * ## Speed
 * `Heap.alloc`, `allocBytes` and `free` are small wrappers around
 * `allocFamily`, `allocBytes` (then `take`) and `free` here, which do all
 * the checks, so that V8 inlines the whole path into the caller: it
 * inlines a function of up to 460 bytes of bytecode, about 920 in all into
 * one optimized function, and a call it leaves costs about 4 ns per
 * operation (measured in a loop of alloc+free pairs). These are written
 * for size: the ABI constants as literals (a module binding is a load and
 * a hole check), few locals (above 15 registers the bytecode widens), no
 * counter that follows from others (a lane's net block bytes are `unit` ×
 * (allocs − frees), its running requested bytes are its net, its hard
 * bytes follow from the aligned ones). `take` and `free` are about 390 and
 * 500 bytes: one of `alloc` and `free` is inlined into a loop that does
 * both, the other stays a call.
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

// `take` and `free` write these ABI values as literals (a module binding is
// a load and a hole check in optimized code, and bytecode V8 counts).
if (
  STATE_CACHED << 2 !== 16 || HELD_BIT !== 0x200000 || SITE_LIMIT - 1 !== 0x1fffff ||
  PAGE_FAMILY_OFFSET !== 4
) {
  throw new Error("cache.ts: the literals of take and free differ from the ABI");
}

/** Blocks one refill asks for. */
const REFILL = 64;
/** State bits of a cached block's `link` word (bits 27–31: state, and two zeros). */
const CACHED_LINK = STATE_CACHED << 2;
/**
 * Blocks of this size and more are zeroed with `fill()`, smaller ones with
 * 8-byte stores. `allocBytes(n)` + `free` pairs in a loop, ns with stores /
 * with `fill()`: 128 B 30–33 / 35–36, 256 B 33–36 / 35–38, 384 B 39–41 /
 * 37, 512 B 41–45 / 37–38, 1024 B 57–59 / 39–49, 2048 B 85–88 / 44–46.
 */
const FILL_FROM = 384;
const imul = Math.imul;

/** One family's stack and what it did since the last settle. */
export class Lane {
  // `declare`: no field definition as `undefined` before the constructor's
  // assignment, which would leave V8 with untyped fields (see arena.ts).
  declare readonly family: number;
  /** Block size it serves. */
  declare readonly unit: number;
  declare readonly alignment: number;
  /** `alignment - 1`. */
  declare readonly a1: number;
  /** Addresses of the blocks it holds, the next on top. */
  declare readonly stack: Float64Array;
  /** Its family's struct size (what `Heap.alloc` of one structure asks for). */
  declare readonly size: number;
  top = 0;
  allocs = 0;
  frees = 0;
  /**
   * Net requested bytes since the last settle, which is also their running
   * total for the peak (the net of block sizes is `unit` × (allocs − frees)).
   */
  netApp = 0;
  /**
   * Net requested bytes rounded up to the alignment (the hard-fragmentation
   * delta is `unit` × (allocs − frees) − this).
   */
  netAligned = 0;
  peak = 0;

  constructor(
    family: number,
    unit: number,
    alignment: number,
    capacity: number,
    size: number,
  ) {
    this.family = family;
    this.unit = unit;
    this.alignment = alignment;
    this.a1 = alignment - 1;
    this.stack = new Float64Array(capacity);
    this.size = size;
  }
}

/** The TypeScript tier of one heap. Holds no reference to the `Heap`. */
export class FrontCache {
  readonly #S: LmmSymbols;
  readonly #handle: Deno.PointerObject;
  readonly #memory: ArenaMemory;
  /** The first arena's address. */
  declare readonly base: number;
  /** Bytes of the first arena this tier serves from (offsets are below it); 0 once stopped. */
  #span: number;
  /** `#span - 64`: an offset `off` is served when `off - 64` is below it (unsigned). */
  #limit: number;
  /**
   * What `free` reads of the memory (see ArenaMemory; fixed until the heap
   * closes, then empty: a view kept here would keep the arena mapped).
   */
  #words: Int32Array;
  readonly #key: number;
  readonly #baseG: number;
  /** `-pageSize`. */
  readonly #pageMask: number;
  /** Largest untyped request a size class serves. */
  readonly #maxClass: number;
  /** By family id (undefined: no front unit). Emptied when poisoned. */
  readonly lanes: (Lane | undefined)[] = [];
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
    this.base = memory.base;
    // Offsets stay int32: blocks past the first 2 GiB are not served here.
    this.#span = Math.min(memory.end - memory.base, 2 ** 31 - 8);
    this.#limit = this.#span - 64;
    this.#words = memory.words;
    this.#key = memory.key;
    this.#baseG = memory.baseG;
    this.#pageMask = -memory.pageSize;
    this.#maxClass = maxClass;
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
    this.stop();
  }

  /** Serves nothing more (the heap is closing or poisoned): every call gets false or 0. */
  stop(): void {
    this.lanes.length = 0;
    this.#span = this.#limit = 0;
    this.#words = new Int32Array(0);
  }

  /**
   * Makes `family` a lane of this tier when it has a front unit.
   *
   * @param size Its struct size.
   */
  addFamily(family: number, unit: number, alignment: number, size: number): void {
    if (unit === 0 || this.#poisoned) return;
    const capacity = Math.max(16, Math.min(1024, 65536 / unit)) * 2;
    // A struct fits its family's unit: int32.
    const lane = new Lane(family, unit, alignment, capacity, size | 0);
    this.lanes[family] = lane;
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
    return this.lanes[family] !== undefined;
  }

  /**
   * A zeroed block of `family` for `requested` bytes (at most its unit), or
   * -1 when none can be had here (the caller asks the engine).
   */
  alloc(family: number, requested: number): number {
    const lane = this.lanes[family];
    if (lane === undefined) return -1;
    const a = this.take(lane, requested);
    return a > 0 ? a : -1;
  }

  /**
   * `Heap.alloc(family)` of one structure: a zeroed block's address, or 0
   * when `family` is not the heap's family object of a lane (`families`: the
   * heap's, by id) or none can be had here. This tier holds no family
   * object: one reaches its heap (a WeakMap says which heap made it), and
   * the heap's finalizer holds this tier.
   */
  allocFamily(family: unknown, families: readonly unknown[]): number {
    if (typeof family !== "object" || family === null) return 0;
    const id = (family as { id: number }).id;
    const lane = this.lanes[id];
    return lane !== undefined && families[id] === family ? this.take(lane, lane.size) : 0;
  }

  /**
   * `Heap.allocBytes(n)`: a zeroed block's address, or 0 when `n` is not an
   * integer from 1 to the largest size class, its class is not known yet or
   * no block can be had here.
   */
  allocBytes(n: number): number {
    if (typeof n !== "number" || !(n > 0 && n <= this.#maxClass && (n | 0) === n)) return 0;
    const id = this.#classOf[(n + 15) >>> 4];
    const lane = id > 0 ? this.lanes[id] : undefined;
    return lane === undefined ? 0 : this.take(lane, n);
  }

  /**
   * Hands out a block of `lane` for `requested` bytes (at most its unit):
   * its address, zeroed, or 0 when none can be had here.
   */
  take(lane: Lane, requested: number): number {
    if (lane.top === 0 && !this.#refill(lane)) return 0;
    const a = lane.stack[--lane.top];
    const m = this.#memory;
    const words = m.words;
    // Offsets this tier keeps are below 2^31 (see #refill): int32 arithmetic.
    const off = (a - this.base) | 0;
    const i = (off - 16) >> 2;
    const unit = lane.unit;
    // A block this tier took in: its header was checked then; this notices
    // a write since — past the block before (size changes first) or stale:
    // its size, the state CACHED (16), the held bit (bit 21) clear.
    if (words[i] !== unit >>> 3 || words[i + 1] >>> 27 !== 16 || (words[i + 2] >> 21 & 1) !== 0) {
      return this.#damaged(a);
    }
    if (unit < FILL_FROM) {
      const f64 = m.f64;
      for (let k = off >> 3, end = k + (unit >> 3); k < end; k++) f64[k] = 0;
    } else m.bytes.fill(0, off, off + unit);
    words[i + 2] = (unit - requested) << 22 | 1 << 21;
    const a1 = lane.a1;
    lane.allocs++;
    lane.netAligned += requested + a1 & ~a1;
    const net = lane.netApp += requested;
    if (net > lane.peak) lane.peak = net;
    const running = this.#running += requested;
    if (running > this.#peak) this.#peak = running;
    this.pending = true;
    return a;
  }

  /** The header of a block on a stack was written since it came here: poison. */
  #damaged(a: number): number {
    this.#S.lmm_validate_f64(this.#handle, a); // the engine finds the damage and poisons
    this.poison();
    return 0;
  }

  /**
   * Takes back a block this tier handed out; false when `address` is not
   * one (the caller asks the engine, which says what it is).
   */
  free(address: number): boolean {
    // A number first: `-` would call a valueOf, or throw for a Symbol or BigInt.
    if (typeof address !== "number") return false;
    const d = address - this.base;
    const off = d | 0;
    // An int32 offset (only those are served), 8-aligned, past the first meta block.
    if (off !== d || off & 7 || (off - 64 >>> 0) >= this.#limit) return false;
    const words = this.#words;
    const i = off - 16 >> 2;
    const w1 = words[i + 1];
    const w2 = words[i + 2];
    // The state CACHED (16) and the held bit (bit 21) set.
    if (w1 >>> 27 !== 16 || (w2 >> 21 & 1) === 0) return false;
    const w0 = words[i];
    // sealGranule(key, granule, w0, w1, w2 & (SITE_LIMIT - 1)), inlined by hand.
    let x = imul(this.#key ^ (this.#baseG + (off - 16 >>> 3) | 0) ^ w0, 0x9E3779B1);
    x = imul(x ^ x >>> 15 ^ w1, 0x9E3779B1);
    x = imul(x ^ x >>> 15 ^ w2 << 11 >>> 11, 0x9E3779B1);
    x ^= x >>> 15;
    x = imul(x ^ x >>> 13, 0x85EBCA6B);
    if ((x ^ x >>> 16) !== words[i + 3]) return false;
    // The page header's family id (PAGE_FAMILY_OFFSET 4).
    const lane = this.lanes[words[(off & this.#pageMask) + 4 >> 2]];
    if (lane === undefined || lane.unit !== w0 * 8) return false;
    words[i + 2] = 0;
    const top = lane.top === lane.stack.length ? this.#giveBack(lane) : lane.top;
    lane.stack[top] = address;
    lane.top = top + 1;
    // The requested bytes: the unit less the slack.
    x = lane.unit - (w2 >>> 22);
    lane.frees++;
    lane.netAligned -= x + lane.a1 & ~lane.a1;
    lane.netApp -= x;
    this.#running -= x;
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
    lane.netAligned += alignUp(requested, lane.alignment) - alignUp(old, lane.alignment);
    if (lane.netApp > lane.peak) lane.peak = lane.netApp;
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
    const lane = this.lanes[words[((off & -m.pageSize) + PAGE_FAMILY_OFFSET) >> 2]];
    return lane !== undefined && lane.unit === words[i] * 8 ? lane : undefined;
  }

  /** Tells the engine what this tier did since the last settle. */
  settle(): void {
    if (!this.pending) return;
    // A lane whose only change is a resize in place has deltas too.
    const lanes = this.#active.filter((l) =>
      l.allocs !== 0 || l.frees !== 0 || l.netApp !== 0 || l.netAligned !== 0 || l.peak !== 0
    );
    const buf = new Uint8Array(FrontDelta.SIZE * (lanes.length + 1));
    const v = new DataView(buf.buffer);
    lanes.forEach((l, k) => {
      const o = k * FrontDelta.SIZE;
      v.setUint32(o + FrontDelta.family, l.family, true);
      v.setBigUint64(o + FrontDelta.allocs, BigInt(l.allocs), true);
      v.setBigUint64(o + FrontDelta.frees, BigInt(l.frees), true);
      const netSize = l.unit * (l.allocs - l.frees);
      v.setBigInt64(o + FrontDelta.net_size, BigInt(netSize), true);
      v.setBigInt64(o + FrontDelta.net_app, BigInt(l.netApp), true);
      v.setBigInt64(o + FrontDelta.net_hard, BigInt(netSize - l.netAligned), true);
      v.setBigInt64(o + FrontDelta.peak_app, BigInt(l.peak), true);
    });
    const o = lanes.length * FrontDelta.SIZE;
    v.setUint32(o + FrontDelta.family, ALL_FAMILIES, true);
    v.setBigInt64(o + FrontDelta.peak_app, BigInt(this.#peak), true);
    unwrap(this.#S.lmm_front_settle(this.#handle, buf, lanes.length + 1), "lmm_front_settle");
    for (const l of lanes) {
      l.allocs =
        l.frees =
        l.netApp =
        l.netAligned =
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
  #giveBack(lane: Lane, n: number = lane.top >>> 1): number {
    if (this.pending) this.settle();
    const status = this.#S.lmm_front_return_f64(this.#handle, lane.family, lane.stack, n);
    unwrap(status, "lmm_front_return_f64");
    lane.stack.copyWithin(0, n, lane.top);
    return lane.top -= n;
  }

  /** Borrows blocks from the engine; false when it has none to lend here. */
  #refill(lane: Lane): boolean {
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
      const off = a - this.base;
      if (off >= 64 && off + lane.unit <= this.#span) lane.stack[kept++] = a;
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
