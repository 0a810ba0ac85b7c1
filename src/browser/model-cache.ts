/**
 * Weights from URLs in browsers, kept in the Cache API so a second visit reads them from
 * disk. A cached file comes back as a Blob, which the safetensors reader slices lazily, so
 * the weights are never held twice in memory. Downloads stream through a byte counter
 * (progress) straight into the cache.
 */
import type { LongRunning } from "../runtime/progress.js";

export const DEFAULT_CACHE = "clipmpcad-gpu-models-v1";

export class ModelCacheError extends Error {
  override name = "ModelCacheError";
}

export interface CachedFileOptions extends LongRunning {
  cacheName?: string;
  /** false: fetch without caching (a Blob in memory). */
  cache?: boolean;
  fetchImpl?: typeof fetch;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

async function fetchOk(url: string, o: CachedFileOptions): Promise<Response> {
  let res: Response;
  try {
    res = await (o.fetchImpl ?? fetch)(url, { signal: o.signal });
  } catch (e) {
    if ((e as Error).name === "AbortError" || o.signal?.aborted) throw o.signal?.reason ?? e;
    throw new ModelCacheError(
      `${url}: the request failed before any response (${(e as Error).message}). The server is unreachable, or it does not allow this page's origin: it must send Access-Control-Allow-Origin (CORS) for cross-origin weights`,
    );
  }
  if (!res.ok) throw new ModelCacheError(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
  return res;
}

/** A body stream that reports bytes as they pass and stops on abort. */
function counted(res: Response, url: string, o: CachedFileOptions): ReadableStream<Uint8Array> {
  const total = Number(res.headers.get("content-length")) || 0;
  const name = `download ${url.split("/").pop()}`;
  let done = 0;
  return res.body!.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        if (o.signal?.aborted) return ctl.error(o.signal.reason);
        done += chunk.byteLength;
        o.onProgress?.(done, total || done, name);
        ctl.enqueue(chunk);
      },
    }),
  );
}

/**
 * The file at url as a Blob: from the cache when there, else downloaded (with progress)
 * into the cache first. Quota and CORS failures say what to do.
 */
export async function cachedFile(url: string, o: CachedFileOptions = {}): Promise<Blob> {
  const useCache = o.cache !== false && typeof caches !== "undefined";
  if (!useCache) {
    const res = await fetchOk(url, o);
    return new Response(counted(res, url, o)).blob();
  }
  const cache = await caches.open(o.cacheName ?? DEFAULT_CACHE);
  const hit = await cache.match(url);
  if (hit) {
    const blob = await hit.blob();
    o.onProgress?.(blob.size, blob.size, `cache ${url.split("/").pop()}`);
    return blob;
  }
  const res = await fetchOk(url, o);
  const headers = new Headers({ "content-type": res.headers.get("content-type") ?? "application/octet-stream" });
  const length = res.headers.get("content-length");
  if (length) headers.set("content-length", length);
  try {
    await cache.put(url, new Response(counted(res, url, o), { headers }));
  } catch (e) {
    await cache.delete(url).catch(() => false); // nothing half-written
    if (o.signal?.aborted) throw o.signal.reason;
    if ((e as Error).name === "QuotaExceededError") {
      const est = await navigator.storage?.estimate?.().catch(() => undefined);
      const room = est ? ` (this origin uses ${mib(est.usage ?? 0)} of a ${mib(est.quota ?? 0)} quota)` : "";
      throw new ModelCacheError(`${url}: not enough storage to cache ${length ? mib(Number(length)) : "the file"}${room}. Delete cached models (deleteCachedFile), ask for persistent storage, or load with cache: false`);
    }
    throw e;
  }
  const stored = await cache.match(url);
  if (!stored) throw new ModelCacheError(`${url}: the cache did not keep the file (private browsing?); load with cache: false`);
  return stored.blob();
}

export interface CachedEntry {
  url: string;
  bytes: number;
}

/** What the model cache holds. */
export async function listCachedFiles(cacheName = DEFAULT_CACHE): Promise<CachedEntry[]> {
  if (typeof caches === "undefined" || !(await caches.has(cacheName))) return [];
  const cache = await caches.open(cacheName);
  const out: CachedEntry[] = [];
  for (const req of await cache.keys()) {
    const res = await cache.match(req);
    out.push({ url: req.url, bytes: Number(res?.headers.get("content-length")) || (res ? (await res.blob()).size : 0) });
  }
  return out;
}

/** Removes one cached file (by URL), or every file when url is omitted. */
export async function deleteCachedFile(url?: string, cacheName = DEFAULT_CACHE): Promise<boolean> {
  if (typeof caches === "undefined") return false;
  if (url === undefined) return caches.delete(cacheName);
  return (await caches.open(cacheName)).delete(url);
}

export interface StorageReport {
  usage: number;
  quota: number;
  /** Whether the browser keeps this origin's data under storage pressure. */
  persisted: boolean;
}

export async function storageReport(): Promise<StorageReport> {
  const est = (await navigator.storage?.estimate?.()) ?? {};
  const persisted = (await navigator.storage?.persisted?.()) ?? false;
  return { usage: est.usage ?? 0, quota: est.quota ?? 0, persisted };
}

/** Asks the browser to keep the cached weights under storage pressure (it may say no). */
export async function requestPersistentStorage(): Promise<boolean> {
  return (await navigator.storage?.persist?.()) ?? false;
}
