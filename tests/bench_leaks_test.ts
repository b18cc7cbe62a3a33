// Smoke test of the leak-checking benchmarks (bench/leaks/): the overhead runner and the scale
// runner complete on a token workload and print their tables. Nothing here looks at a time.
import assert from "node:assert/strict";
import { libraryBuilt, ROOT } from "./fixtures/cli/helpers.ts";
import { runDeno } from "./_helpers.ts";

const built = libraryBuilt();

Deno.test({
  name: "bench/leaks/overhead.ts: every mode runs and the ratios are printed",
  ignore: !built,
  async fn(): Promise<void> {
    const r = await runDeno([
      "run",
      "-A",
      "bench/leaks/overhead.ts",
      "--rounds",
      "1",
      "--requests",
      "300",
      "--json",
    ], {
      cwd: ROOT,
    });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(result.times), ["plain", "none", "sample", "all", "today"]);
    assert.equal(result.allocs, 300 * 6);
    for (const value of Object.values(result.ratios)) assert.ok(Number(value) > 0);
  },
});

Deno.test({
  name: "bench/leaks/scale.ts: a small heap through writeReport and every renderer",
  ignore: !built,
  async fn(): Promise<void> {
    const r = await runDeno(["run", "-A", "bench/leaks/scale.ts", "--sizes", "2000"], {
      cwd: ROOT,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /\n\| 2,000 \| \d+ ms \| [\d.]+ MiB \| -?\d+ ms \| -?\d+ ms \| -?\d+ ms \| [\d.]+ MiB \| (\d+ ms|n\/a) \|\n$/,
    );
  },
});
