/**
 * `tsbpf playground`: its static server (MIME types, index.html for `/`, GET and HEAD
 * only, nothing outside its directory however the path is spelled) and the command
 * itself as a subprocess (it prints its URL and serves until SIGTERM; a bad port or a
 * missing build is an error naming it).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { DESCRIPTION, OPTIONS } from "../src/cli/playground/playground.ts";
import {
  resolveStatic,
  type StaticServer,
  serveStatic,
} from "../src/cli/playground/static-server.ts";
import { tsbpf } from "./cli-run.ts";

const ROOT = resolve(import.meta.dirname, "..");

let dir: string;
let server: StaticServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tsbpf-static-"));
  mkdirSync(join(dir, "site/sub"), { recursive: true });
  writeFileSync(join(dir, "site/index.html"), "<!doctype html><title>t</title>");
  writeFileSync(join(dir, "site/app.js"), "export {};");
  writeFileSync(join(dir, "site/style.css"), "body{}");
  writeFileSync(join(dir, "site/sub/index.html"), "sub");
  writeFileSync(join(dir, "site/blob.xyz"), "?");
  writeFileSync(join(dir, "secret.txt"), "outside");
  symlinkSync(join(dir, "secret.txt"), join(dir, "site/link.txt"));
  server = await serveStatic(join(dir, "site"), "127.0.0.1", 0);
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw request: the path is sent as written (no URL normalisation on the way). */
function get(
  path: string,
  method = "GET",
): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: "127.0.0.1", port: server.address.port, path, method }, (r) => {
      let body = "";
      r.setEncoding("utf8");
      r.on("data", (c) => {
        body += c;
      });
      r.on("end", () => res({ status: r.statusCode ?? 0, type: r.headers["content-type"], body }));
    });
    req.on("error", rej);
    req.end();
  });
}

test("files are served with their MIME types; / and directories give index.html", async () => {
  const cases: [string, string][] = [
    ["/", "text/html; charset=utf-8"],
    ["/index.html", "text/html; charset=utf-8"],
    ["/app.js", "text/javascript; charset=utf-8"],
    ["/style.css", "text/css; charset=utf-8"],
    ["/blob.xyz", "application/octet-stream"],
    ["/sub/", "text/html; charset=utf-8"],
    ["/app.js?v=1#x", "text/javascript; charset=utf-8"],
  ];
  for (const [path, type] of cases) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    assert.equal(r.type, type, path);
  }
  assert.equal((await get("/")).body, "<!doctype html><title>t</title>");
  assert.equal((await get("/sub")).body, "sub");
  const head = await get("/app.js", "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
});

test("nothing outside the directory: .., encoded .., backslashes, NUL, symlinks out", async () => {
  for (const path of [
    "/../secret.txt",
    "/sub/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/link.txt",
    "/missing.js",
  ]) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.doesNotMatch(r.body, /outside/, path);
  }
  for (const path of ["/%00", "/..%5csecret.txt", "/%e0%a4%a", "secret.txt"])
    assert.equal((await get(path)).status, 400, path);
  assert.equal(resolveStatic(join(dir, "site"), "/../secret.txt"), 404);
});

test("only GET and HEAD", async () => {
  for (const m of ["POST", "PUT", "DELETE"]) assert.equal((await get("/", m)).status, 405, m);
});

test("the described options are the parsed ones", () => {
  assert.deepEqual(
    DESCRIPTION.options.map((o) => [o.long, "short" in o ? o.short : undefined]),
    Object.entries(OPTIONS).map(([long, o]) => [long, "short" in o ? o.short : undefined]),
  );
});

test("tsbpf playground: bad words are errors; help prints the usage", async () => {
  let r = await tsbpf("playground", "--port", "70000");
  assert.equal(r.code, 255);
  assert.match(r.stderr, /playground: --port 70000: not a port number \(0\.\.65535\)/);
  r = await tsbpf("playground", "extra");
  assert.equal(r.code, 255);
  assert.match(r.stderr, /unexpected word 'extra'/);
  r = await tsbpf("playground", "help");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: tsbpf playground \[--port N\]/);
});

test("tsbpf playground --port 0 serves dist/playground until SIGTERM", async (t) => {
  const built = join(ROOT, "dist/playground/index.html");
  if (!existsSync(built)) {
    t.skip("dist/playground is not built: npm run build:playground");
    return;
  }
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "playground", "--port", "0"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = once(child, "exit");
  try {
    const url = await new Promise<string>((res, rej) => {
      let out = "";
      child.stdout.on("data", (c) => {
        out += c;
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
        if (m) res(m[0]);
      });
      child.on("exit", (code) => rej(new Error(`exited ${code} before serving: ${out}`)));
    });
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(await res.text(), /<title>tsbpf playground<\/title>/);
    const js = await fetch(`${url}playground.js`);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    await js.arrayBuffer();
  } finally {
    child.kill("SIGTERM");
  }
  const [code] = await exited;
  assert.equal(code, 0, "stops cleanly on SIGTERM");
});
