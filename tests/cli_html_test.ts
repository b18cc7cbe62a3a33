// The HTML report as a person sees it: rendered by `lmm report --html`, opened in headless
// Chromium (Debian's package, installed here when missing and root), checked through the DOM
// after its script ran (and after a probe clicked, filtered and hovered) and through a
// screenshot — for the small sample report, a real program's, and a heap of a million blocks.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { findChromium, headless } from "./fixtures/cli/chromium.ts";
import { FIXTURES, libraryBuilt, lmm, modelOf, ROOT } from "./fixtures/cli/helpers.ts";
import { countColor, decodePng } from "./fixtures/cli/png.ts";
import { runDeno } from "./_helpers.ts";

const LEAKY = join(FIXTURES, "leaky.report.jsonl");
const found = await findChromium();
const chromium = "path" in found ? found.path : null;
if (chromium === null) {
  console.log(`SKIP cli_html_test: no headless Chromium (${"reason" in found && found.reason})`);
}

/** Renders a report to HTML in a fresh temp dir; returns the dir and the file. */
async function render(report: string): Promise<{ dir: string; html: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lmm-html-" });
  const html = join(dir, "report.html");
  const r = await lmm(["report", report, "--html", html]);
  assert.equal(r.code, 0, r.stderr);
  return { dir, html };
}

/**
 * Opens `html` with `probe` (a script) run after the page's own, and returns what the probe
 * stored in `document.body.dataset.probe` (JSON) and the DOM.
 */
async function probe(
  html: string,
  code: string,
): Promise<{ result: Record<string, unknown>; dom: string }> {
  const file = html.replace(/\.html$/, ".probe.html");
  await Deno.writeTextFile(
    file,
    (await Deno.readTextFile(html)).replace(
      "</body>",
      `<script>(() => { const out = {}; ${code}; document.body.dataset.probe = JSON.stringify(out); })();</script></body>`,
    ),
  );
  const dom = await headless(chromium!, pathToFileURL(file).href, ["--dump-dom"]);
  const raw = /data-probe="([^"]*)"/.exec(dom)?.[1];
  assert.ok(raw !== undefined, "the probe did not run");
  const text = raw.replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
  return { result: JSON.parse(text), dom };
}

Deno.test({
  name: "HTML report in Chromium: every block drawn; a block's tooltip tells its stack",
  ignore: chromium === null,
  async fn(): Promise<void> {
    const { dir, html } = await render(LEAKY);
    try {
      const { result, dom } = await probe(
        html,
        `const block = document.querySelectorAll(".page .blk")[4];
         block.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
         const tip = document.getElementById("tip");
         out.tip = tip.hidden ? "(hidden)" : tip.textContent.split("\\n");`,
      );
      assert.equal(Number(/data-drawn-blocks="(\d+)"/.exec(dom)?.[1]), 22);
      assert.equal(Number(/data-drawn-pages="(\d+)"/.exec(dom)?.[1]), 6);
      assert.deepEqual(result.tip, [
        "live block, direct leak · emp_t",
        "offset 384 (0x180)",
        "addr   0x7f3a2c400180",
        "size   368 B",
        "asked  360 B",
        "stack  makeEmployee (/srv/app/leaky.ts:18:10)",
        "       hire (/srv/app/staff.ts:7:12)",
        "       main (/srv/app/leaky.ts:36:5)",
        "       /srv/app/leaky.ts:44:1",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "HTML report in Chromium: the screenshot shows the heap map in the families' colours",
  ignore: chromium === null,
  async fn(): Promise<void> {
    const { dir, html } = await render(LEAKY);
    try {
      const png = join(dir, "shot.png");
      await headless(chromium!, pathToFileURL(html).href, [
        `--screenshot=${png}`,
        "--window-size=1200,900",
      ]);
      const image = await decodePng(await Deno.readFile(png));
      assert.equal(image.width, 1200);
      const background = countColor(image, [0xf7, 0xf8, 0xfa], 2) +
        countColor(image, [0xff, 0xff, 0xff], 2);
      const total = image.width * image.height;
      assert.ok(total - background > total * 0.05, "the picture is (nearly) blank");
      // Used blocks are solid in their family's colour: bytes, emp_t, student_t.
      for (
        const [name, rgb] of [
          ["bytes", [0x4e, 0x79, 0xa7]],
          ["emp_t", [0xf2, 0x8e, 0x2b]],
          ["student_t", [0x59, 0xa1, 0x4f]],
        ] as const
      ) {
        assert.ok(countColor(image, [...rgb]) > 1000, `no ${name} blocks in the picture`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "HTML report in Chromium: a real program's report (churn.ts) is drawn whole",
  ignore: chromium === null || !libraryBuilt(),
  async fn(): Promise<void> {
    const dir = await Deno.makeTempDir({ prefix: "lmm-html-" });
    try {
      const run = await lmm([
        "run",
        "--json",
        "--",
        Deno.execPath(),
        "run",
        "-A",
        join(FIXTURES, "churn.ts"),
      ]);
      assert.equal(run.code, 0, run.stderr);
      const saved = join(dir, "churn.jsonl");
      await Deno.writeTextFile(saved, run.stdout);
      const { html } = await render(saved);
      const [heap] = modelOf(run.stdout).heaps;
      const dom = await headless(chromium!, pathToFileURL(html).href, ["--dump-dom"]);
      const drawn = Number(/data-drawn-blocks="(\d+)"/.exec(dom)?.[1]);
      assert.ok(drawn > 100, `only ${drawn} blocks`);
      assert.equal(drawn, heap.blockCount);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "HTML report of a million live blocks: under 5 MB, and in Chromium it sorts, filters, opens sites",
  ignore: chromium === null || !libraryBuilt(),
  async fn(): Promise<void> {
    const dir = await Deno.makeTempDir({ prefix: "lmm-html-" });
    try {
      const report = join(dir, "million.jsonl");
      const made = await runDeno(["run", "-A", join(ROOT, "bench/leaks/big_heap.ts"), "1000000"], {
        env: { LMM_REPORT: report },
      });
      assert.equal(made.code, 0, made.stderr);
      assert.equal(made.stdout, "big_heap: 1000000 live blocks\n");
      const { html } = await render(report);
      const size = (await Deno.stat(html)).size;
      assert.ok(size <= 5 * 1024 * 1024, `${size} bytes`);
      const { result } = await probe(
        html,
        `const report = document.getElementById("report");
         out.ready = report.dataset.ready;
         out.cells = Number(report.dataset.drawnCells);
         const families = [...document.querySelectorAll("table.sortable")]
           .find((t) => t.tHead.textContent.includes("mapped"));
         const th = [...families.tHead.rows[0].cells].find((c) => c.textContent === "frees");
         const firstRow = () => families.tBodies[0].rows[0].dataset.family;
         th.click();
         out.byFreesDescending = firstRow();
         th.click();
         out.byFreesAscending = firstRow();
         const select = document.querySelector("select.family-filter");
         select.value = "item_t";
         select.dispatchEvent(new Event("change"));
         const shown = (selector) => [...document.querySelectorAll(selector)].filter((e) => !e.hidden)
           .map((e) => e.dataset.family);
         out.filteredRows = shown("table.sortable tbody tr[data-family]");
         out.filteredSites = shown("details.site");
         select.value = "";
         select.dispatchEvent(new Event("change"));
         const site = document.querySelector("details.site");
         site.open = true;
         out.siteSummary = site.querySelector("summary").textContent;
         out.frames = [...site.querySelectorAll(".frames li")].map((li) => li.textContent);
         out.examples = site.querySelectorAll(".examples tbody tr").length;
         const canvas = document.querySelector("canvas.strip");
         const box = canvas.getBoundingClientRect();
         canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: box.left + 1, clientY: box.top + 1 }));
         out.cellTip = document.getElementById("tip").textContent.split("\\n");`,
      );
      assert.equal(result.ready, "1");
      const [heap] = modelOf(await Deno.readTextFile(report)).heaps;
      assert.equal(heap.leaks?.blocks, 1_000_000);
      assert.equal(
        result.cells,
        Math.ceil(heap.pages.count / Math.ceil(heap.pages.count / 20_000)),
      );
      assert.equal(result.byFreesDescending, "item_t");
      assert.equal(result.byFreesAscending, "node_t");
      assert.ok((result.filteredRows as string[]).length > 0);
      assert.ok((result.filteredRows as string[]).every((f) => f === "item_t"));
      assert.ok((result.filteredSites as string[]).every((f) => f === "item_t"));
      assert.match(result.siteSummary as string, /in \d+ blocks/);
      assert.match(
        (result.frames as string[])[0],
        /^make(Items|Node) \(bench\/leaks\/big_heap\.ts:\d+:\d+\)$/,
      );
      assert.ok((result.examples as number) > 0);
      assert.match((result.cellTip as string[])[0], /^(page|\d+ pages from) 0x[0-9a-f]+$/);
      assert.match((result.cellTip as string[])[1], /^family (node_t|item_t)$/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
