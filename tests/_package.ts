// Helpers of the package tests (not a test file itself): the release layout (scripts/release,
// run here when its files are missing), the package's file list as `deno publish --dry-run`
// reports it, and a local HTTP server on 127.0.0.1 that serves exactly those files twice: as a
// plain tree (`/tree/mod.ts`, as any URL import sees them) and as a JSR registry
// (`/@lmm/lmm/<version>/…` with its meta files, for `JSR_URL`).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { prebuiltFileName } from "../ffi/native/loader.ts";
import { TARGETS } from "../scripts/release.ts";
import { repoPath, runDeno } from "./_helpers.ts";

/** The platforms a release carries. */
export const PLATFORMS: string[] = TARGETS.map((t) => t.platform);
/** The release folder. */
export const PREBUILT = repoPath("ffi/native/prebuilt");

/** deno.json of the repository. */
export const CONFIG: { name: string; version: string; exports: Record<string, string> } = JSON
  .parse(Deno.readTextFileSync(repoPath("deno.json")));

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs scripts/release when a file of the release layout is missing. */
export async function ensureRelease(): Promise<void> {
  const files = ["checksums.ts", ...PLATFORMS.map(prebuiltFileName)];
  if (files.every((f) => exists(join(PREBUILT, f)))) return;
  const { code, stderr } = await new Deno.Command("bash", {
    args: [repoPath("scripts/release")],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, `scripts/release failed: ${new TextDecoder().decode(stderr)}`);
}

/** A file of the package: its path relative to the root and its size. */
export interface PackageFile {
  path: string;
  size: number;
}

let listed: PackageFile[] | undefined;

/**
 * The files `deno publish --dry-run` would upload (after {@link ensureRelease}).
 *
 * @returns Paths relative to the repository root, with sizes, sorted.
 */
export async function packageFiles(): Promise<PackageFile[]> {
  if (listed !== undefined) return listed;
  await ensureRelease();
  const root = repoPath("");
  const { code, stdout, stderr } = await runDeno(["publish", "--dry-run", "--allow-dirty"], {
    cwd: root,
    env: { NO_COLOR: "1" },
  });
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  const prefix = `file://${root}`;
  listed = (stdout + stderr).split("\n")
    .map((line) => /^\s+(file:\/\/\S+) \(/.exec(line)?.[1])
    .filter((url): url is string => url !== undefined && url.startsWith(prefix))
    .map((url) => {
      const path = decodeURIComponent(url.slice(prefix.length));
      return { path, size: Deno.statSync(join(root, path)).size };
    })
    .sort((a, b) => a.path < b.path ? -1 : 1);
  assert.ok(listed.length > 10, `no file list in:\n${stdout}\n${stderr}`);
  return listed;
}

/** What the server answers for one file instead of its bytes (null: 404). */
export type Tamper = (path: string, bytes: Uint8Array) => Uint8Array | null;

/** A running package server. */
export interface PackageServer {
  /** `http://127.0.0.1:<port>/tree/`: the package as a plain URL tree. */
  tree: string;
  /** `http://127.0.0.1:<port>/`: the JSR registry, for `JSR_URL`. */
  jsrUrl: string;
  /** Requests so far, by package path (`ffi/native/prebuilt/…`), from both views. */
  hits(path: string): number;
  /** Stops the server. */
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  ts: "application/typescript",
  json: "application/json",
  md: "text/markdown",
  svg: "image/svg+xml",
  png: "image/png",
};

/**
 * Serves the package's files on 127.0.0.1 (port chosen by the system).
 *
 * @param tamper Changes the bytes served for a file, or leaves it out (to test failures).
 * @returns The server.
 */
export async function servePackage(tamper?: Tamper): Promise<PackageServer> {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const { path } of await packageFiles()) {
    const bytes = Deno.readFileSync(repoPath(path));
    const served = tamper ? tamper(path, bytes) : bytes;
    if (served !== null) files.set(path, new Uint8Array(served));
  }
  const manifest = Object.fromEntries(
    [...files].map(([path, bytes]) => [`/${path}`, {
      size: bytes.length,
      checksum: `sha256-${createHash("sha256").update(bytes).digest("hex")}`,
    }]),
  );
  const [scope, name] = CONFIG.name.slice(1).split("/");
  const jsrBase = `/@${scope}/${name}`;
  const hits = new Map<string, number>();
  const file = (path: string): Response => {
    const bytes = files.get(path);
    if (bytes === undefined) return new Response("not found", { status: 404 });
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const type = CONTENT_TYPES[path.split(".").pop()!] ?? "application/octet-stream";
    return new Response(bytes, { headers: { "content-type": type } });
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    if (path.startsWith("/tree/")) return file(path.slice("/tree/".length));
    if (path === `${jsrBase}/meta.json`) {
      return Response.json({
        scope,
        name,
        latest: CONFIG.version,
        versions: { [CONFIG.version]: {} },
      });
    }
    if (path === `${jsrBase}/${CONFIG.version}_meta.json`) {
      return Response.json({ manifest, exports: CONFIG.exports });
    }
    const prefix = `${jsrBase}/${CONFIG.version}/`;
    if (path.startsWith(prefix)) return file(path.slice(prefix.length));
    return new Response("not found", { status: 404 });
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    tree: `${origin}/tree/`,
    jsrUrl: `${origin}/`,
    hits: (path) => hits.get(path) ?? 0,
    close: () => server.shutdown(),
  };
}

/** ELF machine numbers. */
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

/** What a 64-bit little-endian ELF file's header and section names say. */
export function elf(bytes: Uint8Array): { machine: number; type: number; sections: string[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], "ELF magic");
  assert.equal(bytes[4], 2, "64-bit");
  assert.equal(bytes[5], 1, "little endian");
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  const section = (i: number): { name: number; offset: number } => ({
    name: view.getUint32(shoff + i * shentsize, true),
    offset: Number(view.getBigUint64(shoff + i * shentsize + 0x18, true)),
  });
  const strtab = section(shstrndx).offset;
  const sections = Array.from({ length: shnum }, (_, i) => {
    const start = strtab + section(i).name;
    return new TextDecoder().decode(bytes.subarray(start, bytes.indexOf(0, start)));
  });
  return { machine: view.getUint16(0x12, true), type: view.getUint16(0x10, true), sections };
}
