/**
 * Decoded samples of leaked blocks: for a family registered with a C
 * layout, the first blocks of each leak group are read from the heap's
 * memory when the report is made and their fields decoded
 * (`Layout.decode`), bounded, with a one-line text form for the text and
 * HTML reports. A block that cannot be read has no sample: nothing here
 * throws into the report.
 *
 * @module
 */

import type { Heap } from "../heap.ts";
import { type Decoded, Layout, type Member } from "../layout.ts";
import type { LeakSample } from "../report_types.ts";

/** Array elements a sample shows. */
export const SAMPLE_ELEMENTS = 8;
/** Characters of a `char[N]` field a sample shows. */
export const SAMPLE_STRING = 64;
/** About how many characters of text a sample takes, at most. */
export const SAMPLE_TEXT = 240;

/**
 * Decodes the struct at `offset` of `view` as a sample: bounded fields and
 * their text.
 *
 * @example A point
 * ```ts
 * import { Layout } from "../layout.ts";
 * import { decodeSample } from "./samples.ts";
 * import assert from "node:assert/strict";
 *
 * const point = new Layout("point_t", { x: "f64", tag: "char[4]" });
 * const view = new DataView(new ArrayBuffer(point.size));
 * view.setFloat64(0, 1.5, true);
 * view.setUint8(8, 0x22); // a double quote
 * const sample = decodeSample(point, view, 0, 0x1000);
 * assert.deepEqual(sample.fields, { x: 1.5, tag: '"' });
 * assert.equal(sample.text, '{ x: 1.5, tag: "\\"" }');
 * ```
 *
 * @param layout The block's layout.
 * @param view Memory holding the block.
 * @param offset Where the block starts in `view`.
 * @param address The block's address.
 * @returns The sample.
 * @throws {LmmError} `INVALID_ARG` when the struct is not inside the view.
 */
export function decodeSample(
  layout: Layout,
  view: DataView,
  offset: number,
  address: number,
): LeakSample {
  const fields = layout.decode(view, offset, {
    maxElements: SAMPLE_ELEMENTS,
    maxString: SAMPLE_STRING,
    maxText: SAMPLE_TEXT,
  });
  return { address, fields, text: structText(layout, fields) };
}

/**
 * The sampler of a heap's live blocks for `summarizeLeaks`: block `i` of
 * `addresses` with family `families[i]` decoded through `heap.view`, or null
 * when its family has no layout or its memory cannot be read (the heap is
 * closed, the block is not live, the heap is poisoned).
 *
 * @param heap The heap, open (or closing: its handle still valid).
 * @param addresses Addresses of the live blocks.
 * @param families Their family ids.
 * @returns The sampler, or undefined when no family of the heap has a layout.
 */
export function heapSampler(
  heap: Heap,
  addresses: Float64Array,
  families: Uint32Array,
): ((i: number) => LeakSample | null) | undefined {
  const layouts = new Map<number, Layout>();
  try {
    for (const family of heap.families()) {
      const layout = (family as { layout?: unknown }).layout;
      if (layout instanceof Layout) layouts.set(family.id, layout);
    }
  } catch {
    return undefined;
  }
  if (layouts.size === 0) return undefined;
  return (i) => {
    const layout = layouts.get(families[i]);
    if (layout === undefined) return null;
    try {
      return decodeSample(layout, heap.view(addresses[i]), 0, addresses[i]);
    } catch {
      return null;
    }
  };
}

/** `{ name: value, … }` of a struct decoded by `Layout.decode`. */
function structText(layout: Layout, fields: { [name: string]: Decoded }): string {
  const parts: string[] = [];
  for (const m of layout.members) {
    if (!Object.hasOwn(fields, m.name)) break;
    parts.push(`${m.name}: ${valueText(m, fields[m.name])}`);
  }
  const rest = fields["…"];
  if (rest !== undefined) parts.push(`… ${String(rest)}`);
  return `{ ${parts.join(", ")} }`;
}

function valueText(m: Member, value: Decoded): string {
  if (m.layout !== null && isRecord(value)) return structText(m.layout, value);
  if (m.kind === "char") return quote(String(value));
  if (Array.isArray(value)) return `[${value.map((v) => bare(v)).join(", ")}]`;
  return bare(value);
}

/** A scalar as C would write it: numbers, 64-bit integers, pointers and markers bare. */
function bare(value: Decoded): string {
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function isRecord(value: Decoded): value is { [name: string]: Decoded } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
