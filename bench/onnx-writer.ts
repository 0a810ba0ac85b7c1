/**
 * A small ONNX writer for the benchmark: protobuf wire format by hand for the few messages
 * a graph of standard operators needs (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto). Field numbers are those of onnx/onnx.proto.
 */

class Proto {
  private parts: Uint8Array[] = [];
  private len = 0;

  private push(b: Uint8Array) {
    this.parts.push(b);
    this.len += b.length;
  }
  private varint(v: number | bigint) {
    let x = BigInt(v);
    if (x < 0n) x += 1n << 64n; // two's complement, as protobuf encodes negative int64
    const out: number[] = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x > 0n) byte |= 0x80;
      out.push(byte);
    } while (x > 0n);
    this.push(Uint8Array.from(out));
  }
  private key(field: number, wire: number) {
    this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): this {
    this.key(field, 0);
    this.varint(v);
    return this;
  }
  float(field: number, v: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, m: Proto): this {
    return this.bytes(field, m.finish());
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

const FLOAT = 1;
const INT64 = 7;

export type Attr = number | number[] | { ints: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: { name: string; dims: number[] }[];
  outputs: { name: string; dims: number[] }[];
  opset: number;
}

function attribute(name: string, v: Attr): Proto {
  const a = new Proto().str(1, name);
  if (typeof v === "number") return Number.isInteger(v) ? a.int(3, v).int(20, 2) : a.float(2, v).int(20, 1);
  const ints = Array.isArray(v) ? v : v.ints;
  for (const i of ints) a.int(8, i);
  return a.int(20, 7);
}

function tensor(t: OnnxTensor): Proto {
  const p = new Proto();
  for (const d of t.dims) p.int(1, d);
  p.int(2, t.data instanceof Float32Array ? FLOAT : INT64).str(8, t.name);
  return p.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function valueInfo(v: { name: string; dims: number[] }): Proto {
  const shape = new Proto();
  for (const d of v.dims) shape.msg(1, new Proto().int(1, d));
  const tensorType = new Proto().int(1, FLOAT).msg(2, shape);
  return new Proto().str(1, v.name).msg(2, new Proto().msg(1, tensorType));
}

/** The serialised ModelProto. */
export function encodeOnnx(g: OnnxGraph): Uint8Array {
  const graph = new Proto();
  g.nodes.forEach((n, i) => {
    const node = new Proto();
    for (const x of n.inputs) node.str(1, x);
    for (const y of n.outputs) node.str(2, y);
    node.str(3, `${n.op}_${i}`).str(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) node.msg(5, attribute(k, v));
    graph.msg(1, node);
  });
  graph.str(2, g.name);
  for (const t of g.initializers) graph.msg(5, tensor(t));
  for (const v of g.inputs) graph.msg(11, valueInfo(v));
  for (const v of g.outputs) graph.msg(12, valueInfo(v));
  return new Proto().int(1, 8).str(2, "clipmpcad-gpu bench").msg(7, graph).msg(8, new Proto().str(1, "").int(2, g.opset)).finish();
}
