// The package's documentation: every JSDoc @example and every TypeScript block of the README
// runs and its assertions hold (deno test --doc, subprocess), `deno doc --lint` is clean for each
// export of deno.json, and every relative link and image of the README points at a file the
// package ships.
import assert from "node:assert/strict";
import { repoPath, runDeno } from "./_helpers.ts";
import { CONFIG, packageFiles } from "./_package.ts";

Deno.test("the @example blocks of mod.ts, seed.ts and ffi/, and the README's code, pass", async () => {
  const { code, stdout, stderr } = await runDeno(
    ["test", "-A", "--doc", "--no-check=remote", "mod.ts", "seed.ts", "ffi/", "README.md"],
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

Deno.test("README: relative links and images point at files the package ships", async () => {
  const readme = Deno.readTextFileSync(repoPath("README.md"));
  const shipped = new Set((await packageFiles()).map((f) => f.path));
  const targets = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  const relative = targets.filter((t) => !/^[a-z]+:/.test(t) && !t.startsWith("#"));
  assert.ok(relative.length >= 3, `only ${relative.length} relative links`);
  for (const target of relative) {
    // JSR resolves "dir/file" against the package; "/dir/file" would point at jsr.io itself.
    assert.ok(!target.startsWith("/"), `${target}: a leading / breaks on the package page`);
    assert.ok(shipped.has(target.split("#")[0]), `${target} is not in the package`);
  }
  const anchors = new Set(
    [...readme.matchAll(/^#+ (.+)$/gm)].map((m) =>
      m[1].toLowerCase().replace(/[^\w\- ]/g, "").replaceAll(" ", "-")
    ),
  );
  for (const target of targets.filter((t) => t.startsWith("#"))) {
    assert.ok(anchors.has(target.slice(1)), `${target}: no such heading`);
  }
  assert.doesNotMatch(readme, /\b(issue|tracker) #?\d+|#\d+\b/i, "tracker numbers");
  assert.doesNotMatch(readme, /\bthe seed\b|\bseed's\b|design card/i, "course jargon");
});
