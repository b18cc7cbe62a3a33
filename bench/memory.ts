// Memory figures of the issue "Memory you can touch from TypeScript", measured as a program sees
// them: the cost of view()/bytes() per call, the bytes 100k 24-byte records map, and RSS before and
// after freeing 500 MiB of 64-byte blocks. Not a test: it prints, it asserts nothing.
//   deno run -A bench/memory.ts
import { Heap } from "../mod.ts";
const rss = () => Deno.memoryUsage().rss;
{ // view/bytes cost
  const heap = new Heap();
  const a = heap.allocBytes(40);
  const N = 1_000_000;
  let s = 0;
  for (let w = 0; w < 2; w++) {
    let t = performance.now();
    for (let i = 0; i < N; i++) s += heap.view(a).byteLength;
    const tv = (performance.now() - t) * 1e6 / N;
    t = performance.now();
    for (let i = 0; i < N; i++) s += heap.bytes(a).length;
    const tb = (performance.now() - t) * 1e6 / N;
    if (w === 1) console.log(`view(a) ${tv.toFixed(1)} ns, bytes(a) ${tb.toFixed(1)} ns`);
  }
  heap.close();
}
{ // 24-byte records: mapped bytes per record
  const heap = new Heap();
  const r = heap.register("r24", 24);
  const N = 100_000;
  const xs = new Float64Array(N);
  for (let i = 0; i < N; i++) xs[i] = heap.alloc(r);
  const t = heap.stats().totals;
  console.log(
    `100k x 24 B: mapped ${t.bytesMapped} B = ${(t.bytesMapped / (N * 24)).toFixed(3)}x the data`,
  );
  heap.close();
}
{ // 500 MiB of small blocks: RSS before / after free
  const heap = new Heap();
  const N = Math.floor(500 * 2 ** 20 / 64);
  const xs = new Float64Array(N);
  const r0 = rss();
  for (let i = 0; i < N; i++) {
    xs[i] = heap.allocBytes(64);
    heap.bytes(xs[i])[0] = 1;
  }
  const r1 = rss();
  for (let i = 0; i < N; i++) heap.free(xs[i]);
  heap.stats(); // settles the TypeScript tier
  const r2 = rss();
  heap.trim();
  const r3 = rss();
  const M = (x: number) => (x / 2 ** 20).toFixed(1) + " MiB";
  console.log(
    `500 MiB in 64-byte blocks: RSS ${M(r0)} -> ${M(r1)} -> after free ${M(r2)} -> after trim ${
      M(r3)
    }`,
  );
  heap.close();
}
