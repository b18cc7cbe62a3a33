/**
 * `Heap`: one LMM heap — its families, its blocks, its statistics.
 *
 * Addresses are plain numbers (x86-64 user addresses are below 2^47, exact
 * in a double) and cross the FFI boundary through the `lmm_*_f64` functions,
 * which keep V8's fast call path. Every argument is validated here before it
 * reaches native code, and the engine validates it again.
 *
 * Cost of the main operations (n = free blocks of the family):
 *
 * | operation              | cost                                       |
 * | ---------------------- | ------------------------------------------ |
 * | `alloc`, `free`        | O(log n) + one FFI call (~tens of ns)       |
 * | `realloc`              | O(log n) + copy when the block moves        |
 * | `sizeOf`, `bytes`, `view` | O(1), no FFI call: the meta block is read and verified in TypeScript |
 * | `familyOf`, `blockInfo` | O(1), one FFI call                        |
 * | `alloc` + `trackSites` | + a stack capture (~2 µs) when recorded     |
 * | `stats`, `blocks`, `leaks`, `check`, `report` | O(blocks)            |
 *
 * @module
 */

import { describe, hex, LmmError, Status, statusCode, statusMessage, unwrap } from "./errors.ts";
import {
  ALL_FAMILIES,
  BLOCK_FREE,
  BlockInfo as BlockInfoLayout,
  BlockRecord,
  BYTES_FAMILY,
  Config,
  DEFAULT_PAGE_CACHE,
  DEFAULT_PAGE_SIZE,
  DEFAULT_RESERVE,
  FamilyInfo,
  HEAP_EXACT,
  HEAP_KEEP_ARENAS,
  HEAP_NO_LOCK,
  MAX_BYTES,
  MAX_CLASS,
  PageInfo,
  Stats,
} from "./native/abi.ts";
import { lib } from "./native/loader.ts";
import { type ArenaLife, ArenaMemory, releaseArenas, type Window } from "./arena.ts";
import { FrontCache } from "./cache.ts";
import { bindLayout, type BoundLayout } from "./accessors.ts";
import {
  type CDeclarationOptions,
  Layout,
  type LayoutInput,
  type LayoutSpec,
  type LayoutValue,
} from "./layout.ts";
import { type HeapEntry, openHeaps } from "./registry.ts";
import {
  heapClosing,
  heapCollected,
  heapLeaks,
  heapOpened,
  planHeap,
  singleHeapReport,
} from "./report/process.ts";
import type { FamilyStats, LeaksReport, Report, TotalsStats } from "./report_types.ts";
import { listRecords, type RawStats, readStats, statsFields, u64 } from "./records.ts";
import { frameSite, type SiteMode, type SiteTracker, stackFrames } from "./sites.ts";
import type { LmmSymbols } from "./native/symbols.ts";
import { checkLabel, closedError, encodeName, errorOf, isAddress, unitsError } from "./validate.ts";

/**
 * Options of `new Heap()`.
 *
 * @example Small pages, sites recorded
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ pageSize: 4096, pageCache: 0, trackSites: true, label: "demo" });
 * assert.equal(heap.pageSize, 4096);
 * assert.equal(heap.trackSites, true);
 * ```
 */
export interface HeapOptions {
  /** VM page size in bytes: a power of two from 4 KiB to 1 GiB (default 64 KiB). */
  pageSize?: number;
  /** Empty VM pages kept for reuse instead of being given back (default 4; 0 = none). */
  pageCache?: number;
  /**
   * Address space of the heap's first arena in bytes (default 4 GiB). It
   * costs no memory; a heap that outgrows it continues in further arenas.
   * Every address of the first arena is in `heap.memory`.
   */
  reserve?: number;
  /**
   * The classic heap, block for block: no caches in front of worst fit, no
   * size classes for untyped memory, no idle pages (`pageCache` is
   * ignored). Slower; for teaching, comparison and the classic API. Default
   * false: freed blocks of a family's size are reused at once (in TypeScript,
   * without a native call) and untyped requests up to 4 KiB share pages with
   * requests of their size class.
   */
  exact?: boolean;
  /**
   * Record the call stack that allocated each block, for `leaks()` and
   * reports: `true` or `"all"` every allocation (a few µs each), `"sample"`
   * a byte-weighted sample (a block of `s` bytes with probability
   * 1 − e^(−s/sampleInterval)), `false` or `"none"` none. Unset: as
   * `LMM_SITES` says (`lmm run --sites`), else `"sample"` when `LMM_REPORT`
   * is set, else none.
   */
  trackSites?: boolean | SiteMode;
  /** Frames per recorded stack, 1–64 (default 8); LMM's own frames are not counted. */
  stackDepth?: number;
  /** `"sample"` mode: mean bytes allocated between two recorded stacks (default 64 KiB). */
  sampleInterval?: number;
  /** A label shown in reports: up to 63 bytes of UTF-8, no control characters (checked like a family name). */
  label?: string;
}

/**
 * A page family: a structure registered by name and size. Family objects
 * belong to the heap that made them; id 0 is the untyped family `"bytes"`.
 *
 * @example Register a family
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * const emp = heap.register("emp_t", 36);
 * assert.deepEqual({ ...emp }, { id: 1, name: "emp_t", structSize: 36 });
 * ```
 */
export interface Family {
  /** Dense id: 0 is "bytes", then 1, 2, … in registration order. */
  readonly id: number;
  /** Registered name. */
  readonly name: string;
  /** Size of one structure in bytes. */
  readonly structSize: number;
}

/**
 * What `heap.blockInfo(address)` tells about a live block.
 *
 * @example Inspect a block
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * const info = heap.blockInfo(heap.allocBytes(10));
 * assert.equal(info.requested, 10);
 * assert.equal(info.family.name, "bytes");
 * assert.equal(info.site, null);
 * ```
 */
export interface BlockInfo {
  /** Data bytes of the block: at least `requested` (alignment, a remainder too small to split off). */
  size: number;
  /** Bytes asked for (units × struct size): what `sizeOf`, `bytes` and `view` cover. */
  requested: number;
  /** Units asked for. */
  units: number;
  /** The block's family. */
  family: Family;
  /** Allocation site (`file:line`), or `null` when not tracked. */
  site: string | null;
}

/**
 * One data block, as `heap.blocks()` lists it.
 *
 * @example The first block of a page
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * const p = heap.allocBytes(32);
 * const block = heap.blocks()[0].blocks[0];
 * assert.equal(block.address, p);
 * assert.equal(block.requested, 32);
 * assert.equal(block.free, false);
 * ```
 */
export interface HeapBlock {
  /** Address of the data (what `alloc` returned). */
  address: number;
  /** Offset of the data from the page base. */
  offset: number;
  /** Data bytes of the block. */
  size: number;
  /** Bytes asked for (0 when free). */
  requested: number;
  /** Whether the block is free. */
  free: boolean;
  /** Allocation site (`file:line`), or `null`. */
  site: string | null;
}

/**
 * One VM page with its blocks in address order.
 *
 * @example A page and its blocks
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ pageSize: 4096 });
 * heap.allocBytes(32);
 * const [page] = heap.blocks();
 * assert.equal(page.size, 4096);
 * assert.equal(page.family.name, "bytes/32"); // untyped requests share pages of their size class
 * assert.equal(page.blocks.length, 2); // the block and the free rest
 * ```
 */
export interface HeapPage {
  /** Page base address. */
  base: number;
  /** Bytes mapped. */
  size: number;
  /** Family owning the page. */
  family: Family;
  /** Free blocks in the page. */
  freeBlocks: number;
  /** Data bytes of those blocks. */
  freeBytes: number;
  /** Largest free block of the page. */
  largestFree: number;
  /** Every data block, in address order. */
  blocks: HeapBlock[];
}

/**
 * What `heap.stats()` returns: heap totals and per-family figures.
 *
 * @example Totals and one family
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * const node = heap.register("node_t", 24);
 * heap.alloc(node, 2);
 * const { totals, families } = heap.stats();
 * assert.equal(totals.appBytes, 48);
 * assert.equal(families[node.id].occupiedBlocks, 1);
 * ```
 */
export interface HeapStats {
  /** Totals of the whole heap. */
  totals: TotalsStats;
  /** Per family, in id order ("bytes" first). */
  families: FamilyStats[];
}

const CHECK_MESSAGE_CAP = 512;

let nextHeapId = 1;
let S: LmmSymbols;

/**
 * Heaps to destroy when their `Heap` is garbage collected: their live
 * blocks are reported first (the held value reaches the handle and the
 * arenas, never the `Heap`); the arenas go once no view reaches them.
 */
const finalizer = new FinalizationRegistry<
  { entry: HeapEntry; arenas: ArenaLife[]; front: FrontCache | null }
>(
  ({ entry, arenas, front }) => {
    try {
      front?.settle(); // the statistics the report reads include what the cache did
    } catch {
      // a poisoned heap: reported as it is
    }
    heapCollected(entry);
    S.lmm_heap_release(entry.handle);
    releaseArenas(arenas);
  },
);

/**
 * What makes a heap's figures exact and coalesced before they are read: the
 * TypeScript tier settles and gives its blocks back, the engine's front
 * caches give theirs back to worst fit. A poisoned heap is left as it is
 * (its readers say so). Holds the handle and the cache, never the `Heap`.
 */
function quiescer(front: FrontCache | null, handle: Deno.PointerObject): () => void {
  if (front === null) return () => {};
  return (): void => {
    try {
      front.flush();
    } catch (e) {
      if (e instanceof LmmError && (e.code === "POISONED" || e.code === "CORRUPTED")) return;
      throw e;
    }
    const status = S.lmm_front_flush(handle);
    if (status !== 0 && status !== Status.POISONED && status !== Status.CORRUPTED) {
      unwrap(status, "lmm_front_flush");
    }
  };
}

/**
 * The memory of a heap's first arena, for code that reads and writes it
 * without a call per access: `view.getFloat64(address - base, true)`.
 * Every block of a heap whose data fits its `reserve` lies in it; `locate`
 * finds any address of the heap.
 */
export interface HeapMemory {
  /** A DataView over the arena; offset 0 is address `base`. */
  readonly view: DataView;
  /** The same bytes. */
  readonly bytes: Uint8Array;
  /** Address of the arena's first byte. */
  readonly base: number;
  /** Address one past its last byte (equal to `base` once the heap is closed). */
  readonly end: number;
  /** The arena holding `[address, address + size)`, for addresses outside the first. */
  locate(address: number, size: number): Window;
}

/**
 * A heap of VM pages, split into blocks served worst fit per page family.
 * Memory is native (outside the JS heap), zeroed on allocation and freed
 * deterministically with `free()` or all at once with `close()`.
 *
 * Every operation on a closed heap throws `LmmError` with code `"CLOSED"`.
 * A heap that becomes unreachable without `close()` is destroyed by a
 * finalizer, as a backstop.
 *
 * @example Allocate, write, free
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap({ trackSites: true });
 * const point = heap.register("point_t", 16);
 * const p = heap.alloc(point, 4); // 4 × 16 bytes, zeroed
 * heap.view(p).setFloat64(0, 1.5, true);
 * assert.equal(heap.sizeOf(p), 64); // the bytes asked for
 * assert.equal(heap.stats().families[point.id].occupiedBlocks, 1);
 * heap.free(p);
 * heap.check();
 * ```
 */
export class Heap {
  #handle: Deno.PointerObject | null;
  readonly #memory: ArenaMemory;
  readonly #id: number;
  readonly #label: string;
  readonly #pageSize: number;
  /** Families by id, and the largest unit count each can be asked for. */
  readonly #families: Family[] = [];
  readonly #maxUnits: number[] = [];
  readonly #byName = new Map<string, Family>();
  /** What reports know of this heap, and its stack recorder (null: none). */
  readonly #entry: HeapEntry;
  /** The TypeScript tier (null for an exact heap). */
  readonly #front: FrontCache | null;
  /**
   * `#front` while `alloc`, `allocBytes` and `free` may try it first (the
   * heap is open and records no stacks); else null.
   */
  #fast: FrontCache | null;
  readonly #tracker: SiteTracker | null;
  /** Reused output buffers. */
  readonly #statsBuffer = new Uint8Array(Stats.SIZE);
  readonly #u32Out = new Uint32Array(1);
  readonly #u32OutBytes = new Uint8Array(this.#u32Out.buffer);

  /**
   * Creates a heap (and loads the native library on first use).
   *
   * @param options Page size, page cache, `trackSites` (with `stackDepth`,
   *   `sampleInterval`), label.
   * @throws {LmmError} `BAD_CONFIG` (a bad page size, page cache, reserve
   *   or `trackSites`), `BAD_NAME` / `NAME_TOO_LONG` (a bad label), `NOMEM`.
   */
  constructor(options: HeapOptions = {}) {
    S = lib();
    if (typeof options !== "object" || options === null) {
      throw new LmmError(
        "BAD_CONFIG",
        `new Heap(): options ${describe(options)} is not an object`,
        {
          status: Status.BAD_CONFIG,
        },
      );
    }
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    if (
      !Number.isInteger(pageSize) || pageSize < 4096 || pageSize > 2 ** 30 ||
      (pageSize & (pageSize - 1)) !== 0
    ) {
      throw new LmmError(
        "BAD_CONFIG",
        `new Heap(): pageSize ${describe(pageSize)} is not a power of two from 4096 to 2^30`,
        { status: Status.BAD_CONFIG },
      );
    }
    const pageCache = options.pageCache ?? DEFAULT_PAGE_CACHE;
    if (!Number.isInteger(pageCache) || pageCache < 0 || pageCache > 0xffff_ffff) {
      throw new LmmError(
        "BAD_CONFIG",
        `new Heap(): pageCache ${describe(pageCache)} is not an integer from 0 to 2^32 - 1`,
        { status: Status.BAD_CONFIG },
      );
    }
    const reserve = options.reserve ?? DEFAULT_RESERVE;
    if (!Number.isInteger(reserve) || reserve < 1 || reserve > MAX_BYTES) {
      throw new LmmError(
        "BAD_CONFIG",
        `new Heap(): reserve ${describe(reserve)} is not an integer from 1 to 2^46`,
        { status: Status.BAD_CONFIG },
      );
    }
    const plan = planHeap(options);
    const label = checkLabel(options.label);
    const config = new Uint8Array(Config.SIZE);
    const view = new DataView(config.buffer);
    S.lmm_config_default(config);
    view.setBigUint64(Config.page_size, BigInt(pageSize), true);
    view.setUint32(Config.page_cache, pageCache, true);
    view.setBigUint64(Config.reserve, BigInt(reserve), true);
    // A Heap belongs to one isolate and its handle never leaves this object,
    // so one thread at a time uses it: the engine's lock can be skipped. Its
    // arenas outlive it until no view can reach them (see arena.ts).
    const exact = options.exact ?? false;
    if (typeof exact !== "boolean") {
      throw new LmmError("BAD_CONFIG", `new Heap(): exact ${String(exact)} is not a boolean`, {
        status: Status.BAD_CONFIG,
      });
    }
    view.setUint32(
      Config.flags,
      HEAP_NO_LOCK | HEAP_KEEP_ARENAS | (exact ? HEAP_EXACT : 0),
      true,
    );
    const out = new BigUint64Array(1);
    unwrap(
      S.lmm_heap_create(config, new Uint8Array(out.buffer)),
      "new Heap()",
    );
    const handle = Deno.UnsafePointer.create(out[0]);
    if (handle === null) {
      throw new LmmError("BAD_HANDLE", "new Heap(): the engine returned NULL", {
        status: Status.BAD_HANDLE,
      });
    }
    this.#handle = handle;
    try {
      this.#memory = new ArenaMemory(S, handle);
    } catch (e) {
      S.lmm_heap_release(handle);
      throw e;
    }
    this.#front = exact ? null : new FrontCache(S, handle, this.#memory, MAX_CLASS);
    this.#id = nextHeapId++;
    this.#label = label;
    this.#pageSize = pageSize;
    this.#loadFamilies();
    this.#entry = heapOpened(this, { id: this.#id, label: this.#label, pageSize, handle, plan });
    this.#entry.quiesce = quiescer(this.#front, handle);
    this.#tracker = this.#entry.tracker;
    this.#fast = this.#tracker === null ? this.#front : null;
    finalizer.register(
      this,
      { entry: this.#entry, arenas: this.#memory.lives, front: this.#front },
      this,
    );
  }

  /** Process-wide heap number, from 1. */
  get id(): number {
    return this.#id;
  }

  /** The label given at creation ("" when none). */
  get label(): string {
    return this.#label;
  }

  /** VM page size in bytes. */
  get pageSize(): number {
    return this.#pageSize;
  }

  /** Whether allocation stacks are recorded (all or sampled). */
  get trackSites(): boolean {
    return this.#tracker !== null && this.#tracker.settings.mode !== "none";
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#handle === null;
  }

  /**
   * The heap's memory as one DataView (its first arena), for hot loops that
   * read and write blocks without a call per access. Views made from it
   * stay safe to use after `free()` and `close()`: the range stays mapped
   * (reading zeros or old data) until no view can reach it.
   *
   * @example Write a block through the heap's memory
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const p = heap.allocBytes(16);
   * const { view, base } = heap.memory;
   * view.setFloat64(p - base, 2.5, true);
   * assert.equal(heap.view(p).getFloat64(0, true), 2.5);
   * ```
   */
  get memory(): HeapMemory {
    return this.#memory;
  }

  // ── Families ─────────────────────────────────────────────────────────────

  /**
   * Registers a structure as a page family: by its size, or by its C layout
   * (fields and their types; offsets, padding and size follow the C rules of
   * x86-64 and aarch64 Linux), which gives the family field accessors.
   *
   * @example Register by size and allocate by name
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const emp = heap.register("emp_t", 36);
   * assert.equal(emp.structSize, 36);
   * assert.equal(heap.family("emp_t"), emp);
   * heap.free(heap.alloc("emp_t"));
   * ```
   *
   * @example Register a C layout and use its fields
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const emp = heap.register("emp_t", { id: "u32", salary: "f64", name: "char[32]", boss: "pointer" });
   * assert.equal(emp.size, 56); // what sizeof(emp_t) is in C
   * assert.equal(emp.offsetOf("salary"), 8);
   * const e = heap.alloc(emp);
   * emp.fields.id.set(e, 1001);
   * emp.fields.name.set(e, "Abhishek");
   * emp.write(e, { salary: 5000.5 });
   * assert.deepEqual(emp.read(e), { id: 1001, salary: 5000.5, name: "Abhishek", boss: 0 });
   * const team = heap.alloc(emp, 3); // a C array: emp.at(team, i) is &team[i]
   * assert.equal(emp.at(team, 2) - team, 2 * 56);
   * ```
   *
   * @param name 1–63 bytes of UTF-8, no control characters, not taken yet
   *   (a C identifier for a layout).
   * @param sizeOrLayout Structure size in bytes (1 to 2^32 − 1), or its fields.
   * @returns The new family.
   * @throws {LmmError} `BAD_NAME`, `NAME_TOO_LONG`, `DUPLICATE_NAME`,
   *   `ZERO_SIZE`, `BAD_SIZE`, `OVERFLOW`, `BAD_LAYOUT`, `CLOSED`.
   */
  register(name: string, size: number): Family;
  /**
   * Registers a structure by its C layout: a family with field accessors.
   *
   * @param name A C identifier of 1–63 bytes, not taken yet.
   * @param layout The fields in order, each a type (`"u32"`, `"f64"`,
   *   `"char[32]"`, `"u16[4]"`, `"pointer"`, …) or another layout family.
   * @returns The new family.
   * @throws {LmmError} `BAD_LAYOUT`, `DUPLICATE_NAME`, `OVERFLOW`, `CLOSED`.
   */
  register<const S extends LayoutSpec>(name: string, layout: S): LayoutFamily<S>;
  register(name: string, sizeOrLayout: number | LayoutSpec): Family {
    this.#live("register");
    let family: Family;
    if (typeof sizeOrLayout === "object" && sizeOrLayout !== null) {
      const layout = new Layout(name, sizeOrLayout);
      const context = `register(${describe(name)}, {…})`;
      family = this.#addFamily(
        this.#registerSize(name, layout.size, context),
        name,
        layout.size,
        layout,
      );
    } else {
      const context = `register(${describe(name)}, ${describe(sizeOrLayout)})`;
      family = this.#addFamily(this.#registerSize(name, sizeOrLayout, context), name, sizeOrLayout);
    }
    const info = new Uint8Array(FamilyInfo.SIZE);
    unwrap(S.lmm_family_info(this.#handle!, family.id, info), "lmm_family_info");
    this.#joinFront(family, info);
    return family;
  }

  /** Registers `name` with the engine; returns its id. */
  #registerSize(name: string, size: number, context: string): number {
    const h = this.#live("register");
    const bytes = encodeName(name, context);
    if (this.#byName.has(name)) {
      throw errorOf(Status.DUPLICATE_NAME, context);
    }
    if (!Number.isInteger(size) || size <= 0 || size > 0xffff_ffff) {
      throw errorOf(
        size === 0
          ? Status.ZERO_SIZE
          : Number.isInteger(size) && size > 0
          ? Status.OVERFLOW
          : Status.BAD_SIZE,
        context,
      );
    }
    unwrap(
      S.lmm_register(h, bytes, bytes.length, size, this.#u32OutBytes),
      context,
    );
    return this.#u32Out[0];
  }

  /**
   * The family registered under `name`.
   *
   * @example Look a family up
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * assert.equal(heap.family("bytes").id, 0);
   * ```
   *
   * @param name A registered name.
   * @returns The family.
   * @throws {LmmError} `UNKNOWN_FAMILY`, `CLOSED`.
   */
  family(name: string): Family {
    this.#live("family");
    const family = this.#byName.get(name);
    if (family === undefined) {
      throw errorOf(Status.UNKNOWN_FAMILY, `family(${describe(name)})`);
    }
    return family;
  }

  /**
   * Every family, in id order ("bytes" first).
   *
   * @example List families
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * heap.register("node_t", 24);
   * assert.deepEqual(heap.families().map((f) => f.name), ["bytes", "node_t"]);
   * ```
   *
   * @returns The families.
   */
  families(): Family[] {
    this.#live("families");
    return this.#families.filter((f) => !this.#classes.has(f.id));
  }

  // ── Allocation ───────────────────────────────────────────────────────────

  /**
   * Allocates zeroed memory for `units` structures of a family (`xcalloc`).
   *
   * @example Allocate structures
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * heap.register("emp_t", 36);
   * const a = heap.alloc("emp_t", 3);
   * assert.equal(heap.blockInfo(a).requested, 108);
   * assert.equal(heap.bytes(a)[0], 0);
   * heap.free(a);
   * ```
   *
   * @param family A family of this heap, or its name.
   * @param units How many structures (a positive integer; default 1).
   * @returns The block's address.
   * @throws {LmmError} `UNKNOWN_FAMILY`, `FOREIGN_HEAP` (a family of another
   *   heap), `BAD_SIZE`, `ZERO_SIZE`, `OVERFLOW`, `NOMEM`, `CLOSED`.
   */
  alloc(family: Family | string, units: number = 1): number {
    // The TypeScript tier first, in as few bytes of bytecode as can be: V8
    // inlines this into the caller (see cache.ts). It serves one structure
    // of this heap's own family object, which is all the checks below.
    const fast = this.#fast;
    const a = fast !== null && units === 1 ? fast.allocFamily(family, this.#families) : 0;
    return a > 0 ? a : this.#allocSlow(family, units);
  }

  /** `alloc` without the TypeScript tier's first try. */
  #allocSlow(family: Family | string, units: number): number {
    const h = this.#handle;
    if (h === null) throw closedError("alloc");
    const f = typeof family === "string" ? this.#byName.get(family) : family;
    if (typeof f !== "object" || f === null || this.#families[f.id] !== f) {
      throw this.#familyError(family, "alloc");
    }
    if (
      typeof units !== "number" ||
      !(units > 0 && units <= this.#maxUnits[f.id] && Number.isInteger(units))
    ) {
      throw unitsError(units, `alloc(${f.name}, ${describe(units)})`);
    }
    const t = this.#tracker;
    const site = t === null ? 0 : t.sample(units * f.structSize);
    const front = this.#front;
    if (front !== null) {
      if (site === 0 && units === 1 && front.serves(f.id)) {
        const a = front.alloc(f.id, f.structSize);
        if (a > 0) return a;
      }
      if (front.pending) front.settle(); // the engine's peak figures see the cache's work
    }
    const address = S.lmm_alloc_f64(h, f.id, units, site);
    if (address < 0) throw this.#damaged(errorOf(-address, `alloc(${f.name}, ${units})`));
    if (site !== 0) t!.record(address, Heap.prototype.alloc);
    return address;
  }

  /**
   * Allocates `n` zeroed bytes of untyped memory (family "bytes").
   *
   * @example Untyped memory
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const p = heap.allocBytes(100);
   * assert.equal(heap.familyOf(p).name, "bytes");
   * heap.free(p);
   * ```
   *
   * @param n Bytes, a positive integer.
   * @returns The block's address.
   * @throws {LmmError} `BAD_SIZE`, `ZERO_SIZE`, `OVERFLOW`, `NOMEM`, `CLOSED`.
   */
  allocBytes(n: number): number {
    const fast = this.#fast;
    const a = fast !== null ? fast.allocBytes(n) : 0;
    return a > 0 ? a : this.#allocBytesSlow(n);
  }

  /** `allocBytes` without the TypeScript tier's first try. */
  #allocBytesSlow(n: number): number {
    const h = this.#handle;
    if (h === null) throw closedError("allocBytes");
    if (typeof n !== "number" || !(n > 0 && n <= MAX_BYTES && Number.isInteger(n))) {
      throw unitsError(n, `allocBytes(${describe(n)})`);
    }
    const t = this.#tracker;
    const site = t === null ? 0 : t.sample(n);
    const front = this.#front;
    if (front !== null) {
      if (site === 0 && n <= MAX_CLASS) {
        const id = front.classFamily(n);
        if (id > 0) {
          if (!front.serves(id)) this.#familyById(id); // loads it, and its lane
          const a = front.alloc(id, n);
          if (a > 0) return a;
        }
      }
      if (front.pending) front.settle();
    }
    const address = S.lmm_alloc_f64(h, BYTES_FAMILY, n, site);
    if (address < 0) throw this.#damaged(errorOf(-address, `allocBytes(${n})`));
    if (site !== 0) t!.record(address, Heap.prototype.allocBytes);
    return address;
  }

  /**
   * Resizes a block to `units` structures of its family. Grown bytes are
   * zeroed; the block may move, so use the returned address.
   *
   * @example Grow a block
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * let p = heap.allocBytes(8);
   * heap.bytes(p)[0] = 42;
   * p = heap.realloc(p, 4096);
   * assert.equal(heap.bytes(p)[0], 42);
   * assert.equal(heap.bytes(p)[4095], 0);
   * heap.free(p);
   * ```
   *
   * @param address Start of a live block of this heap.
   * @param units New number of structures (a positive integer).
   * @returns The block's (possibly new) address.
   * @throws {LmmError} `BAD_ADDRESS`, `NOT_OWNED`, `INTERIOR`, `DOUBLE_FREE`,
   *   `FOREIGN_HEAP`, `BAD_SIZE`, `ZERO_SIZE`, `OVERFLOW`, `NOMEM`, `CLOSED`.
   */
  realloc(address: number, units: number): number {
    const h = this.#handle;
    if (h === null) throw closedError("realloc");
    const context = `realloc(${hex(address)}, ${describe(units)})`;
    if (!isAddress(address)) throw errorOf(Status.BAD_ADDRESS, context);
    if (
      typeof units !== "number" || !(units > 0 && units <= MAX_BYTES && Number.isInteger(units))
    ) {
      throw unitsError(units, context);
    }
    const front = this.#front;
    if (front !== null && front.holds(address)) return this.#reallocHeld(front, address, units);
    if (front?.pending) front.settle();
    const result = S.lmm_realloc_f64(h, address, units);
    if (result < 0) throw this.#addressError(-result, address, context);
    if (result !== address) this.#tracker?.moved(address, result);
    return result;
  }

  /**
   * Gives a block back. Freeing twice, an address never given out, an
   * interior address or another heap's address throws and changes nothing.
   *
   * @example Free and detect a double free
   * ```ts
   * import { Heap, LmmError } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const p = heap.allocBytes(32);
   * heap.free(p);
   * assert.throws(() => heap.free(p), (e) => e instanceof LmmError && e.code === "DOUBLE_FREE");
   * ```
   *
   * @param address Start of a live block of this heap.
   * @throws {LmmError} `BAD_ADDRESS`, `NOT_OWNED`, `INTERIOR`, `DOUBLE_FREE`,
   *   `FOREIGN_HEAP`, `CLOSED`.
   */
  free(address: number): void {
    const fast = this.#fast;
    if (fast === null || !fast.free(address)) this.#freeSlow(address, fast !== null);
  }

  /** `free` of what the TypeScript tier did not take (`tried`: it was asked). */
  #freeSlow(address: number, tried: boolean): void {
    const h = this.#handle;
    if (h === null) throw closedError("free");
    if (!isAddress(address)) {
      throw errorOf(Status.BAD_ADDRESS, `free(${hex(address)})`);
    }
    if (!tried && this.#front !== null && this.#front.free(address)) return;
    const status = S.lmm_free_f64(h, address);
    if (status !== 0) {
      throw this.#addressError(-status, address, `free(${hex(address)})`);
    }
  }

  /**
   * Whether `address` is the start of a live block of this heap.
   *
   * @example Ask about an address
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const p = heap.allocBytes(16);
   * assert.equal(heap.owns(p), true);
   * assert.equal(heap.owns(p + 1), false);
   * ```
   *
   * @param address Any number.
   * @returns `true` for a live block's start.
   * @throws {LmmError} `CLOSED`.
   */
  owns(address: number): boolean {
    const h = this.#live("owns");
    return isAddress(address) && S.lmm_validate_f64(h, address) === 0;
  }

  // ── Access ───────────────────────────────────────────────────────────────

  /**
   * A `Uint8Array` over the bytes asked for (`sizeOf(address)` of them). It
   * stays valid until the block is freed or the heap closed; using it after
   * that is undefined.
   *
   * @example Write bytes
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const p = heap.allocBytes(4);
   * heap.bytes(p).set([1, 2, 3, 4]);
   * assert.deepEqual([...heap.bytes(p).subarray(0, 4)], [1, 2, 3, 4]);
   * ```
   *
   * @param address Start of a live block.
   * @returns A view of `sizeOf(address)` bytes.
   * @throws {LmmError} like `free` for a bad address; `CLOSED`.
   */
  bytes(address: number): Uint8Array {
    const w = this.#window(address, "bytes");
    return new Uint8Array(w.view.buffer, w.offset, this.#size);
  }

  /**
   * A `DataView` over the bytes asked for (same bytes and lifetime as `bytes`).
   *
   * @example Typed fields
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const p = heap.alloc(heap.register("pair_t", 8));
   * const v = heap.view(p);
   * v.setUint32(4, 7, true);
   * assert.equal(v.getUint32(4, true), 7);
   * ```
   *
   * @param address Start of a live block.
   * @returns A DataView of `sizeOf(address)` bytes.
   * @throws {LmmError} like `free` for a bad address; `CLOSED`.
   */
  view(address: number): DataView {
    const w = this.#window(address, "view");
    return new DataView(w.view.buffer, w.offset, this.#size);
  }

  /**
   * A `Deno.PointerValue` to a live block, to hand to other FFI libraries.
   *
   * @example Pointer for another library
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const p = heap.allocBytes(8);
   * assert.equal(Deno.UnsafePointer.value(heap.pointer(p)), BigInt(p));
   * ```
   *
   * @param address Start of a live block.
   * @returns The pointer.
   * @throws {LmmError} like `free` for a bad address; `CLOSED`.
   */
  pointer(address: number): Deno.PointerValue {
    this.#requested(address, "pointer");
    return Deno.UnsafePointer.create(BigInt(address));
  }

  /**
   * The bytes asked for when the block was allocated or last resized (units
   * × struct size): what `bytes()` and `view()` cover. The block itself may
   * be a little larger (alignment, a remainder too small to split off);
   * `blockInfo(address).size` says by how much.
   *
   * @example Block size
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const p = heap.allocBytes(10);
   * assert.equal(heap.sizeOf(p), 10);
   * assert.equal(heap.blockInfo(p).size, 16); // aligned to 16 bytes
   * ```
   *
   * @param address Start of a live block.
   * @returns The bytes asked for.
   * @throws {LmmError} like `free` for a bad address; `CLOSED`.
   */
  sizeOf(address: number): number {
    return this.#requested(address, "sizeOf");
  }

  /**
   * The family of a live block.
   *
   * @example Family of a block
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const node = heap.register("node_t", 24);
   * assert.equal(heap.familyOf(heap.alloc(node)), node);
   * ```
   *
   * @param address Start of a live block.
   * @returns Its family.
   * @throws {LmmError} like `free` for a bad address; `CLOSED`.
   */
  familyOf(address: number): Family {
    const h = this.#live("familyOf");
    const context = `familyOf(${hex(address)})`;
    if (!isAddress(address)) throw errorOf(Status.BAD_ADDRESS, context);
    const id = S.lmm_family_of_f64(h, address);
    if (id < 0) throw this.#addressError(-id, address, context);
    return this.#userFamily(id);
  }

  /** The family a user sees for a family id: "bytes" for its size classes. */
  #userFamily(id: number): Family {
    const family = this.#familyById(id);
    return this.#classes.has(id) ? this.#families[BYTES_FAMILY] : family;
  }

  /**
   * Size, request, units, family and allocation site of a live block.
   *
   * @example Inspect a block
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * heap.register("emp_t", 36);
   * const info = heap.blockInfo(heap.alloc("emp_t", 2));
   * assert.equal(info.units, 2);
   * assert.equal(info.requested, 72);
   * assert.equal(info.family.name, "emp_t");
   * ```
   *
   * @param address Start of a live block.
   * @returns What the heap knows about it.
   * @throws {LmmError} like `free` for a bad address; `CLOSED`.
   */
  blockInfo(address: number): BlockInfo {
    const h = this.#live("blockInfo");
    const context = `blockInfo(${hex(address)})`;
    if (!isAddress(address)) throw errorOf(Status.BAD_ADDRESS, context);
    const out = new Uint8Array(BlockInfoLayout.SIZE);
    const status = S.lmm_block_info(
      h,
      Deno.UnsafePointer.create(BigInt(address)),
      out,
    );
    if (status !== 0) throw this.#addressError(status, address, context);
    const view = new DataView(out.buffer);
    return {
      size: u64(view, BlockInfoLayout.size),
      requested: u64(view, BlockInfoLayout.requested),
      units: u64(view, BlockInfoLayout.units),
      family: this.#userFamily(view.getUint32(BlockInfoLayout.family, true)),
      site: this.#siteOf(address, view.getUint32(BlockInfoLayout.site, true)),
    };
  }

  // ── Introspection ────────────────────────────────────────────────────────

  /**
   * Statistics: heap totals and, per family, struct size, pages, TBC/FBC/OBC,
   * application bytes and their peak, largest free block, fragmentation.
   *
   * @example Read statistics
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const emp = heap.register("emp_t", 36);
   * heap.alloc(emp, 2);
   * const { totals, families } = heap.stats();
   * assert.equal(families[emp.id].appBytes, 72);
   * assert.equal(families[emp.id].occupiedBlocks, 1);
   * assert.equal(totals.pages, 1);
   * ```
   *
   * @returns Totals and per-family figures.
   * @throws {LmmError} `CLOSED`.
   */
  stats(): HeapStats {
    const h = this.#live("stats");
    this.#quiesce();
    this.#loadFamilies(); // size classes the engine registered on its own
    const totals = this.#readStats(h, ALL_FAMILIES);
    const families: FamilyStats[] = [];
    let largestPerFamily = 0;
    for (const family of this.#families) {
      const fields = this.#readStats(h, family.id);
      largestPerFamily += fields.largest_free;
      families.push({
        id: family.id,
        name: family.name,
        structSize: family.structSize,
        ...statsFields(fields),
      });
    }
    return {
      totals: {
        families: totals.families,
        ...statsFields(totals),
        // A family's free space never serves another family, so the heap's
        // figure is the free-bytes weighted mean of the families' figures:
        // 1 − Σ largest free block per family / Σ free bytes.
        externalFragmentation: totals.free_bytes === 0
          ? 0
          : 1 - largestPerFamily / totals.free_bytes,
        cachedPages: totals.cached_pages,
        cachedBytes: totals.cached_bytes,
        pagesTaken: totals.pages_taken,
        pagesReturned: totals.pages_returned,
        reservedBytes: totals.reserved_bytes,
        arenas: totals.arenas,
        poisoned: totals.poisoned !== 0,
      },
      families,
    };
  }

  /**
   * Every VM page with its blocks in address order: the data of the seed's
   * `mm_print_memory_usage`.
   *
   * @example Walk the block map
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * const p = heap.allocBytes(64);
   * const [page] = heap.blocks();
   * assert.equal(page.blocks[0].address, p);
   * assert.equal(page.blocks[0].free, false);
   * assert.equal(page.blocks.at(-1)?.free, true);
   * ```
   *
   * @param family Only this family's pages (a family or its name).
   * @returns The pages, each with its blocks.
   * @throws {LmmError} `UNKNOWN_FAMILY`, `FOREIGN_HEAP`, `CLOSED`.
   */
  blocks(family?: Family | string): HeapPage[] {
    const h = this.#live("blocks");
    this.#quiesce();
    const id = family === undefined ? ALL_FAMILIES : this.#resolveFamily(family, "blocks").id;
    const pages = new Map<number, HeapPage>();
    const pageList: HeapPage[] = [];
    const pageBuffer = listRecords(
      (buf, cap, out) => S.lmm_pages(h, id, buf, cap, out),
      PageInfo.SIZE,
      "blocks(): lmm_pages",
    );
    const pv = new DataView(pageBuffer.bytes.buffer);
    for (let i = 0; i < pageBuffer.count; i++) {
      const o = i * PageInfo.SIZE;
      const page: HeapPage = {
        base: u64(pv, o + PageInfo.base),
        size: u64(pv, o + PageInfo.size),
        family: this.#familyById(pv.getUint32(o + PageInfo.family, true)),
        freeBlocks: pv.getUint32(o + PageInfo.free_blocks, true),
        freeBytes: u64(pv, o + PageInfo.free_bytes),
        largestFree: u64(pv, o + PageInfo.largest_free),
        blocks: [],
      };
      pages.set(page.base, page);
      pageList.push(page);
    }
    const blockBuffer = listRecords(
      (buf, cap, out) => S.lmm_blocks(h, id, 0, buf, cap, out),
      BlockRecord.SIZE,
      "blocks(): lmm_blocks",
    );
    const bv = new DataView(blockBuffer.bytes.buffer);
    for (let i = 0; i < blockBuffer.count; i++) {
      const o = i * BlockRecord.SIZE;
      const base = u64(bv, o + BlockRecord.page);
      const address = u64(bv, o + BlockRecord.addr);
      const page = pages.get(base);
      if (page === undefined) {
        throw new LmmError(
          "CORRUPTED",
          `blocks(): block ${hex(address)} names page ${hex(base)}, which lmm_pages did not list`,
          { status: Status.CORRUPTED },
        );
      }
      page.blocks.push({
        address,
        offset: address - base,
        size: u64(bv, o + BlockRecord.size),
        requested: u64(bv, o + BlockRecord.requested),
        free: (bv.getUint32(o + BlockRecord.flags, true) & BLOCK_FREE) !== 0,
        site: this.#siteOf(address, bv.getUint32(o + BlockRecord.site, true)),
      });
    }
    return pageList;
  }

  /**
   * Live blocks counted by family, and grouped by allocation stack, family
   * and kind: `"direct"` (no other live block points to it) first, then
   * `"indirect"` (another live block holds its address). Stacks are
   * recorded with `trackSites`; blocks without one are grouped under site
   * `"unknown"`.
   *
   * @example Find what is still allocated, and where
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap({ trackSites: true });
   * const node = heap.register("node_t", 24);
   * function push(next: number): number {
   *   const n = heap.alloc(node);
   *   heap.view(n).setBigUint64(0, BigInt(next), true); // n → next
   *   return n;
   * }
   * push(push(0)); // a list of two nodes, never freed
   * const leaks = heap.leaks();
   * assert.equal(leaks.blocks, 2);
   * assert.deepEqual(leaks.byFamily.map((f) => [f.family, f.count, f.indirect.count]), [
   *   ["node_t", 2, 1],
   * ]);
   * const [head, tail] = leaks.bySite;
   * assert.equal(head.kind, "direct");
   * assert.equal(tail.kind, "indirect");
   * assert.match(head.stack[0], /^push \(/);
   * ```
   *
   * @returns Counts and bytes, per family and per stack, direct first.
   * @throws {LmmError} `CLOSED`.
   */
  leaks(): LeaksReport {
    this.#live("leaks");
    this.#quiesce();
    return heapLeaks(this, this.#entry);
  }

  /**
   * Walks every page and block and checks every invariant of the heap.
   *
   * @example Check integrity
   * ```ts
   * import { Heap } from "@lmm/lmm";
   *
   * using heap = new Heap();
   * heap.allocBytes(10);
   * heap.check(); // throws LmmError("CORRUPTED") if anything is broken
   * ```
   *
   * @throws {LmmError} `CORRUPTED` (with the engine's reason), `CLOSED`.
   */
  check(): void {
    const h = this.#live("check");
    this.#quiesce();
    const message = new Uint8Array(CHECK_MESSAGE_CAP);
    const status = S.lmm_check(h, message, message.length);
    if (status !== 0) {
      const end = message.indexOf(0);
      const reason = new TextDecoder().decode(
        message.subarray(0, end < 0 ? message.length : end),
      );
      throw new LmmError(
        statusCode(status),
        `check(): ${statusMessage(status)}${reason === "" ? "" : ` ${reason}`}`,
        { status },
      );
    }
  }

  /**
   * Returns cached empty VM pages to the kernel.
   *
   * @example Trim the page cache
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap();
   * heap.free(heap.allocBytes(10));
   * heap.trim();
   * assert.equal(heap.stats().totals.cachedPages, 0);
   * ```
   *
   * @throws {LmmError} `CLOSED`.
   */
  trim(): void {
    const h = this.#live("trim");
    this.#quiesce();
    unwrap(S.lmm_heap_trim(h), "trim()");
  }

  /**
   * The versioned JSON report of this heap: statistics, the block map and
   * the live blocks with their sites (what the `lmm` CLI renders).
   *
   * @example Make a report
   * ```ts
   * import { Heap, REPORT_SCHEMA } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * using heap = new Heap({ label: "demo" });
   * heap.allocBytes(10);
   * const report = heap.report();
   * assert.equal(report.schema, REPORT_SCHEMA);
   * assert.equal(report.heaps[0].label, "demo");
   * assert.equal(report.heaps[0].leaks.blocks, 1);
   * ```
   *
   * @returns A report with this heap alone.
   * @throws {LmmError} `CLOSED`.
   */
  report(): Report {
    this.#live("report");
    this.#quiesce();
    return singleHeapReport(this, this.#entry);
  }

  /**
   * Destroys the heap: every page goes back to the kernel, every address
   * and view into it becomes invalid. Safe to call twice.
   *
   * @example Close explicitly
   * ```ts
   * import { Heap } from "@lmm/lmm";
   * import assert from "node:assert/strict";
   *
   * const heap = new Heap();
   * heap.close();
   * heap.close(); // no-op
   * assert.equal(heap.closed, true);
   * ```
   */
  close(): void {
    const h = this.#handle;
    if (h === null) return;
    this.#fast = null;
    this.#front?.stop();
    finalizer.unregister(this);
    try {
      this.#front?.settle(); // the statistics of the report include what the cache did
    } catch {
      // a poisoned heap is reported as it is
    }
    heapClosing(this.#entry, this); // reports live blocks while they can be read
    this.#handle = null;
    // The handle is never used again (#handle is null now), so no tombstone
    // needs to stay behind for it: the heap's own page goes back too. The
    // arenas stay mapped until no view can reach them.
    const status = S.lmm_heap_release(h);
    this.#memory.release();
    unwrap(status, "close()");
  }

  /** Same as `close()`, for `using heap = new Heap()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ── Private ──────────────────────────────────────────────────────────────

  /**
   * Before anything reads the heap's figures or walks its blocks: the
   * TypeScript tier reports what it did and gives its blocks back, and the
   * engine's front caches give theirs back to worst fit, so what is read is
   * exact and coalesced. A poisoned heap is left as it is (its readers say so).
   */
  #quiesce(): void {
    this.#entry.quiesce();
  }

  /** The handle, or throws CLOSED. */
  #live(operation: string): Deno.PointerObject {
    const h = this.#handle;
    if (h === null) throw closedError(operation);
    return h;
  }

  #loadFamilies(): void {
    const h = this.#handle!;
    unwrap(S.lmm_family_count(h, this.#u32OutBytes), "lmm_family_count");
    const count = this.#u32Out[0];
    for (let id = this.#families.length; id < count; id++) {
      const info = new Uint8Array(FamilyInfo.SIZE);
      unwrap(S.lmm_family_info(h, id, info), "lmm_family_info");
      const view = new DataView(info.buffer);
      const length = view.getUint32(FamilyInfo.name_len, true);
      const name = new TextDecoder().decode(
        info.subarray(FamilyInfo.name, FamilyInfo.name + length),
      );
      this.#joinFront(this.#addFamily(id, name, u64(view, FamilyInfo.struct_size)), info);
    }
  }

  /** Gives a family its lane in the TypeScript tier, from its `lmm_family_info_t`. */
  #joinFront(family: Family, info: Uint8Array): void {
    const view = new DataView(info.buffer, info.byteOffset, info.byteLength);
    if (view.getUint32(FamilyInfo.class_size, true) !== 0) this.#classes.add(family.id);
    this.#front?.addFamily(
      family.id,
      view.getUint32(FamilyInfo.unit, true),
      view.getUint32(FamilyInfo.alignment, true),
      family.structSize,
    );
  }

  /** Size classes of untyped memory among the families (not listed by `families()`). */
  readonly #classes = new Set<number>();

  /**
   * Resizes a block the TypeScript tier handed out: in place while it fits,
   * else moved to a block of the new size.
   */
  #reallocHeld(front: FrontCache, address: number, units: number): number {
    const id = S.lmm_family_of_f64(this.#handle!, address); // its own family: a class of "bytes"?
    const f = this.#familyById(id);
    const isClass = this.#classes.has(id);
    const bytes = units * f.structSize;
    const sameClass = isClass ? front.classFamily(bytes) === id : units === 1;
    if (front.resize(address, bytes, sameClass)) return address;
    const old = this.sizeOf(address);
    const moved = isClass ? this.allocBytes(bytes) : this.alloc(f, units);
    const keep = Math.min(old, bytes);
    const m = this.#memory;
    const from = m.locate(address, keep);
    const to = m.locate(moved, keep);
    to.bytes.set(from.bytes.subarray(from.offset, from.offset + keep), to.offset);
    this.free(address);
    this.#tracker?.moved(address, moved);
    return moved;
  }

  #addFamily(id: number, name: string, structSize: number, layout?: Layout): Family {
    const family: Family = layout === undefined
      ? Object.freeze({ id, name, structSize })
      : new TypedFamily(id, name, bindLayout(layout, this.#memory));
    this.#families[id] = family;
    this.#maxUnits[id] = Math.floor(MAX_BYTES / structSize);
    this.#byName.set(name, family);
    familyOwner.set(family, this);
    return family;
  }

  #familyById(id: number): Family {
    let family = this.#families[id];
    if (family === undefined) {
      this.#loadFamilies();
      family = this.#families[id];
      if (family === undefined) throw errorOf(Status.UNKNOWN_FAMILY, `family #${id}`);
    }
    return family;
  }

  #resolveFamily(family: Family | string, operation: string): Family {
    const f = typeof family === "string" ? this.#byName.get(family) : family;
    if (typeof f !== "object" || f === null || this.#families[f.id] !== f) {
      throw this.#familyError(family, operation);
    }
    return f;
  }

  #familyError(family: unknown, operation: string): LmmError {
    if (typeof family === "object" && family !== null) {
      const owner = familyOwner.get(family as Family);
      if (owner !== undefined && owner !== this) {
        return new LmmError(
          "FOREIGN_HEAP",
          `${operation}: family "${
            (family as Family).name
          }" belongs to heap #${owner.id}, not heap #${this.#id}`,
          { status: Status.UNKNOWN_FAMILY },
        );
      }
    }
    const name = typeof family === "object" && family !== null
      ? describe((family as Partial<Family>).name)
      : describe(family);
    return errorOf(Status.UNKNOWN_FAMILY, `${operation}(${name})`);
  }

  /**
   * The error for a failed address operation. `NOT_OWNED` becomes
   * `FOREIGN_HEAP` when another open heap knows the address.
   */
  /**
   * `e`, after turning the TypeScript tier off when it says the heap is
   * damaged: from then on every call goes to the engine, which answers
   * POISONED (the tier would go on serving blocks it cannot verify).
   */
  #damaged(e: LmmError): LmmError {
    if (e.code === "CORRUPTED" || e.code === "POISONED") this.#front?.poison();
    return e;
  }

  #addressError(status: number, address: number, context: string): LmmError {
    return this.#damaged(this.#addressErrorOf(status, address, context));
  }

  #addressErrorOf(status: number, address: number, context: string): LmmError {
    if (status === Status.NOT_OWNED) {
      for (const other of openHeaps()) {
        if (other === this) continue;
        const h = other.#handle;
        if (h === null) continue;
        if (S.lmm_validate_f64(h, address) !== -Status.NOT_OWNED) {
          return new LmmError(
            "FOREIGN_HEAP",
            `${context}: the address belongs to heap #${other.#id}, not heap #${this.#id}`,
            { status },
          );
        }
      }
    }
    return errorOf(status, context);
  }

  /** Size found by the last `#window` (saves an object per call). */
  #size = 0;

  /**
   * Requested bytes of the live block at `address`, read from its meta block
   * in the arena (no native call); the engine says why when there is none.
   */
  #requested(address: number, operation: string): number {
    if (this.#handle === null) throw closedError(operation);
    if (typeof address !== "number") {
      throw errorOf(Status.BAD_ADDRESS, `${operation}(${describe(address)})`);
    }
    const size = this.#memory.requested(address);
    if (size >= 0) return size;
    const context = `${operation}(${hex(address)})`;
    if (!isAddress(address)) throw errorOf(Status.BAD_ADDRESS, context);
    const status = S.lmm_validate_f64(this.#handle, address);
    throw this.#addressError(status === 0 ? Status.CORRUPTED : -status, address, context);
  }

  /** Where the live block at `address` is; its requested size in `#size`. */
  #window(address: number, operation: string): Window {
    this.#size = this.#requested(address, operation);
    const m = this.#memory;
    const offset = address - m.base;
    if (offset >= 0 && address + this.#size <= m.end) {
      return { view: m.view, bytes: m.bytes, offset };
    }
    return m.locate(address, this.#size);
  }

  #readStats(h: Deno.PointerObject, family: number): RawStats {
    return readStats(S, h, family, this.#statsBuffer);
  }

  /**
   * The allocation site of a live block (the engine just gave its site id):
   * its stack's innermost `file:line`.
   */
  #siteOf(address: number, site: number): string | null {
    const t = this.#tracker;
    if (site === 0 || t === null || site !== t.marker) return null;
    const frames = stackFrames(t.stackOfLive(address)?.stack ?? 0);
    return frames.length === 0 ? null : frameSite(frames[0]);
  }
}

/**
 * A family registered with a C layout: a {@linkcode Family} whose blocks
 * are structs with named fields, read and written in place through
 * accessors (no allocation, no native call per access).
 *
 * Accessors check values (`BAD_VALUE`, nothing written) but not that an
 * address is a live block: that would cost a meta block check per access.
 * Any address inside the heap's memory is safe to touch (a freed or never
 * allocated one reads zeros or stale data); `heap.owns(a)` and
 * `heap.check()` find misuse.
 *
 * @example Fields, arrays of structs and nested structs
 * ```ts
 * import { Heap } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * const point = heap.register("point_t", { x: "f64", y: "f64" });
 * const shape = heap.register("shape_t", { id: "u32", corners: "u16[4]", origin: point });
 * const s = heap.alloc(shape);
 * shape.fields.corners.set(s, 2, 7);
 * shape.fields.origin.fields.y.set(s, 1.5);
 * assert.deepEqual(shape.read(s), { id: 0, corners: [0, 0, 7, 0], origin: { x: 0, y: 1.5 } });
 * assert.equal(shape.cDeclaration(), "typedef struct shape_t { uint32_t id; uint16_t corners[4]; point_t origin; } shape_t;");
 * ```
 */
export interface LayoutFamily<S extends LayoutSpec = LayoutSpec> extends Family, BoundLayout<S> {
  /** `sizeof` of the struct (also `structSize`). */
  readonly size: number;
  /** `_Alignof` of the struct. */
  readonly align: number;
  /**
   * Byte offset of a field (`offsetof`); `"pos.x"` names a nested field.
   *
   * @param field A field name.
   * @returns Its offset.
   */
  offsetOf(field: string): number;
  /**
   * The C declaration of the struct.
   *
   * @param options `nested: true` declares the nested structs first.
   * @returns A `typedef struct … name;` line.
   */
  cDeclaration(options?: CDeclarationOptions): string;
}

class TypedFamily implements LayoutFamily {
  readonly id: number;
  readonly name: string;
  readonly structSize: number;
  readonly layout: Layout;
  readonly memory: BoundLayout["memory"];
  readonly fields: BoundLayout["fields"];
  readonly #bound: BoundLayout;

  constructor(id: number, name: string, bound: BoundLayout) {
    this.id = id;
    this.name = name;
    this.layout = bound.layout;
    this.structSize = bound.layout.size;
    this.memory = bound.memory;
    this.fields = bound.fields;
    this.#bound = bound;
    Object.freeze(this);
  }

  get size(): number {
    return this.layout.size;
  }

  get align(): number {
    return this.layout.align;
  }

  offsetOf(field: string): number {
    return this.layout.offsetOf(field);
  }

  cDeclaration(options?: CDeclarationOptions): string {
    return this.layout.cDeclaration(options);
  }

  read(address: number): LayoutValue<LayoutSpec> {
    return this.#bound.read(address);
  }

  write(address: number, values: LayoutInput<LayoutSpec>): void {
    this.#bound.write(address, values);
  }

  at(address: number, index: number): number {
    return this.#bound.at(address, index);
  }
}

/** Which heap made each family object (to tell FOREIGN_HEAP from UNKNOWN_FAMILY). */
const familyOwner = new WeakMap<Family, Heap>();
