// Every JSDoc @example of the module runs and its assertions hold (deno test --doc, subprocess).
import assert from "node:assert/strict";
import { repoPath, runDeno } from "./_helpers.ts";

Deno.test("the @example blocks of mod.ts and ffi/ pass", async () => {
  const { code, stdout, stderr } = await runDeno(
    ["test", "-A", "--doc", "--no-check=remote", "mod.ts", "ffi/"],
    { cwd: repoPath(""), env: { NO_COLOR: "1" } },
  );
  const summary = stdout.split("\n").find((line) => /^(ok|FAILED) \|/.test(line));
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  const passed = Number(/(\d+) passed/.exec(summary ?? "")?.[1]);
  assert.ok(passed >= 30, `only ${passed} examples ran: ${summary}`);
});
