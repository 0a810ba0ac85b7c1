/**
 * onnxruntime-web's WebGPU execution provider on Node (Dawn's globals), on an ONNX graph of
 * one ViT block the benchmark writes (bench/onnx-writer.ts): LayerNormalization, MatMul +
 * Add, multi-head attention as Reshape/Transpose/MatMul/Softmax, QuickGELU as x*sigmoid(1.702x).
 * One shim: its WASM side hands writeBuffer views of a SharedArrayBuffer, which Dawn's Node
 * binding refuses; they are copied into a plain ArrayBuffer first.
 */
import { encodeOnnx, type OnnxNode, type OnnxTensor } from "../onnx-writer.js";
import type { BlockShape, Peer, PeerCase } from "./peer.js";
import { installDawnGlobals } from "./peer.js";
import { rand } from "../random.js";


function shimWriteBuffer(): void {
  const Q = (globalThis as unknown as { GPUQueue: { prototype: GPUQueue } }).GPUQueue.prototype;
  const original = Q.writeBuffer;
  if ((original as { shimmed?: boolean }).shimmed) return;
  const patched = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: BufferSource | SharedArrayBuffer, dataOffset?: number, size?: number) {
    const view = ArrayBuffer.isView(data) ? data : null;
    if (view && view.buffer instanceof SharedArrayBuffer) {
      const copy = new Uint8Array(view.byteLength);
      copy.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      const bpe = (view as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      return original.call(this, buffer, offset, copy, dataOffset === undefined ? undefined : dataOffset * bpe, size === undefined ? undefined : size * bpe);
    }
    return original.call(this, buffer, offset, data as BufferSource, dataOffset, size);
  };
  (patched as { shimmed?: boolean }).shimmed = true;
  Q.writeBuffer = patched as GPUQueue["writeBuffer"];
}

/** The ONNX graph of one pre-LN ViT block on x [T, W]. */
export function vitBlockOnnx(s: BlockShape): Uint8Array {
  const { T, W, heads } = s;
  const D = W / heads;
  const inits: OnnxTensor[] = [];
  const nodes: OnnxNode[] = [];
  let seed = 11;
  const init = (name: string, dims: number[], scale: number, fill?: number) => {
    const n = dims.reduce((a, b) => a * b, 1);
    inits.push({ name, dims, data: fill === undefined ? rand(n, seed++, scale) : new Float32Array(n).fill(fill) });
    return name;
  };
  const shape = (name: string, dims: number[]) => {
    inits.push({ name, dims: [dims.length], data: BigInt64Array.from(dims.map(BigInt)) });
    return name;
  };
  let k = 0;
  const op = (type: string, inputs: string[], attrs?: OnnxNode["attrs"]) => {
    const out = `${type.toLowerCase()}_${k++}`;
    nodes.push({ op: type, inputs, outputs: [out], attrs });
    return out;
  };
  // weights stored as [in, out] so that MatMul needs no transpose
  const lin = (x: string, name: string, inF: number, outF: number) => op("Add", [op("MatMul", [x, init(`${name}.w`, [inF, outF], inF ** -0.5)]), init(`${name}.b`, [outF], 0.02)]);
  const ln = (x: string, name: string) => op("LayerNormalization", [x, init(`${name}.g`, [W], 0, 1), init(`${name}.b`, [W], 0, 0)], { axis: -1, epsilon: 1e-5 });
  const split = (x: string) => op("Transpose", [op("Reshape", [x, shape(`hd${k}`, [T, heads, D])])], { perm: [1, 0, 2] });
  const h = ln("x", "ln1");
  const q = split(lin(h, "q", W, W));
  const kT = op("Transpose", [op("Reshape", [lin(h, "k", W, W), shape(`hk${k}`, [T, heads, D])])], { perm: [1, 2, 0] });
  const v = split(lin(h, "v", W, W));
  const scores = op("Mul", [op("MatMul", [q, kT]), init("scale", [1], 0, 1 / Math.sqrt(D))]);
  const attn = op("MatMul", [op("Softmax", [scores], { axis: -1 }), v]);
  const merged = op("Reshape", [op("Transpose", [attn], { perm: [1, 0, 2] }), shape("tw", [T, W])]);
  const x1 = op("Add", ["x", lin(merged, "out", W, W)]);
  const m = lin(ln(x1, "ln2"), "fc", W, 4 * W);
  const g = op("Mul", [m, op("Sigmoid", [op("Mul", [m, init("qg", [1], 0, 1.702)])])]);
  const y = op("Add", [x1, lin(g, "proj", 4 * W, W)]);
  nodes[nodes.length - 1].outputs = ["y"];
  void y;
  return encodeOnnx({ name: "vit_block", nodes, initializers: inits, inputs: [{ name: "x", dims: [T, W] }], outputs: [{ name: "y", dims: [T, W] }], opset: 17 });
}

/** The ONNX graph of one linear layer x [M, K] @ w [K, N] + b. */
function linearOnnx(c: PeerCase): Uint8Array {
  return encodeOnnx({
    name: "linear",
    nodes: [
      { op: "MatMul", inputs: ["x", "w"], outputs: ["xw"] },
      { op: "Add", inputs: ["xw", "b"], outputs: ["y"] },
    ],
    initializers: [
      { name: "w", dims: [c.K, c.N], data: rand(c.K * c.N, 3, c.K ** -0.5) },
      { name: "b", dims: [c.N], data: rand(c.N, 4, 0.02) },
    ],
    inputs: [{ name: "x", dims: [c.M, c.K] }],
    outputs: [{ name: "y", dims: [c.M, c.N] }],
    opset: 17,
  });
}

export async function ortPeer(): Promise<Peer> {
  installDawnGlobals();
  shimWriteBuffer();
  const ort = await import("onnxruntime-web/webgpu");
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = "error";
  const session = async (bytes: Uint8Array, inputShape: number[]) => {
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ["webgpu"] });
    const x = new ort.Tensor("float32", rand(inputShape.reduce((a, b) => a * b, 1), 5, 1), inputShape);
    return {
      run: async () => {
        const out = await s.run({ x });
        for (const t of Object.values(out)) t.dispose();
      },
      dispose: () => void s.release(),
    };
  };
  return {
    name: "onnxruntime-web",
    version: ort.env.versions.web ?? "",
    linear: (c) => session(linearOnnx(c), [c.M, c.K]),
    block: (s) => session(vitBlockOnnx(s), [s.T, s.W]),
  };
}
