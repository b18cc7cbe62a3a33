// Shared helpers of the module's tests (not a test file itself).
import assert from "node:assert/strict";
import { type Heap, LmmError, type LmmErrorCode } from "../mod.ts";

/** Asserts that `fn` throws an LmmError with `code`, and returns it. */
export function throwsCode(fn: () => unknown, code: LmmErrorCode): LmmError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof LmmError, `expected LmmError ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.name, "LmmError");
  return caught;
}

/** Asserts the code, then that the heap still passes check(). */
export function throwsCodeAndIntact(heap: Heap, fn: () => unknown, code: LmmErrorCode): LmmError {
  const error = throwsCode(fn, code);
  heap.check();
  return error;
}

/** What a finished command printed and how it exited. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCommand}: `env` adds to PATH and HOME only when `clearEnv`. */
export interface RunOptions {
  env?: Record<string, string>;
  clearEnv?: boolean;
  cwd?: string;
}

/** Runs `cmd <args>` with no stdin; returns exit code and output. */
export async function runCommand(
  cmd: string,
  args: string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const env: Record<string, string> = options.clearEnv
    ? { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "", ...options.env }
    : { ...options.env };
  const output = await new Deno.Command(cmd, {
    args,
    env,
    clearEnv: options.clearEnv ?? false,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs `deno <args>` with extra environment; returns exit code and output. */
export function runDeno(args: string[], options: RunOptions = {}): Promise<CommandResult> {
  return runCommand(Deno.execPath(), args, options);
}

/** Absolute path of a repository file. */
export function repoPath(relative: string): string {
  return new URL(`../${relative}`, import.meta.url).pathname;
}

/** A seeded PRNG (mulberry32): the same sequence on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
