// An allocation-heavy program for the tracking overhead (bench/leaks/overhead.ts): it serves
// "requests", each a message, its headers and a body of 64–1024 bytes allocated a few calls
// deep; the last 2000 requests stay live, older ones are freed; one request in a thousand leaks
// its message from another call path. It times its own work and prints
// {"ms": …, "allocs": …} on stderr.
//
// Usage: deno run -A workload.ts [REQUESTS] [--today]
//   --today  track sites the way LMM did before issue 10, for comparison: every allocation
//            parses `new Error().stack` for the first frame outside LMM and interns it
//   Under `lmm run` (LMM_SITES) the heap records stacks as --sites says.
import { Heap } from "../../mod.ts";

const requests = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 60_000);
const today = Deno.args.includes("--today");
const heap = new Heap({ label: "workload", ...(today ? { trackSites: false } : {}) });
const msg = heap.register("msg_t", 48);
const header = heap.register("header_t", 96);

let seed = 12345;
function random(n: number): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return (seed >>> 8) % n;
}

// The site capture of LMM before issue 10 (ffi/sites.ts `callerSite`, heap.ts `#site`): the
// stack as text (V8's default limit of 10 frames), parsed line by line for the first frame
// outside LMM — here, past todaySite and the alloc wrapper, which stand for heap.ts's two —
// and interned in a map.
const siteIds = new Map<string, number>();
function todaySite(): number {
  const stack = new Error().stack ?? "";
  let own = 2;
  for (const line of stack.split("\n")) {
    const frame = /^\s+at (?:.*? \()?(.+?)\)?$/.exec(line);
    if (frame === null || own-- > 0) continue;
    const location = frame[1];
    const text = /^(.*):(\d+):\d+$/.exec(location)?.slice(1).join(":") ?? location;
    let id = siteIds.get(text);
    if (id === undefined) siteIds.set(text, id = siteIds.size + 1);
    return id;
  }
  return 0;
}

let allocs = 0;
function alloc(family: typeof msg, units = 1): number {
  allocs++;
  if (today) todaySite();
  return heap.alloc(family, units);
}
function allocBytes(n: number): number {
  allocs++;
  if (today) todaySite();
  return heap.allocBytes(n);
}

function parseHeaders(blocks: number[]): void {
  for (let i = 0; i < 4; i++) blocks.push(alloc(header));
}

function readBody(blocks: number[]): void {
  blocks.push(allocBytes(64 + random(961)));
}

function handle(): number[] {
  const blocks = [alloc(msg)];
  parseHeaders(blocks);
  readBody(blocks);
  return blocks;
}

function keepForever(): void {
  alloc(msg); // the leak: one message in a thousand requests
}

const window: number[][] = [];
const start = performance.now();
for (let r = 0; r < requests; r++) {
  window.push(handle());
  if (r % 1000 === 999) keepForever();
  if (window.length > 2000) { for (const block of window.shift()!) heap.free(block); }
}
const ms = performance.now() - start;
console.error(JSON.stringify({ ms, allocs }));
