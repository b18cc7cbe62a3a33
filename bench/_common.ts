/**
 * What the bench files share: the peers (libc through `Deno.dlopen`, LMM's
 * C ABI called directly), the smoke switch and a seeded random stream.
 *
 * Peers keep V8's FFI fast path (PERFORMANCE.md): libc's `usize` size
 * parameters get BigInt, results and frees are `pointer`s. The direct LMM
 * symbols are the `*_f64` functions that `mod.ts` itself calls, so
 * "lmm (raw FFI)" minus "lmm" is the cost of the module's checks.
 *
 * `LMM_BENCH_SMOKE=1` makes every bench do a token amount of work once
 * (tests/bench_smoke_test.ts): no figure from a smoke run means anything.
 *
 * Not a bench file itself (no `_bench` suffix). Diagnostics go to stderr:
 * stdout of `deno bench --json` must stay JSON.
 *
 * @module
 */

import { Heap, libraryInfo } from "../mod.ts";

/** True when the benches only have to run once, as fast as possible. */
export const SMOKE: boolean = Deno.env.get("LMM_BENCH_SMOKE") === "1";

/** `n`/`warmup` for `Deno.bench`: the given ones, or a single pass when smoking. */
export function iterations(n: number, warmup: number): { n: number; warmup: number } {
  return SMOKE ? { n: 1, warmup: 1 } : { n, warmup };
}

/** What {@linkcode bench} registers: a `Deno.bench` case with an untimed setup. */
export interface BenchCase {
  /** Bench name (the peer). */
  name: string;
  /** The comparison it belongs to. */
  group: string;
  /** Whether this is the group's peer everyone is compared with. */
  baseline?: boolean;
  /** Suggested iterations (Deno runs more when they are fast). */
  n?: number;
  /** Warm-up time in ms before the first timed iteration (default 200). */
  warmupMs?: number;
  /** Untimed, once, before the warm-up: build the state the iterations use. */
  setup?: () => void;
  /** One timed iteration. */
  fn: () => void;
}

/**
 * Registers a bench whose first call builds its state and warms the code up
 * (V8 needs a few hundred thousand FFI calls before a path is fully
 * optimised) before anything is timed; every iteration is timed with
 * explicit timers, so setup never lands in a measurement.
 */
export function bench(c: BenchCase): void {
  let ready = false;
  Deno.bench({
    name: c.name,
    group: c.group,
    baseline: c.baseline ?? false,
    ...iterations(c.n ?? 20, 1),
    fn(b: Deno.BenchContext): void {
      if (!ready) {
        c.setup?.();
        const until = performance.now() + (SMOKE ? 0 : c.warmupMs ?? 200);
        do c.fn(); while (performance.now() < until);
        ready = true;
      }
      b.start();
      c.fn();
      b.end();
    },
  });
}

/** `full` normally, `smoke` when smoking. */
export function scale(full: number, smoke: number): number {
  return SMOKE ? smoke : full;
}

const libcSymbols = {
  malloc: { parameters: ["usize"], result: "pointer" }, // void *malloc(size_t)
  calloc: { parameters: ["usize", "usize"], result: "pointer" }, // void *calloc(size_t, size_t)
  free: { parameters: ["pointer"], result: "void" }, // void free(void *)
} as const satisfies Deno.ForeignLibraryInterface;

/** libc's allocator through dlopen. */
export type Libc = Deno.DynamicLibrary<typeof libcSymbols>["symbols"];

let libcLibrary: Deno.DynamicLibrary<typeof libcSymbols> | undefined;

/** glibc's `malloc`, `calloc`, `free` (opened once). */
export function libc(): Libc {
  libcLibrary ??= Deno.dlopen("libc.so.6", libcSymbols);
  return libcLibrary.symbols;
}

const lmmSymbols = {
  lmm_heap_create: { parameters: ["buffer", "buffer"], result: "i32" }, // (const lmm_config_t *, lmm_heap_t **)
  lmm_heap_destroy: { parameters: ["pointer"], result: "i32" }, // (lmm_heap_t *)
  lmm_alloc_f64: { parameters: ["pointer", "u32", "f64", "u32"], result: "f64" }, // (heap, family, units, site)
  lmm_free_f64: { parameters: ["pointer", "f64"], result: "i32" }, // (heap, double addr)
} as const satisfies Deno.ForeignLibraryInterface;

/** A heap driven through LMM's C ABI directly, without mod.ts's checks. */
export interface RawLmm {
  /** Allocates `n` bytes of the untyped family; returns the address. */
  alloc(n: number): number;
  /** Frees an address. */
  free(address: number): void;
  /** Destroys the heap. */
  close(): void;
}

let lmmLibrary: Deno.DynamicLibrary<typeof lmmSymbols> | undefined;

/** A fresh heap on the same liblmm.so that mod.ts loaded, called raw. */
export function rawLmm(): RawLmm {
  if (lmmLibrary === undefined) {
    new Heap().close(); // let mod.ts find the library, then open the same file
    lmmLibrary = Deno.dlopen(libraryInfo()!.path, lmmSymbols);
  }
  const S = lmmLibrary.symbols;
  const out = new BigUint64Array(1);
  const status = S.lmm_heap_create(null, new Uint8Array(out.buffer));
  if (status !== 0) throw new Error(`lmm_heap_create: status ${status}`);
  const heap = Deno.UnsafePointer.create(out[0])!;
  return {
    alloc(n: number): number {
      const address = S.lmm_alloc_f64(heap, 0, n, 0);
      if (address < 0) throw new Error(`lmm_alloc_f64: status ${-address}`);
      return address;
    },
    free(address: number): void {
      const status = S.lmm_free_f64(heap, address);
      if (status !== 0) throw new Error(`lmm_free_f64: status ${-status}`);
    },
    close(): void {
      S.lmm_heap_destroy(heap);
    },
  };
}

/** xorshift32: a seeded stream of unsigned 32-bit draws, the same for every peer. */
export function random(seed = 0x9e3779b9): () => number {
  let x = seed >>> 0 || 1;
  return (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

/** Where a bench keeps its results out of reach of dead-code elimination. */
export const sink = { value: 0 as unknown, sum: 0 };
