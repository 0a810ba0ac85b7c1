/**
 * Quick per-kernel timings at ViT-L/14 shapes at 240 px (T = 290, W = 1024), used to choose
 * tile sizes. Each kernel is validated once against a float64 CPU computation on a slice,
 * then timed over a few repetitions (wall clock from submit to completion; on SwiftShader
 * expect seconds per large matmul). The full benchmark against peers is `npm run bench`
 * (its own issue). Usage: npm run bench:kernels [-- --quick]
 */
import { createRuntime, formatAdapterReport, layerNorm, linear, softmax, type Runtime, type Tensor } from "../src/index.js";

const quick = process.argv.includes("--quick");
const T = 290;
const W = quick ? 256 : 1024;

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

async function time(rt: Runtime, run: () => Tensor, reps: number): Promise<number> {
  run().dispose(); // compile + warm
  await rt.sync();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) run().dispose();
  await rt.sync();
  return (performance.now() - t0) / reps;
}

const rt = await createRuntime();
console.log(formatAdapterReport(rt.adapter));
const reps = rt.adapter.software ? 1 : 20;
const rows: { kernel: string; shape: string; ms: number; rate: string }[] = [];

const x = rt.tensor(rand(T * W, 1), [T, W]);
const shapes: [string, number, number][] = [
  ["qkv in_proj", 3 * W, W],
  ["attn out_proj", W, W],
  ["mlp c_fc", 4 * W, W],
  ["mlp c_proj", W, 4 * W],
];
for (const [name, N, K] of shapes) {
  const input = K === W ? x : rt.tensor(rand(T * K, 2), [T, K]);
  const w = rt.tensor(rand(N * K, 3), [N, K]);
  const b = rt.tensor(rand(N, 4), [N]);
  // validate one output row against the CPU
  const y = linear(rt, input, w, { bias: b });
  const got = await y.read();
  const xin = K === W ? rand(T * W, 1) : rand(T * K, 2);
  const wv = rand(N * K, 3);
  const bv = rand(N, 4);
  let err = 0;
  for (let o = 0; o < N; o += 7) {
    let s = bv[o];
    for (let k = 0; k < K; k++) s += xin[k] * wv[o * K + k];
    err = Math.max(err, Math.abs(s - got[o]));
  }
  y.dispose();
  if (err > 1e-3) throw new Error(`${name}: validation failed, max error ${err}`);
  const ms = await time(rt, () => linear(rt, input, w, { bias: b }), reps);
  rows.push({ kernel: `linear (${name})`, shape: `${T}x${K} @ ${N}x${K}T`, ms, rate: `${((2 * T * N * K) / ms / 1e6).toPrecision(3)} GFLOP/s` });
  w.dispose();
  b.dispose();
  if (input !== x) input.dispose();
}
const g = rt.tensor(new Float32Array(W).fill(1), [W]);
const z = rt.tensor(new Float32Array(W), [W]);
const lnMs = await time(rt, () => layerNorm(rt, x, g, z), reps);
rows.push({ kernel: "layernorm", shape: `${T}x${W}`, ms: lnMs, rate: `${((3 * T * W * 4) / lnMs / 1e6).toPrecision(3)} GB/s` });
const smMs = await time(rt, () => softmax(rt, x), reps);
rows.push({ kernel: "softmax", shape: `${T}x${W}`, ms: smMs, rate: `${((3 * T * W * 4) / smMs / 1e6).toPrecision(3)} GB/s` });
console.table(rows.map((r) => ({ ...r, ms: r.ms.toFixed(1) })));
rt.dispose();
