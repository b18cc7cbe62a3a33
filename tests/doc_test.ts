// The package's documentation: every JSDoc @example runs and its assertions hold (deno test
// --doc, subprocess) and `deno doc --lint` is clean for each export of deno.json.
import assert from "node:assert/strict";
import { repoPath, runDeno } from "./_helpers.ts";
const CONFIG: { exports: Record<string, string> } = JSON.parse(
  Deno.readTextFileSync(repoPath("deno.json")),
);

Deno.test("the @example blocks of mod.ts, seed.ts and ffi/ pass", async () => {
  const { code, stdout, stderr } = await runDeno(
    ["test", "-A", "--doc", "--no-check=remote", "mod.ts", "seed.ts", "ffi/"],
    { cwd: repoPath(""), env: { NO_COLOR: "1" } },
  );
  const summary = stdout.split("\n").find((line) => /^(ok|FAILED) \|/.test(line));
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  const passed = Number(/(\d+) passed/.exec(summary ?? "")?.[1]);
  assert.ok(passed >= 30, `only ${passed} examples ran: ${summary}`);
});

Deno.test("deno doc --lint is clean for each export, and each has a module doc", async (t) => {
  assert.deepEqual(Object.keys(CONFIG.exports), [".", "./seed", "./cli"]);
  for (const [name, file] of Object.entries(CONFIG.exports)) {
    await t.step(`${name} (${file})`, async () => {
      const doc = await runDeno(["doc", "--lint", file], {
        cwd: repoPath(""),
        env: { NO_COLOR: "1" },
      });
      assert.equal(doc.code, 0, `${doc.stdout}\n${doc.stderr}`);
      const json = await runDeno(["doc", "--json", file], { cwd: repoPath("") });
      assert.equal(json.code, 0, json.stderr);
      const { nodes } = JSON.parse(json.stdout) as {
        nodes: Record<string, { module_doc?: { doc?: string } }>;
      };
      const moduleDoc = Object.values(nodes)[0]?.module_doc?.doc ?? "";
      assert.ok(moduleDoc.length > 200, `${file} has no module doc worth the name`);
    });
  }
});
