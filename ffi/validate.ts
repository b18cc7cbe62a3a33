/**
 * Argument checks done in TypeScript before a number or a name reaches native
 * code (the engine checks again), and the errors they raise.
 *
 * @module
 */

import { describe, LmmError, Status, statusError } from "./errors.ts";
import { NAME_MAX } from "./native/abi.ts";

/** A whole number in [1, 2^53): what the engine accepts as an address. */
export function isAddress(address: number): boolean {
  return Number.isSafeInteger(address) && address > 0;
}

/** The LmmError of a status, with context. */
export function errorOf(status: number, context: string): LmmError {
  return statusError(status, context);
}

/** The error of any operation on a closed heap. */
export function closedError(operation: string): LmmError {
  return new LmmError(
    "CLOSED",
    `${operation}: the heap is closed`,
    { status: Status.DESTROYED },
  );
}

/** The error for a unit count or byte size that failed the fast check. */
export function unitsError(units: unknown, context: string): LmmError {
  let code: number;
  if (typeof units !== "number" || !Number.isFinite(units) || units < 0) {
    code = Status.BAD_SIZE;
  } else if (!Number.isInteger(units)) code = Status.BAD_SIZE;
  else if (units === 0) code = Status.ZERO_SIZE;
  else code = Status.OVERFLOW;
  return errorOf(code, context);
}

/**
 * UTF-8 of a family name, or the error for a bad one: 1–63 bytes, no control
 * characters, well-formed UTF-16 (a lone surrogate would encode as U+FFFD,
 * so two different names would reach the engine as the same bytes).
 */
export function encodeName(name: unknown, context: string): Uint8Array {
  if (typeof name !== "string" || name.length === 0) {
    throw errorOf(Status.BAD_NAME, context);
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name) || !name.isWellFormed()) {
    throw errorOf(Status.BAD_NAME, context);
  }
  const bytes = new TextEncoder().encode(name);
  if (bytes.length > NAME_MAX) throw errorOf(Status.NAME_TOO_LONG, context);
  return bytes;
}

/**
 * A heap label, checked like a family name (empty allowed: no label).
 *
 * @param label `options.label`; undefined is "".
 * @returns The label.
 */
export function checkLabel(label: unknown): string {
  if (label === undefined || label === "") return "";
  encodeName(label, `new Heap(): label ${describe(label)}`);
  return label as string;
}
