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

Deno.test("package: deno doc --lint is clean and deno publish --dry-run passes", async () => {
  const doc = await runDeno(["doc", "--lint", "mod.ts"], {
    cwd: repoPath(""),
    env: { NO_COLOR: "1" },
  });
  assert.equal(doc.code, 0, `${doc.stdout}\n${doc.stderr}`);
  const publish = await runDeno(["publish", "--dry-run", "--allow-dirty"], {
    cwd: repoPath(""),
    env: { NO_COLOR: "1" },
  });
  assert.equal(publish.code, 0, `${publish.stdout}\n${publish.stderr}`);
  const listing = publish.stdout + publish.stderr;
  for (const file of ["mod.ts", "ffi/heap.ts", "cli.ts", "zig/include/lmm.h", "README.md"]) {
    assert.ok(listing.includes(file), `${file} is not in the package:\n${listing}`);
  }
  assert.ok(!listing.includes("_test.ts"), "tests are not shipped");
});
