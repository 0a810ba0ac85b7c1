#!/usr/bin/env node
// A static file server for the demo page and the browser test, on 127.0.0.1 only:
//   node scripts/serve.mjs [port]      then open http://127.0.0.1:<port>/examples/browser/
// Serves the repository root, and /shared/ from the workplace's shared folder (the CLIP
// vocabulary; CLIPMPCAD_SHARED or ../shared). Range requests are honoured (the weights
// reader uses them). Also importable: startServer(root, port) -> { url, close }.
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".css": "text/css",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".wgsl": "text/plain",
};

export function startServer(root = process.cwd(), port = 0, shared = process.env.CLIPMPCAD_SHARED ?? join(root, "..", "shared")) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const [base, rel] = path.startsWith("/shared/") ? [resolve(shared), path.slice(8)] : [resolve(root), path];
    let file = normalize(join(base, rel));
    if (!file.startsWith(base + sep) && file !== base) return void res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!existsSync(file)) return void res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}`);
    const size = statSync(file).size;
    const headers = { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "accept-ranges": "bytes", "cache-control": "no-store" };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
      if (start > end) return void res.writeHead(416, { "content-range": `bytes */${size}` }).end();
      res.writeHead(206, { ...headers, "content-length": end - start + 1, "content-range": `bytes ${start}-${end}/${size}` });
      return void createReadStream(file, { start, end }).pipe(res);
    }
    res.writeHead(200, { ...headers, "content-length": size });
    if (req.method === "HEAD") return void res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((done) => {
    server.listen(port, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      done({ url, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { url } = await startServer(process.cwd(), Number(process.argv[2] ?? 8080));
  console.log(`serving ${process.cwd()} at ${url}/ (demo: ${url}/examples/browser/)`);
}
