/**
 * Downloading model files over HTTP(S) from a hub (Hugging Face's layout by default:
 * <hub>/<model>/resolve/<revision>/<file>), resumable: bytes go to <file>.part, a new attempt
 * asks for the rest with a Range request, and the file gets its name only once complete and
 * checked (size, and sha256 when the server states it, as the hub does for large files in
 * X-Linked-ETag, or when the caller gives it). Node only.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, statSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

export class DownloadError extends Error {
  override name = "DownloadError";
}

export interface DownloadProgress {
  file: string;
  received: number;
  /** Total bytes, when the server says. */
  total?: number;
}

export interface DownloadFileOptions {
  sha256?: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

function statedSha256(res: Response): string | undefined {
  for (const name of ["x-linked-etag", "etag"]) {
    const v = res.headers.get(name)?.replace(/^W\//, "").replace(/"/g, "");
    if (v && /^[0-9a-f]{64}$/i.test(v)) return v.toLowerCase();
  }
  return undefined;
}

export async function downloadFile(url: string, dest: string, o: DownloadFileOptions = {}): Promise<void> {
  const f = o.fetchImpl ?? fetch;
  mkdirSync(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  const have = existsSync(part) ? statSync(part).size : 0;
  let res: Response;
  try {
    res = await f(url, { headers: have ? { Range: `bytes=${have}-` } : {}, signal: o.signal, redirect: "follow" });
  } catch (e) {
    throw new DownloadError(`${url}: ${(e as Error).message}`);
  }
  if (res.status === 416 && have > 0) {
    // the part file is already complete (or larger than the file): start over
    await rm(part, { force: true });
    return downloadFile(url, dest, o);
  }
  if (!res.ok) throw new DownloadError(`${url}: HTTP ${res.status} ${res.statusText}${res.status === 404 ? " (check the model id, revision and file name)" : ""}`);
  const resumed = res.status === 206;
  let received = resumed ? have : 0;
  const length = Number(res.headers.get("content-length"));
  const total = resumed ? Number(/\/(\d+)$/.exec(res.headers.get("content-range") ?? "")?.[1]) : length;
  const expectSha = o.sha256?.toLowerCase() ?? statedSha256(res);
  const handle = await open(part, resumed ? "a" : "w");
  try {
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await handle.write(value);
      received += value.length;
      o.onProgress?.({ file: dest, received, total: Number.isFinite(total) ? total : undefined });
    }
  } finally {
    await handle.close();
  }
  if (Number.isFinite(total) && total > 0 && received !== total) {
    throw new DownloadError(`${url}: got ${received} of ${total} bytes; run again to resume`);
  }
  if (expectSha) {
    const got = await sha256Of(part);
    if (got !== expectSha) {
      await rm(part, { force: true });
      throw new DownloadError(`${url}: sha256 ${got} does not match the expected ${expectSha}; the partial file was removed, run again`);
    }
  }
  await rename(part, dest);
}

export interface DownloadModelOptions {
  /** e.g. openai/clip-vit-large-patch14-336 */
  model: string;
  to: string;
  /** Hub base URL (default https://huggingface.co). */
  hub?: string;
  revision?: string;
  files?: string[];
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
}

/** A Hugging Face CLIP repository's files: weights, configuration, tokenizer. */
export const CLIP_FILES = ["model.safetensors", "config.json", "vocab.json", "merges.txt"];

export async function downloadModel(o: DownloadModelOptions): Promise<string[]> {
  if (!/^[\w.-]+\/[\w.-]+$/.test(o.model)) throw new DownloadError(`model "${o.model}" must look like owner/name`);
  const hub = (o.hub ?? "https://huggingface.co").replace(/\/$/, "");
  const out: string[] = [];
  for (const file of o.files ?? CLIP_FILES) {
    const dest = join(o.to, file);
    if (existsSync(dest)) {
      out.push(dest);
      continue;
    }
    await downloadFile(`${hub}/${o.model}/resolve/${o.revision ?? "main"}/${file}`, dest, o);
    out.push(dest);
  }
  return out;
}
