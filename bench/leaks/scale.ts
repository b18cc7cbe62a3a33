// Reports at scale: for heaps of N live blocks (big_heap.ts, with sampled stacks and a timeline
// as under `lmm run`), the time writeReport takes and the file it writes, then the wall time of `lmm report` as text, as JSON and as HTML (each a fresh
// process, start-up included: measured alone as `lmm --version`), the HTML's size, and — when
// headless Chromium is here — the time the page takes until its script has drawn everything.
// Optionally a screenshot of the page for the largest N.
//
// Usage: deno run -A bench/leaks/scale.ts [--sizes 100000,1000000] [--screenshot FILE]
// Nothing here asserts on time.
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { findChromium, headless } from "../../tests/fixtures/cli/chromium.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string", default: "100000,1000000" },
    screenshot: { type: "string" },
  },
});
const sizes = values.sizes!.split(",").map(Number);
const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = Deno.execPath();

/** Runs `deno args…` (stdout thrown away); its wall time and stderr. */
async function timed(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ ms: number; err: string }> {
  const start = performance.now();
  const result = await new Deno.Command(deno, {
    args,
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const ms = performance.now() - start;
  const err = new TextDecoder().decode(result.stderr);
  if (result.code !== 0) throw new Error(`deno ${args.join(" ")}: exit ${result.code}\n${err}`);
  return { ms, err };
}

const cli = (...args: string[]): string[] => ["run", "-A", `${root}cli.ts`, ...args];
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const found = await findChromium();
const chromium = "path" in found ? found.path : null;
const startup = (await timed(cli("--version"))).ms;
const dir = await Deno.makeTempDir({ prefix: "lmm-scale-" });
const rows: string[] = [];
try {
  for (const n of sizes) {
    const report = join(dir, `heap-${n}.jsonl`);
    // As under `lmm run`: stacks sampled, the timeline kept (the exit report goes elsewhere).
    const made = await timed(
      ["run", "-A", `${root}bench/leaks/big_heap.ts`, String(n), "--write", report],
      { LMM_REPORT: join(dir, "exit.jsonl"), LMM_SITES: "sample" },
    );
    await Deno.remove(join(dir, "exit.jsonl"));
    const written = JSON.parse(made.err.trim().split("\n").at(-1)!);
    const text = await timed(cli("report", report));
    const json = await timed(cli("report", report, "--json"));
    const html = join(dir, `heap-${n}.html`);
    const page = await timed(cli("report", report, "--html", html));
    const htmlBytes = (await Deno.stat(html)).size;
    let ready = "n/a";
    if (chromium !== null) {
      const probe = html.replace(/\.html$/, ".probe.html");
      await Deno.writeTextFile(
        probe,
        (await Deno.readTextFile(html)).replace(
          "</body>",
          `<script>document.body.dataset.readyMs = performance.now().toFixed(0);</script></body>`,
        ),
      );
      const dom = await headless(chromium, pathToFileURL(probe).href, ["--dump-dom"]);
      ready = `${/data-ready-ms="(\d+)"/.exec(dom)?.[1] ?? "?"} ms`;
      if (values.screenshot && n === sizes.at(-1)) {
        await headless(chromium, pathToFileURL(html).href, [
          `--screenshot=${values.screenshot}`,
          "--window-size=1280,1500",
        ]);
      }
    }
    rows.push(
      `| ${n.toLocaleString("en")} | ${written.writeMs.toFixed(0)} ms | ${mib(written.bytes)} | ` +
        `${(text.ms - startup).toFixed(0)} ms | ${(json.ms - startup).toFixed(0)} ms | ` +
        `${(page.ms - startup).toFixed(0)} ms | ${mib(htmlBytes)} | ${ready} |`,
    );
    console.error(rows.at(-1));
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
console.log(`lmm start-up (lmm --version, subtracted below): ${startup.toFixed(0)} ms\n`);
console.log(
  "| live blocks | writeReport | report file | lmm report (text) | --json | --html | HTML file | Chromium: page ready |\n" +
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
);
for (const row of rows) console.log(row);
