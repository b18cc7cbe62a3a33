/**
 * The one place where LMM status codes become exceptions.
 *
 * Every status of the C ABI (`LMM_E_*` in `zig/include/lmm.h`) has a stable
 * string code here: the name without its `LMM_E_` prefix. Codes and messages
 * come from the generated table (`native/abi.ts`, from `zig/src/abi.zig`). The TypeScript
 * layer adds the codes the engine cannot know: `FOREIGN_HEAP` (the address
 * belongs to another open heap), `CLOSED` (use after `close()`), the
 * struct layouts' `BAD_LAYOUT` (an invalid spec), `BAD_FIELD` (no field of
 * that name) and `BAD_VALUE` (a value a field cannot hold; nothing written),
 * and the loader's `LOAD_FAILED`, `DOWNLOAD_FAILED`, `CHECKSUM_MISMATCH`,
 * `ABI_MISMATCH`, `UNSUPPORTED_PLATFORM` (no library for this platform).
 *
 * @module
 */

import { STATUS, Status } from "./native/abi.ts";

/**
 * Every `code` an {@linkcode LmmError} can carry.
 *
 * @example Codes are strings to compare
 * ```ts
 * import { Heap, LmmError } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * try {
 *   heap.alloc("no_such_t");
 * } catch (e) {
 *   assert.ok(e instanceof LmmError && e.code === "UNKNOWN_FAMILY");
 * }
 * ```
 */
export type LmmErrorCode =
  | Exclude<(typeof STATUS)[number][0], "OK">
  | "UNKNOWN"
  | "FOREIGN_HEAP"
  | "CLOSED"
  | "BAD_LAYOUT"
  | "BAD_FIELD"
  | "BAD_VALUE"
  | "LOAD_FAILED"
  | "DOWNLOAD_FAILED"
  | "CHECKSUM_MISMATCH"
  | "ABI_MISMATCH"
  | "UNSUPPORTED_PLATFORM";

/** Status the engine uses for "success". */
export const LMM_OK = 0;
/** Number of statuses the C ABI defines (`LMM_STATUS_COUNT`). */
export const STATUS_COUNT: number = STATUS.length;

/** Status numbers by code, for the few places that branch on one. */
export { Status };

/**
 * Options of the {@linkcode LmmError} constructor.
 *
 * @example Make an error
 * ```ts
 * import { LmmError } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * const e = new LmmError("DOUBLE_FREE", "free(0x10): already free", { status: 13 });
 * assert.equal(e.status, 13);
 * ```
 */
export interface LmmErrorOptions extends ErrorOptions {
  /** The LMM status number behind the error (-1 when none). */
  status?: number;
}

/**
 * The error every LMM operation throws. `code` is stable and meant for
 * programs to branch on; `status` is the C ABI status number behind it
 * (`FOREIGN_HEAP` carries the engine's own answer: 11 `NOT_OWNED` for an
 * address, 4 `UNKNOWN_FAMILY` for a family object; `CLOSED` carries 3
 * `DESTROYED`; loader errors carry -1).
 *
 * @example Branch on the code
 * ```ts
 * import { Heap, LmmError } from "@lmm/lmm";
 * import assert from "node:assert/strict";
 *
 * using heap = new Heap();
 * const p = heap.allocBytes(16);
 * heap.free(p);
 * try {
 *   heap.free(p);
 * } catch (e) {
 *   assert.ok(e instanceof LmmError);
 *   assert.equal(e.code, "DOUBLE_FREE");
 *   assert.equal(e.status, 13);
 * }
 * ```
 */
export class LmmError extends Error {
  /** Stable string code, e.g. `"DOUBLE_FREE"`. */
  readonly code: LmmErrorCode;
  /** The C ABI status number (`LMM_E_*`), or -1 for errors of the TypeScript layer alone. */
  readonly status: number;

  /**
   * Creates an error; most code gets one from {@linkcode unwrap} instead.
   *
   * @param code The stable code.
   * @param message What went wrong, in one sentence.
   * @param options `status` and the standard `cause`.
   */
  constructor(code: LmmErrorCode, message: string, options?: LmmErrorOptions) {
    super(message, options);
    this.name = "LmmError";
    this.code = code;
    this.status = options?.status ?? -1;
  }
}

/**
 * The stable code of a C ABI status number ("UNKNOWN" outside the table).
 *
 * @param status A status number.
 * @returns Its code.
 */
export function statusCode(status: number): LmmErrorCode {
  const entry = status > 0 && status < STATUS.length ? STATUS[status] : undefined;
  return entry === undefined ? "UNKNOWN" : entry[0] as LmmErrorCode;
}

/**
 * The engine's sentence describing a status (used in error messages).
 *
 * @param status A status number.
 * @returns Its message, lower case and without a final period, to follow a context and a colon.
 */
export function statusMessage(status: number): string {
  const entry = status > 0 && status < STATUS.length ? STATUS[status] : undefined;
  return entry === undefined ? `unknown LMM status ${status}` : entry[1];
}

/**
 * Builds the {@linkcode LmmError} for a failed status.
 *
 * @param status A C ABI status (not 0).
 * @param context What was being done, e.g. `free(0x7f12_3456_7000)`.
 * @returns The error, to throw.
 */
export function statusError(status: number, context?: string): LmmError {
  const message = statusMessage(status);
  return new LmmError(
    statusCode(status),
    context === undefined ? message[0].toUpperCase() + message.slice(1) : `${context}: ${message}`,
    { status },
  );
}

/**
 * Throws the {@linkcode LmmError} for `status` unless it is `LMM_OK`.
 * The one place where C ABI statuses become exceptions.
 *
 * @param status What a C ABI call returned.
 * @param context What was being done (goes in front of the message).
 */
export function unwrap(status: number, context?: string): void {
  if (status !== LMM_OK) throw statusError(status, context);
}

/** Formats an address for error messages: `0x7f…` (any other value as {@linkcode describe} shows it). */
export function hex(address: number): string {
  return typeof address === "number" && Number.isFinite(address) && address >= 0
    ? `0x${Math.trunc(address).toString(16)}`
    : describe(address);
}

/**
 * A short, safe description of any value for an error message: strings
 * quoted, escaped and cut at 40 characters, anything else named by its kind.
 * Never throws: a Symbol, a BigInt, an object whose `toString` throws are all
 * values that a caller outside the types can pass.
 *
 * @param value Anything.
 * @returns A short text.
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case "bigint":
      return `${value}n`;
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return `an array of ${value.length}`;
      return ArrayBuffer.isView(value) ? value.constructor.name : "an object";
    case "function":
      return "a function";
    default:
      return String(value);
  }
}
