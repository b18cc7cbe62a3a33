/**
 * The leak summary of a heap: its live blocks counted exactly by family, and
 * grouped by stack, family and kind (direct first), with the sampling
 * estimates of each group, a few example addresses and, for families with
 * a C layout, a few blocks decoded.
 *
 * @module
 */

import {
  EXAMPLES_PER_SITE,
  type LeakKind,
  type LeakSample,
  type LeaksRecord,
  type LeaksReport,
  SAMPLES_PER_SITE,
  type Tally,
} from "../report_types.ts";
import { formatFrame, frameSite, type StackFrame } from "../sites.ts";
import { INDIRECT } from "./classify.ts";

/** The live blocks of a heap, in address order, as parallel columns. */
export interface LiveBlocks {
  count: number;
  address: Float64Array;
  requested: Float64Array;
  family: Uint32Array;
  /** Stack id, 0 for none. */
  stack: Uint32Array;
  /** Allocations each block stands for (1 unless sampled; ignored without a stack). */
  weight: Float64Array;
  /** 1 direct, 2 indirect (see classify.ts). */
  kind: Uint8Array;
}

/** What a `leaks` record holds besides its type and heap id. */
export type LeakSummary = Omit<LeaksRecord, "type" | "heap">;

type Group = LeakSummary["byStack"][number];

/**
 * Counts and groups live blocks.
 *
 * @example Two stacks, one family
 * ```ts
 * import { summarizeLeaks } from "./leaks.ts";
 * import assert from "node:assert/strict";
 *
 * const summary = summarizeLeaks({
 *   count: 3,
 *   address: new Float64Array([16, 32, 48]),
 *   requested: new Float64Array([8, 8, 8]),
 *   family: new Uint32Array([1, 1, 1]),
 *   stack: new Uint32Array([5, 5, 6]),
 *   weight: new Float64Array([1, 1, 1]),
 *   kind: new Uint8Array([1, 2, 1]),
 * }, () => "node_t");
 * assert.deepEqual(summary.direct, { count: 2, bytes: 16 });
 * assert.deepEqual(summary.byStack.map((g) => [g.stackId, g.kind, g.count]), [
 *   [5, "direct", 1],
 *   [6, "direct", 1],
 *   [5, "indirect", 1],
 * ]);
 * ```
 *
 * @param live The live blocks.
 * @param familyName The name of a family id.
 * @param sample Decodes live block `i` (see `samples.ts`), or gives null:
 *   each group keeps the first {@link SAMPLES_PER_SITE} samples, trying as
 *   many blocks.
 * @returns The summary.
 */
export function summarizeLeaks(
  live: LiveBlocks,
  familyName: (id: number) => string,
  sample?: (i: number) => LeakSample | null,
): LeakSummary {
  const tried = new Map<Group, number>();
  const direct = tally();
  const indirect = tally();
  const unsampled = tally();
  const families = new Map<number, { count: number; bytes: number; indirect: Tally }>();
  const groups = new Map<number, Map<number, Group>>();
  for (let i = 0; i < live.count; i++) {
    const bytes = live.requested[i];
    const isIndirect = live.kind[i] === INDIRECT;
    add(isIndirect ? indirect : direct, bytes);
    const familyId = live.family[i];
    let family = families.get(familyId);
    if (family === undefined) {
      family = { count: 0, bytes: 0, indirect: tally() };
      families.set(familyId, family);
    }
    add(family, bytes);
    if (isIndirect) add(family.indirect, bytes);

    const stack = live.stack[i];
    if (stack === 0) add(unsampled, bytes);
    const key = stack * 4 + (isIndirect ? 2 : 1);
    let byFamily = groups.get(key);
    if (byFamily === undefined) {
      byFamily = new Map();
      groups.set(key, byFamily);
    }
    let group = byFamily.get(familyId);
    if (group === undefined) {
      group = {
        stackId: stack,
        family: familyName(familyId),
        kind: isIndirect ? "indirect" : "direct",
        count: 0,
        bytes: 0,
        estimatedCount: 0,
        estimatedBytes: 0,
        examples: [],
      };
      byFamily.set(familyId, group);
    }
    add(group, bytes);
    const weight = stack === 0 ? 1 : live.weight[i];
    group.estimatedCount += weight;
    group.estimatedBytes += bytes * weight;
    if (group.examples.length < EXAMPLES_PER_SITE) group.examples.push([live.address[i], bytes]);
    if (sample !== undefined) {
      const attempts = tried.get(group) ?? 0;
      if (attempts < SAMPLES_PER_SITE) {
        tried.set(group, attempts + 1);
        const decoded = sample(i);
        if (decoded !== null) (group.samples ??= []).push(decoded);
      }
    }
  }
  const byStack: Group[] = [];
  for (const byFamily of groups.values()) byStack.push(...byFamily.values());
  byStack.sort(groupOrder);
  return {
    blocks: direct.count + indirect.count,
    bytes: direct.bytes + indirect.bytes,
    direct,
    indirect,
    unsampled,
    byFamily: [...families].map(([id, f]) => ({ family: familyName(id), ...f })).sort((a, b) =>
      b.bytes - a.bytes || b.count - a.count || (a.family < b.family ? -1 : 1)
    ),
    byStack,
  };
}

/**
 * Direct before indirect; blocks without a stack after those with one; then
 * the most bytes (estimated), then the most blocks.
 */
function groupOrder(a: Group, b: Group): number {
  return kindRank(a.kind) - kindRank(b.kind) ||
    Number(a.stackId === 0) - Number(b.stackId === 0) ||
    b.estimatedBytes - a.estimatedBytes ||
    b.count - a.count || a.stackId - b.stackId || (a.family < b.family ? -1 : 1);
}

function kindRank(kind: LeakKind): number {
  return kind === "direct" ? 0 : 1;
}

function tally(): Tally {
  return { count: 0, bytes: 0 };
}

function add(t: Tally, bytes: number): void {
  t.count++;
  t.bytes += bytes;
}

/**
 * The leak summary as the public API gives it: each group with its stack
 * as text and its innermost `file:line` as the site.
 *
 * @param summary A summary with stack ids.
 * @param frames The frames of a stack id.
 * @returns The report's form.
 */
export function leaksReport(
  summary: LeakSummary,
  frames: (id: number) => readonly StackFrame[],
): LeaksReport {
  const { byStack, ...rest } = summary;
  return {
    ...rest,
    bySite: byStack.map((group) => {
      const stack = frames(group.stackId);
      return {
        site: stack.length === 0 ? "unknown" : frameSite(stack[0]),
        stack: stack.map(formatFrame),
        ...group,
      };
    }),
  };
}
