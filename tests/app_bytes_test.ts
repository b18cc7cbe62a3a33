// One meaning of "app bytes" in every rendering: the bytes the program asked for and still holds
// (units × struct size of its live blocks). `lmm demo`'s AppMemUsage and `lmm demo --json`'s
// appBytes agree step by step; `lmm report`'s text and HTML tables show the report's appBytes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatBytes } from "../cli/format.ts";
import type { Report } from "../ffi/report_types.ts";
import { LIBRARY, libraryBuilt, lmm, savedReport } from "./fixtures/cli/helpers.ts";

const built = libraryBuilt();
if (!built) console.log(`SKIP app_bytes_test: ${LIBRARY} is not built (scripts/build)`);

/** AppMemUsage by family, one map per scenario of the demo's text. */
function demoText(text: string): Map<string, number>[] {
  return text.split(/^SCENARIO \d : \*+ $/m).slice(1).map((step) =>
    new Map(
      [...step.matchAll(/^(\w+) +TBC : \d+ +FBC : \d+ +OBC : \d+ +AppMemUsage : (\d+)$/gm)]
        .map((m) => [m[1], Number(m[2])]),
    )
  );
}

Deno.test({
  name: "app bytes: demo's AppMemUsage is demo --json's appBytes, step by step (units 1 and 7)",
  ignore: !built,
  async fn(): Promise<void> {
    for (const units of ["1", "7"]) {
      const text = await lmm(["demo", "--units", units]);
      const json = await lmm(["demo", "--units", units, "--json"]);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(json.code, 0, json.stderr);
      const { steps } = JSON.parse(json.stdout) as { steps: { report: Report }[] };
      const fromJson = steps.map(({ report }) =>
        new Map(
          report.heaps[0].families.filter((f) => f.name !== "bytes").map((f) => [
            f.name,
            f.appBytes,
          ]),
        )
      );
      assert.deepEqual(demoText(text.stdout), fromJson);
      // And what the program asked for: 3 emp_t (36 B) and 2 student_t (56 B), then 1 and 1.
      const n = Number(units);
      assert.deepEqual(fromJson.map((m) => [m.get("emp_t"), m.get("student_t")]), [
        [3 * 36 * n, 2 * 56 * n],
        [36 * n, 56 * n],
        [0, 0],
      ]);
    }
  },
});

/** The cells of the column titled `title` by row name, from aligned text table lines. */
function textColumn(text: string, title: string): Map<string, string> {
  const lines = text.split("\n");
  const head = lines.findIndex((l) => /^ {2}family +struct/.test(l));
  const end = lines[head].indexOf(title) + title.length; // the column is right-aligned
  const cells = new Map<string, string>();
  for (const line of lines.slice(head + 1)) {
    if (line.trim() === "") break;
    const cell = /(\S+ \S+|\S+)$/.exec(line.slice(0, end))![1];
    cells.set(line.trim().split(/\s+/)[0], cell);
  }
  return cells;
}

/** The cells of the column titled `title` by row name, from the HTML family table. */
function htmlColumn(html: string, title: string): Map<string, string> {
  const table = [...html.matchAll(/<table[^>]*>[\s\S]*?<\/table>/g)].map((m) => m[0])
    .find((t) => t.includes(`>${title}</th>`) && t.includes(">struct</th>"))!;
  const titles = [...table.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
  const column = titles.indexOf(title);
  const cells = new Map<string, string>();
  for (const [, row] of table.matchAll(/<tr[^>]*>((?:<td[\s\S]*?<\/td>)+)<\/tr>/g)) {
    const values = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)]
      .map((m) => m[1].replace(/<[^>]*>/g, ""));
    cells.set(values[0], values[column]);
  }
  return cells;
}

Deno.test({
  name: "app bytes: lmm report's text and HTML family tables show the report's appBytes",
  ignore: !built,
  async fn(): Promise<void> {
    const dir = await Deno.makeTempDir({ prefix: "lmm-appbytes-" });
    try {
      const { path: saved, report } = await savedReport("leaky.ts", dir);
      const [{ heap }] = report.heaps;
      // The tables leave out "bytes" when nothing was ever allocated in it (untyped
      // requests went to their size classes, "bytes/1024" here).
      const shown = heap.families.filter((f) => f.id !== 0 || f.allocCount > 0 || f.pages > 0);
      const expected = new Map([
        ...shown.map((f) => [f.name, formatBytes(f.appBytes)] as const),
        ["total", formatBytes(heap.totals.appBytes)],
      ]);
      assert.ok(heap.totals.appBytes > 0);

      const text = await lmm(["report", saved]);
      assert.equal(text.code, 0, text.stderr);
      assert.deepEqual(textColumn(text.stdout, "app bytes"), expected);

      const htmlFile = join(dir, "leaky.html");
      const html = await lmm(["report", saved, "--html", htmlFile]);
      assert.equal(html.code, 0, html.stderr);
      assert.deepEqual(htmlColumn(await Deno.readTextFile(htmlFile), "app bytes"), expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
