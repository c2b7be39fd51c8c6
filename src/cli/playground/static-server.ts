/**
 * A static file server for one directory, for local use: GET and HEAD only, MIME types
 * by extension, `/` and directories answered with their index.html, and no way out of
 * the directory (`..`, encoded or not, absolute paths, NUL bytes, symbolic links that
 * lead outside are all 404 or 400).
 *
 * @module
 */
import { createReadStream, realpathSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, sep } from "node:path";
import { type ListeningServer, listen } from "../http-listen.ts";

/** Content types by file extension; anything else is application/octet-stream. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
  ".o": "application/x-elf",
};

/** A listening static server. */
export type StaticServer = ListeningServer;

/**
 * The file under `root` (a real path) that URL path `urlPath` names, or an HTTP status
 * saying why there is none (400 for a malformed path, 404 for anything missing or
 * outside `root`).
 */
export function resolveStatic(root: string, urlPath: string): string | 400 | 404 {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return 400;
  }
  if (!decoded.startsWith("/") || decoded.includes("\0") || decoded.includes("\\")) return 400;
  // Any `..` segment is refused outright rather than normalised away.
  if (decoded.split("/").some((s) => s === "..")) return 404;
  let file = join(root, decoded);
  try {
    if (statSync(file).isDirectory()) file = join(file, "index.html");
    const real = realpathSync(file);
    if (real !== root && !real.startsWith(root + sep)) return 404;
    if (!statSync(real).isFile()) return 404;
    return real;
  } catch {
    return 404;
  }
}

/**
 * Serves the files under `dir` on `host:port`.
 * @throws Error when the port cannot be listened on (in use, not allowed).
 */
export async function serveStatic(dir: string, host: string, port: number): Promise<StaticServer> {
  const root = realpathSync(dir);
  const server: Server = createServer((req, res) => {
    const text = (status: number, body: string, headers: Record<string, string> = {}) =>
      res
        .writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers })
        .end(req.method === "HEAD" ? undefined : `${body}\n`);
    if (req.method !== "GET" && req.method !== "HEAD") {
      text(405, "method not allowed", { allow: "GET, HEAD" });
      return;
    }
    const path = (req.url ?? "/").split(/[?#]/)[0] as string;
    const file = resolveStatic(root, path);
    if (file === 400) return text(400, "bad request");
    if (file === 404) return text(404, "not found");
    res.writeHead(200, {
      "content-type": MIME_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
      "content-length": String(statSync(file).size),
      "x-content-type-options": "nosniff",
      "cache-control": "no-cache",
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    createReadStream(file)
      .on("error", () => res.destroy())
      .pipe(res);
  });
  return listen(server, host, port);
}
