// A large heap for the report at scale (bench/leaks/scale.ts, tests/cli_html_test.ts): N live
// blocks (default 1e6) in 4 KiB pages, of two families, from a few call sites; every fourth node
// points to the next (indirect leaks), and some blocks were freed (holes).
//
// Usage: LMM_REPORT=r.jsonl deno run -A big_heap.ts [N]     (the report is written at exit)
//        deno run -A big_heap.ts N --write r.jsonl           (writeReport, timed: JSON on stderr)
import { Heap, writeReport } from "../../mod.ts";

const n = Number(Deno.args[0] ?? 1_000_000);
const heap = new Heap({ label: "big", pageSize: 4096 });
const node = heap.register("node_t", 40);
const item = heap.register("item_t", 24);

function makeNode(next: number): number {
  const p = heap.alloc(node);
  if (next !== 0) heap.view(p).setBigUint64(0, BigInt(next), true);
  return p;
}

function makeItems(count: number): void {
  const freed: number[] = [];
  for (let i = 0; i < count; i++) {
    const p = heap.alloc(item);
    if (i % 16 === 0) freed.push(p);
  }
  for (const p of freed) heap.free(p);
}

let live = 0;
let next = 0;
while (live < n) {
  const batch = Math.min(4096, n - live);
  for (let i = 0; i < batch / 2; i++) {
    next = makeNode(i % 4 === 0 ? 0 : next);
    live++;
  }
  const items = Math.min(Math.ceil((batch / 2) * 16 / 15), Math.ceil((n - live) * 16 / 15));
  makeItems(items);
  live += items - Math.ceil(items / 16);
}
console.log(`big_heap: ${heap.stats().totals.occupiedBlocks} live blocks`);

const target = Deno.args.indexOf("--write");
if (target > 0) {
  const path = Deno.args[target + 1];
  const start = performance.now();
  writeReport(path);
  const ms = performance.now() - start;
  console.error(JSON.stringify({ blocks: live, writeMs: ms, bytes: Deno.statSync(path).size }));
}
