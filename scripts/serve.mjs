// A tiny static server for the demo and the end-to-end tests: www/ at /, and the
// built SDK (pkg/dist) at /sdk/. Binds 127.0.0.1 only.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

// URL prefix → folder. /test/ holds the end-to-end tests' own pages.
const mounts = [["/sdk/", "pkg/dist"], ["/schema/", "pkg"], ["/test/", "tests/e2e/pages"]];

function resolve(pathname, extraMounts) {
  const clean = normalize(decodeURIComponent(pathname)).replace(/^(\.\.[/\\])+/, "");
  for (const [prefix, dir] of [...extraMounts, ...mounts]) {
    if (clean.startsWith(prefix)) return resolvePath(root, dir, clean.slice(prefix.length) || "index.html");
  }
  return join(root, "www", clean.endsWith("/") ? clean + "index.html" : clean);
}

/**
 * Starts the server; resolves to { server, url }. `extraHeaders(pathname)` may add
 * headers (tests: CSP); `mounts` adds [prefix, folder] pairs (folder absolute or
 * relative to the repository); `delay(pathname, searchParams)` returns milliseconds
 * to wait before answering (tests: slow rules), or 0.
 */
export function serve({ port = 8080, host = "127.0.0.1", extraHeaders = () => ({}), mounts: extraMounts = [], delay = () => 0 } = {}) {
  const server = createServer(async (req, res) => {
    const { pathname, searchParams } = new URL(req.url, "http://x");
    const wait = Number(delay(pathname, searchParams)) || 0;
    // unref: a test server never keeps its process alive for a request that hangs on purpose.
    if (wait > 0) await new Promise((ok) => setTimeout(ok, wait).unref());
    try {
      const file = resolve(pathname, extraMounts);
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "cache-control": "no-store", ...extraHeaders(pathname) });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  return new Promise((ok) => server.listen(port, host, () => ok({ server, url: `http://${host}:${server.address().port}/` })));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await serve({ port: Number(process.env.PORT ?? 8080) });
  console.log(`Tailor demo: ${url}  (try ${url}?utm_campaign=spring)  Ctrl-C to stop`);
}
