// Smoke test of the benchmarks: every bench file runs (LMM_BENCH_SMOKE=1: one pass with a token
// workload), the native runner runs every case once (--quick), and the report is made from
// those outputs. Nothing here looks at a time: benchmarks measure, tests never assert on time.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BENCH = join(ROOT, "bench");

const benchFiles = [...Deno.readDirSync(BENCH)]
  .filter((e) => e.isFile && e.name.endsWith("_bench.ts"))
  .map((e) => e.name)
  .sort();

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

// The bench outputs collect here for the report test (which also works on an empty folder).
const outputs = await Deno.makeTempDir({ prefix: "lmm-bench-smoke-" });
globalThis.addEventListener("unload", () => Deno.removeSync(outputs, { recursive: true }));

Deno.test("bench smoke: the bench directory has the six suites", () => {
  assert.deepEqual(benchFiles, [
    "families_bench.ts",
    "introspection_bench.ts",
    "layout_bench.ts",
    "mixed_bench.ts",
    "pair_bench.ts",
    "record_bench.ts",
  ]);
});

for (const [i, file] of benchFiles.entries()) {
  Deno.test(`bench smoke: ${file} runs one pass`, async () => {
    const r = await run(["bench", "-A", "--no-check", "--json", join("bench", file)], {
      LMM_BENCH_SMOKE: "1",
    });
    assert.equal(r.code, 0, `deno bench ${file} exited ${r.code}:\n${r.stderr.slice(-3000)}`);
    const json = JSON.parse(r.stdout); // stdout stays JSON: diagnostics go to stderr
    assert.ok(json.benches.length > 0, `${file}: no bench ran`);
    for (const b of json.benches) {
      assert.ok(
        b.results[0]?.ok,
        `${file}: "${b.group}" / "${b.name}" failed: ${JSON.stringify(b.results)}`,
      );
    }
    await Deno.writeTextFile(join(outputs, `deno-${i + 1}.json`), r.stdout);
  });
}

Deno.test("bench smoke: the native runner runs every case once", async () => {
  const r = await run([
    "run",
    "-A",
    "--no-check",
    "bench/native/run.ts",
    "--quick",
    "--no-install",
    "--out",
    join(outputs, "native.json"),
  ]);
  assert.equal(r.code, 0, `run.ts --quick exited ${r.code}:\n${r.stderr.slice(-3000)}`);
  const native = JSON.parse(await Deno.readTextFile(join(outputs, "native.json")));
  assert.equal(native.schema, "lmm-native-bench/1");
  const ran = new Set(native.allocators.map((a: { id: string }) => a.id)); // peers installed
  for (const c of native.cases) {
    for (const id of c.allocators) {
      if (ran.has(id)) assert.ok(c.results[id], `${c.id}: ${id} missing`);
    }
    // Every case but the cpu controls (no allocator) compares LMM with glibc.
    if (!c.allocators.includes("none")) {
      assert.ok(c.results.lmm && c.results.glibc, `${c.id}: LMM or glibc missing`);
    }
  }
});

Deno.test("bench smoke: the report is made from those outputs", async () => {
  const readme = join(outputs, "README.md");
  const svg = join(outputs, "cost-vs-live.svg");
  const r = await run([
    "run",
    "-A",
    "--no-check",
    "bench/report.ts",
    "--dir",
    outputs,
    "--out",
    readme,
    "--svg",
    svg,
  ]);
  assert.equal(r.code, 0, `report.ts exited ${r.code}:\n${r.stderr.slice(-3000)}`);
  const text = await Deno.readTextFile(readme);
  assert.match(text, /^## Benchmarks$/m);
  assert.match(await Deno.readTextFile(svg), /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});
