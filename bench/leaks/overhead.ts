// The cost of leak tracking on an allocation-heavy program (workload.ts), measured side by side:
// the same program run plain, under `lmm run --sites none|sample|all`, and with the site capture
// LMM used before issue 10 ("today": `new Error().stack` parsed per allocation). The runs
// alternate (plain none sample all today, plain none …) for ROUNDS rounds; each run reports the
// time of its own work loop, so process start-up and report writing are left out. Prints the
// median of each mode and the paired median ratios as a Markdown table.
//
// Usage: deno run -A bench/leaks/overhead.ts [--rounds 5] [--requests 150000] [--json]
// Nothing here asserts on time (tests/bench_smoke_test.ts runs it with a token workload).
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    requests: { type: "string", default: "150000" },
    json: { type: "boolean", default: false },
  },
});
const rounds = Number(values.rounds);
const requests = values.requests!;
const root = fileURLToPath(new URL("../../", import.meta.url));
const workload = `${root}bench/leaks/workload.ts`;
const deno = Deno.execPath();
const lmm = [deno, "run", "-A", `${root}cli.ts`, "run"];

const MODES: Record<string, string[]> = {
  plain: [deno, "run", "-A", workload, requests],
  none: [...lmm, "--sites", "none", "--", deno, "run", "-A", workload, requests],
  sample: [...lmm, "--sites", "sample", "--", deno, "run", "-A", workload, requests],
  all: [...lmm, "--sites", "all", "--", deno, "run", "-A", workload, requests],
  today: [deno, "run", "-A", workload, requests, "--today"],
};

async function once(command: string[]): Promise<{ ms: number; allocs: number }> {
  const { code, stderr } = await new Deno.Command(command[0], {
    args: command.slice(1),
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(stderr);
  const line = text.split("\n").find((l) => l.startsWith('{"ms"'));
  if (code !== 0 || line === undefined) {
    throw new Error(`${command.join(" ")}: exit ${code}\n${text}`);
  }
  return JSON.parse(line);
}

const times: Record<string, number[]> = Object.fromEntries(Object.keys(MODES).map((m) => [m, []]));
let allocs = 0;
for (let round = 0; round < rounds; round++) {
  for (const [mode, command] of Object.entries(MODES)) {
    const result = await once(command);
    times[mode].push(result.ms);
    allocs = result.allocs;
  }
  console.error(
    `round ${round + 1}/${rounds}: ${
      Object.entries(times).map(([m, t]) => `${m} ${t.at(-1)!.toFixed(0)} ms`).join(", ")
    }`,
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const ratio = (a: string, b: string): number => median(times[a].map((t, i) => t / times[b][i]));
const perAlloc = (mode: string): string =>
  `${((median(times[mode]) * 1000) / allocs).toFixed(2)} µs`;
const ratios = {
  "sample ÷ none": ratio("sample", "none"),
  "all ÷ none": ratio("all", "none"),
  "today ÷ all": ratio("today", "all"),
  "none ÷ plain": ratio("none", "plain"),
};
if (values.json) {
  console.log(JSON.stringify({ rounds, requests: Number(requests), allocs, times, ratios }));
} else {
  console.log(`${allocs} allocations per run, ${rounds} rounds, medians:\n`);
  console.log("| mode | work time | per allocation |\n| --- | ---: | ---: |");
  for (const mode of Object.keys(MODES)) {
    console.log(`| ${mode} | ${median(times[mode]).toFixed(0)} ms | ${perAlloc(mode)} |`);
  }
  console.log("\n| paired ratio | median |\n| --- | ---: |");
  for (const [name, value] of Object.entries(ratios)) {
    console.log(`| ${name} | ${value.toFixed(2)}× |`);
  }
}
