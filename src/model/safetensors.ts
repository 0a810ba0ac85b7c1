/**
 * safetensors: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}, then the data.
 * The reader checks the header completely before any tensor is read (truncation, offsets out
 * of range or overlapping, unknown dtypes, shape/byte mismatches) and reads one tensor at a
 * time from a ByteSource, so a file is never held twice in memory. F32, F16 and BF16 come
 * out as Float32Array. Browser-safe; Node file sources are in safetensors-node.ts.
 */

export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

/** Random access to the bytes of a file, Blob, URL or buffer. */
export interface ByteSource {
  /** A name for messages: the path or URL. */
  readonly name: string;
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

export type SafeDtype = "F32" | "F16" | "BF16";
const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const READABLE = new Set(["F32", "F16", "BF16"]);

export interface TensorInfo {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  /** Absolute byte offset in the source, and length. */
  offset: number;
  byteLength: number;
}

export function bytesSource(bytes: Uint8Array | ArrayBuffer, name = "buffer"): ByteSource {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return { name, size: b.length, read: async (o, n) => b.subarray(o, o + n) };
}

export function blobSource(blob: Blob, name = "blob"): ByteSource {
  return { name, size: blob.size, read: async (o, n) => new Uint8Array(await blob.slice(o, o + n).arrayBuffer()) };
}

/**
 * A URL read with HTTP Range requests (one per tensor), so a checkpoint is never downloaded
 * whole into memory. The server must answer Range requests (206) and, across origins, allow
 * the Range header and expose Content-Range/Content-Length (CORS).
 */
export async function urlSource(url: string, init: RequestInit = {}): Promise<ByteSource> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), Range: "bytes=0-0" } });
  } catch (e) {
    throw new SafetensorsError(`${url}: cannot be fetched (${(e as Error).message}); for another origin the server must allow CORS`);
  }
  if (res.status !== 206) {
    throw new SafetensorsError(`${url}: the server answered ${res.status} to a Range request; it must support Range (206) to stream weights`);
  }
  await res.arrayBuffer();
  const total = Number(/\/(\d+)$/.exec(res.headers.get("content-range") ?? "")?.[1]);
  if (!Number.isFinite(total)) throw new SafetensorsError(`${url}: no Content-Range total in the answer (for another origin, expose Content-Range in CORS)`);
  return {
    name: url,
    size: total,
    async read(offset, length) {
      if (length === 0) return new Uint8Array(0);
      const r = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), Range: `bytes=${offset}-${offset + length - 1}` } });
      if (r.status !== 206) throw new SafetensorsError(`${url}: Range request for bytes ${offset}-${offset + length - 1} answered ${r.status}`);
      const b = new Uint8Array(await r.arrayBuffer());
      if (b.length !== length) throw new SafetensorsError(`${url}: asked for ${length} bytes at ${offset}, got ${b.length}`);
      return b;
    },
  };
}

export class SafetensorsFile {
  private constructor(
    readonly source: ByteSource,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  static async open(source: ByteSource): Promise<SafetensorsFile> {
    const where = source.name;
    if (source.size < 8) throw new SafetensorsError(`${where}: ${source.size} bytes is too short for a safetensors file (truncated?)`);
    const lenBytes = await source.read(0, 8);
    const headerLen = Number(new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true));
    if (headerLen < 2 || 8 + headerLen > source.size) {
      throw new SafetensorsError(`${where}: the header claims ${headerLen} bytes but the file has ${source.size - 8} after the length; the file is truncated or not safetensors`);
    }
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(await source.read(8, headerLen)));
    } catch (e) {
      throw new SafetensorsError(`${where}: the header is not valid JSON (${(e as Error).message}); the file is corrupt or not safetensors`);
    }
    if (!header || typeof header !== "object" || Array.isArray(header)) throw new SafetensorsError(`${where}: the header is not a JSON object`);
    const dataStart = 8 + headerLen;
    const dataLen = source.size - dataStart;
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(header)) {
      if (name === "__metadata__") {
        metadata = (raw ?? {}) as Record<string, string>;
        continue;
      }
      const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const t = `${where}: tensor "${name}"`;
      if (typeof e?.dtype !== "string" || !(e.dtype in DTYPE_BYTES)) throw new SafetensorsError(`${t} has unknown dtype ${JSON.stringify(e?.dtype)}`);
      if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new SafetensorsError(`${t} has an invalid shape ${JSON.stringify(e.shape)}`);
      const off = e.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || off.some((v) => !Number.isInteger(v) || v < 0) || off[1] < off[0]) {
        throw new SafetensorsError(`${t} has invalid data_offsets ${JSON.stringify(off)}`);
      }
      if (off[1] > dataLen) throw new SafetensorsError(`${t} ends at byte ${off[1]} of the data, but the file holds ${dataLen}: truncated`);
      const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
      const want = count * DTYPE_BYTES[e.dtype];
      if (off[1] - off[0] !== want) {
        throw new SafetensorsError(`${t}: shape [${(e.shape as number[]).join(", ")}] of ${e.dtype} needs ${want} bytes, its offsets give ${off[1] - off[0]}`);
      }
      tensors.set(name, { name, dtype: e.dtype as SafeDtype, shape: e.shape as number[], offset: dataStart + off[0], byteLength: want });
    }
    const sorted = [...tensors.values()].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].offset < sorted[i - 1].offset + sorted[i - 1].byteLength) {
        throw new SafetensorsError(`${where}: tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap; the file is corrupt`);
      }
    }
    return new SafetensorsFile(source, tensors, metadata);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new SafetensorsError(`${this.source.name}: tensor "${name}" is missing`);
    return t;
  }

  /** Reads one tensor as f32 (F16 and BF16 are widened exactly). */
  async read(name: string, expectShape?: readonly number[]): Promise<Float32Array> {
    const t = this.info(name);
    if (!READABLE.has(t.dtype)) throw new SafetensorsError(`${this.source.name}: tensor "${name}" is ${t.dtype}; weights must be F32, F16 or BF16`);
    if (expectShape && (expectShape.length !== t.shape.length || expectShape.some((d, i) => d !== t.shape[i]))) {
      throw new SafetensorsError(`${this.source.name}: tensor "${name}" has shape [${t.shape.join(", ")}], expected [${expectShape.join(", ")}]`);
    }
    const bytes = await this.source.read(t.offset, t.byteLength);
    return toFloat32(bytes, t.dtype);
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }
}

export function toFloat32(bytes: Uint8Array, dtype: SafeDtype): Float32Array {
  const n = bytes.length / (dtype === "F32" ? 4 : 2);
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === "F32") {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === "BF16") {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export interface WritableTensor {
  shape: readonly number[];
  data: Float32Array;
}

/** A safetensors file (F32 tensors, names in the given order) as bytes. */
export function encodeSafetensors(tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new SafetensorsError(`tensor "${name}": ${t.data.length} values for shape [${t.shape.join(", ")}]`);
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  const raw = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(raw.length + ((8 - ((8 + raw.length) % 8)) % 8)).fill(0x20); // data 8-byte aligned
  head.set(raw);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
