// The HTML report as a person sees it: rendered by `lmm report --html`, opened in headless
// Chromium (Debian's package, installed here when missing and root), checked through the DOM
// after its script ran and through the README's screenshot, made by scripts/screenshot.ts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Report } from "../ffi/report_types.ts";
import { findChromium, headless } from "./fixtures/cli/chromium.ts";
import { FIXTURES, libraryBuilt, lmm, savedReport } from "./fixtures/cli/helpers.ts";
import { countColor, decodePng } from "./fixtures/cli/png.ts";
import { screenshot, SIZE } from "../scripts/screenshot.ts";

const LEAKY = join(FIXTURES, "leaky.report.json");
const found = await findChromium();
const chromium = "path" in found ? found.path : null;
if (chromium === null) {
  console.log(`SKIP cli_html_test: no headless Chromium (${"reason" in found && found.reason})`);
}

/** Renders the leaky sample to HTML in a temp dir; returns the dir and the file. */
async function render(): Promise<{ dir: string; html: string; report: Report }> {
  const dir = await Deno.makeTempDir({ prefix: "lmm-html-" });
  const html = join(dir, "report.html");
  const r = await lmm(["report", LEAKY, "--html", html]);
  assert.equal(r.code, 0, r.stderr);
  return { dir, html, report: JSON.parse(await Deno.readTextFile(LEAKY)) };
}

function reportBlocks(report: Report): number {
  return report.heaps.flatMap((h) => h.pages).reduce((n, p) => n + p.blocks.length, 0);
}

Deno.test({
  name: "HTML report in Chromium: every block of the report is drawn, the tooltip tells it",
  ignore: chromium === null,
  async fn(): Promise<void> {
    const { dir, html, report } = await render();
    try {
      // A copy with a probe that hovers one block and records the tooltip.
      const probe = join(dir, "probe.html");
      await Deno.writeTextFile(
        probe,
        (await Deno.readTextFile(html)).replace(
          "</body>",
          `<script>
const block = document.querySelectorAll(".page .blk")[4];
block.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
const tip = document.getElementById("tip");
document.body.dataset.tip = tip.hidden ? "(hidden)" : tip.textContent.replaceAll("\\n", " | ");
</script></body>`,
        ),
      );
      const dom = await headless(chromium!, pathToFileURL(probe).href, ["--dump-dom"]);
      const drawn = /data-drawn-blocks="(\d+)"/.exec(dom)?.[1];
      assert.equal(Number(drawn), reportBlocks(report), "drawn blocks = the report's blocks");
      assert.equal(Number(/data-drawn-pages="(\d+)"/.exec(dom)?.[1]), 5);
      assert.equal(
        /data-tip="([^"]*)"/.exec(dom)?.[1],
        "used block · emp_t | offset 384 (0x180) | addr   0x7f3a2c400180 | size   368 B" +
          " | asked  360 B" +
          " | site   /srv/app/leaky.ts:18",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "HTML report in Chromium: the README's screenshot (scripts/screenshot.ts) shows the heap map in the families' colours",
  ignore: chromium === null || !libraryBuilt(),
  async fn(): Promise<void> {
    const dir = await Deno.makeTempDir({ prefix: "lmm-html-" });
    try {
      const png = join(dir, "shot.png");
      await screenshot(png, chromium!);
      const image = await decodePng(await Deno.readFile(png));
      assert.equal(image.width, SIZE.width);
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
      const { path: saved, report } = await savedReport("churn.ts", dir);
      const html = join(dir, "churn.html");
      const r = await lmm(["report", saved, "--html", html]);
      assert.equal(r.code, 0, r.stderr);
      const dom = await headless(chromium!, pathToFileURL(html).href, ["--dump-dom"]);
      const drawn = Number(/data-drawn-blocks="(\d+)"/.exec(dom)?.[1]);
      assert.ok(drawn > 100, `only ${drawn} blocks`);
      assert.equal(drawn, reportBlocks(report));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
