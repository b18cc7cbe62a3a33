/**
 * `deno task screenshot`: remakes the README's picture of the HTML report,
 * `cli/report-screenshot.png`, from a real run — `lmm run --html` on
 * `tests/fixtures/cli/churn.ts` (several families, a seeded mix of
 * allocations and frees, some blocks left live), photographed by headless
 * Chromium (Debian's package, installed with apt-get when missing and root).
 * The HTML report test calls {@link screenshot} too, so the picture can
 * always be remade.
 *
 * Usage: deno run -A scripts/screenshot.ts [OUT.png]
 *
 * @module
 */

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { findChromium, headless } from "../tests/fixtures/cli/chromium.ts";
import { ROOT } from "./release.ts";

/** The picture in the README. */
export const SCREENSHOT: string = join(ROOT, "cli/report-screenshot.png");
/** Its size in CSS pixels. */
export const SIZE = { width: 1280, height: 1060 } as const;

/**
 * Runs the churn program under `lmm run --html` and photographs the report.
 *
 * @param out The PNG to write.
 * @param chromium The Chromium binary.
 * @throws {Error} When the run or the photograph fails.
 */
export async function screenshot(out: string, chromium: string): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "lmm-screenshot-" });
  try {
    const html = join(dir, "report.html");
    const program = [Deno.execPath(), "run", "-A", join(ROOT, "tests/fixtures/cli/churn.ts")];
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "cli.ts"), "run", "--html", html, "--", ...program],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(`lmm run failed (${code}): ${new TextDecoder().decode(stderr)}`);
    }
    await headless(chromium, pathToFileURL(html).href, [
      `--screenshot=${out}`,
      `--window-size=${SIZE.width},${SIZE.height}`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const out = Deno.args[0] ?? SCREENSHOT;
  const found = await findChromium();
  if ("reason" in found) {
    console.error(`screenshot: no headless Chromium: ${found.reason}`);
    Deno.exit(1);
  }
  await screenshot(out, found.path);
  console.log(`screenshot: ${out}`);
}
