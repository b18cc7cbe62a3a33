/**
 * `deno task gen-abi`: writes the derived copies of the C ABI from
 * `zig/src/abi.zig` (the one source) — `ffi/native/abi.ts` and the two
 * generated blocks of `zig/include/lmm.h` — using `zig build gen-abi`.
 *
 *   deno run -A scripts/gen_abi.ts            rewrite the files
 *   deno run -A scripts/gen_abi.ts --check    exit 1 (and say which) when a
 *                                             committed copy is stale
 *   --root DIR                                 compare or write the copies of
 *                                             another checkout
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";

const { values } = parseArgs({
  args: Deno.args,
  options: { check: { type: "boolean", default: false }, root: { type: "string" } },
});
const root = values.root ?? new URL("..", import.meta.url).pathname;
const zigDir = new URL("../zig", import.meta.url).pathname;

async function run(command: string, args: string[], cwd: string, input?: string): Promise<string> {
  const child = new Deno.Command(command, {
    args,
    cwd,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  const out = await child.output();
  if (!out.success) throw new Error(`${command} ${args.join(" ")} failed`);
  return new TextDecoder().decode(out.stdout);
}

const generate = (what: string): Promise<string> =>
  run("zig", ["build", "gen-abi", "--", what], zigDir);

/** Replaces the block that starts at `begin` and ends with its `END GENERATED` line. */
function replaceBlock(text: string, begin: string, block: string): string {
  const start = text.indexOf(begin);
  const endMark = "/* END GENERATED */\n";
  const end = text.indexOf(endMark, start);
  if (start < 0 || end < 0) throw new Error(`lmm.h has no block starting "${begin}"`);
  return text.slice(0, start) + block + text.slice(end + endMark.length);
}

const headerPath = join(root, "zig/include/lmm.h");
const tsPath = join(root, "ffi/native/abi.ts");
let header = Deno.readTextFileSync(headerPath);
header = replaceBlock(header, "/* BEGIN GENERATED from", await generate("defines"));
header = replaceBlock(header, "/* BEGIN GENERATED layout checks", await generate("asserts"));
// As `deno fmt` writes it: the repository is checked with `deno fmt --check`.
const ts = await run(Deno.execPath(), ["fmt", "--ext=ts", "-"], root, await generate("ts"));

const stale: string[] = [];
for (const [path, text] of [[headerPath, header], [tsPath, ts]]) {
  if (Deno.readTextFileSync(path) === text) continue;
  if (values.check) stale.push(path);
  else Deno.writeTextFileSync(path, text);
}
if (stale.length > 0) {
  console.error(`stale ABI copies (run \`deno task gen-abi\`): ${stale.join(", ")}`);
  Deno.exit(1);
}
