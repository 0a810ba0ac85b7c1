/**
 * Text features ([E, 2]: normal, abnormal) cached by (weights fingerprint, the exact
 * sentences encoded, class name), so a class is encoded once. The key hashes the sentences
 * themselves, so a changed prompt set or template list can never hit a stale entry. The
 * cache saves to and loads from a small JSON file. Browser-safe (Web Crypto, btoa/atob).
 */

export interface TextFeatureEntry {
  className: string;
  /** [E, 2], row-major: column 0 normal, column 1 abnormal. */
  shape: [number, number];
  data: Float32Array;
}

const FORMAT = "clipmpcad-gpu/text-features";
const VERSION = 1;

export class TextFeatureCacheError extends Error {
  override name = "TextFeatureCacheError";
}

export async function textFeatureKey(weightsFingerprint: string, className: string, sentences: { normal: string[]; abnormal: string[] }): Promise<string> {
  const text = JSON.stringify({ weightsFingerprint, className, normal: sentences.normal, abnormal: sentences.abnormal });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function toBase64(data: Float32Array): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(b64: string): Float32Array {
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

export class TextFeatureCache {
  private readonly entries = new Map<string, TextFeatureEntry>();

  get size(): number {
    return this.entries.size;
  }

  get(key: string): TextFeatureEntry | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: TextFeatureEntry): void {
    if (entry.data.length !== entry.shape[0] * entry.shape[1]) {
      throw new TextFeatureCacheError(`text features of "${entry.className}": ${entry.data.length} values for shape [${entry.shape.join(", ")}]`);
    }
    this.entries.set(key, { ...entry, data: entry.data.slice() });
  }

  /** The cache as JSON text. */
  serialize(): string {
    const entries = [...this.entries].map(([key, e]) => ({ key, className: e.className, shape: e.shape, data: toBase64(e.data) }));
    return JSON.stringify({ format: FORMAT, version: VERSION, entries });
  }

  static deserialize(text: string, source = "text feature cache"): TextFeatureCache {
    let obj: { format?: unknown; version?: unknown; entries?: unknown };
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new TextFeatureCacheError(`${source}: not valid JSON (${(e as Error).message})`);
    }
    if (obj.format !== FORMAT) throw new TextFeatureCacheError(`${source}: not a clipmpcad-gpu text feature cache (format is ${JSON.stringify(obj.format)})`);
    if (obj.version !== VERSION) throw new TextFeatureCacheError(`${source}: version ${JSON.stringify(obj.version)} is not supported (this library reads version ${VERSION})`);
    if (!Array.isArray(obj.entries)) throw new TextFeatureCacheError(`${source}: "entries" must be an array`);
    const cache = new TextFeatureCache();
    obj.entries.forEach((e: { key?: unknown; className?: unknown; shape?: unknown; data?: unknown }, i: number) => {
      const shapeOk = Array.isArray(e.shape) && e.shape.length === 2 && e.shape.every((d) => Number.isInteger(d) && d > 0);
      if (typeof e.key !== "string" || typeof e.className !== "string" || !shapeOk || typeof e.data !== "string") {
        throw new TextFeatureCacheError(`${source}: entries[${i}] needs key, className, shape [E, 2] and base64 data`);
      }
      let data: Float32Array;
      try {
        data = fromBase64(e.data);
      } catch {
        throw new TextFeatureCacheError(`${source}: entries[${i}].data is not valid base64 float32 data`);
      }
      const shape = e.shape as [number, number];
      if (data.length !== shape[0] * shape[1]) {
        throw new TextFeatureCacheError(`${source}: entries[${i}] ("${e.className}") holds ${data.length} values, shape [${shape.join(", ")}] needs ${shape[0] * shape[1]}`);
      }
      cache.entries.set(e.key, { className: e.className, shape, data });
    });
    return cache;
  }
}
