import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DownloadError, downloadFile, downloadModel } from "../src/index.js";

// A hub on 127.0.0.1: /<owner>/<name>/resolve/main/<file>, with Range support and the
// X-Linked-ETag sha256 header the real hub sends for large files.
const FILES: Record<string, Buffer> = {
  "model.safetensors": Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 251)),
  "vocab.json": Buffer.from('{"a": 0}'),
};
let server: Server;
let base = "";
const requests: string[] = [];
let lie = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    const m = /^\/acme\/tiny-clip\/resolve\/main\/(.+)$/.exec(req.url ?? "");
    const body = m && FILES[m[1]];
    if (!body) return void res.writeHead(404).end();
    requests.push(`${m![1]} ${req.headers.range ?? "all"}`);
    const sha = lie ? "0".repeat(64) : createHash("sha256").update(body).digest("hex");
    const r = /bytes=(\d+)-/.exec(req.headers.range ?? "");
    if (r) {
      const start = Number(r[1]);
      if (start >= body.length) return void res.writeHead(416).end();
      res.writeHead(206, { "Content-Range": `bytes ${start}-${body.length - 1}/${body.length}`, "Content-Length": body.length - start, "X-Linked-ETag": `"${sha}"` });
      return void res.end(body.subarray(start));
    }
    res.writeHead(200, { "Content-Length": body.length, "X-Linked-ETag": `"${sha}"` }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe("download", () => {
  it("fetches a model's files, resuming a partial file with a Range request", async () => {
    const to = mkdtempSync(join(tmpdir(), "dl-"));
    writeFileSync(join(to, "model.safetensors.part"), FILES["model.safetensors"].subarray(0, 40_000)); // an interrupted earlier run
    requests.length = 0;
    const seen: number[] = [];
    const files = await downloadModel({ model: "acme/tiny-clip", to, hub: base, files: ["model.safetensors", "vocab.json"], onProgress: (p) => seen.push(p.received) });
    expect(files).toEqual([join(to, "model.safetensors"), join(to, "vocab.json")]);
    expect(requests[0]).toBe("model.safetensors bytes=40000-");
    expect(readFileSync(join(to, "model.safetensors")).equals(FILES["model.safetensors"])).toBe(true);
    expect(existsSync(join(to, "model.safetensors.part"))).toBe(false);
    expect(seen[seen.length - 1]).toBe(FILES["vocab.json"].length);
  });

  it("refuses a file whose sha256 does not match and leaves no file behind", async () => {
    const to = mkdtempSync(join(tmpdir(), "dl-"));
    lie = true;
    try {
      await expect(downloadFile(`${base}/acme/tiny-clip/resolve/main/vocab.json`, join(to, "vocab.json"))).rejects.toThrow(/sha256 .* does not match/);
    } finally {
      lie = false;
    }
    expect(existsSync(join(to, "vocab.json")) || existsSync(join(to, "vocab.json.part"))).toBe(false);
    await expect(downloadModel({ model: "acme/nothing", to, hub: base, files: ["x.bin"] })).rejects.toThrow(DownloadError);
    await expect(downloadModel({ model: "acme/nothing", to, hub: base, files: ["x.bin"] })).rejects.toThrow(/HTTP 404 .*check the model id/);
  });

  it("the CLI downloads into the folder it names", async () => {
    // asynchronous: the hub runs in this process, a synchronous spawn would starve it
    const to = mkdtempSync(join(tmpdir(), "dl-"));
    const r = await promisify(execFile)(process.execPath, ["dist/cli.js", "download", "--model", "acme/tiny-clip", "--hub", base, "--to", to, "--files", "vocab.json"], { encoding: "utf8" });
    expect(r.stdout.trim()).toBe(join(to, "vocab.json"));
    expect(readFileSync(join(to, "vocab.json"), "utf8")).toBe('{"a": 0}');
  });
});
