/**
 * Quick per-kernel timings at ViT-L/14 shapes at 240 px (T = 290, W = 1024, E = 768), for
 * choosing tile sizes and spotting regressions. Each case is validated once against a float64
 * CPU computation on a slice of its output, then timed (wall clock from submit to completion,
 * after a warm-up run that compiles the pipeline). On SwiftShader the full run takes minutes;
 * `--quick` uses W = 256, E = 192 and fewer memory rows. The peer benchmark is `npm run bench`
 * (its own issue). Usage: npm run bench:kernels [-- --quick] [-- --json out.json] [-- --skip-compared]
 */
import { writeFileSync } from "node:fs";
import {
  attention,
  createRuntime,
  fftMagnitude,
  formatAdapterReport,
  layerNorm,
  linear,
  madffPair,
  nearestDistance,
  rowNormalize,
  softmax,
  type Runtime,
  type Tensor,
} from "../src/index.js";
import { rand } from "./random.js";

const quick = process.argv.includes("--quick");
// npm run bench times the linear shapes and attention against the peers already
const skipCompared = process.argv.includes("--skip-compared");
const jsonAt = process.argv.indexOf("--json");
const T = 290;
const W = quick ? 256 : 1024;
const E = quick ? 192 : 768;
const heads = W / 64;


interface Row {
  kernel: string;
  shape: string;
  ms: number;
  gpuMs?: string;
  rate: string;
  maxError: string;
}
const rows: Row[] = [];

/** GPU milliseconds of the last time() call (timestamp-query), when the adapter has it. */
let lastGpuMs = null as number | null;

async function time(rt: Runtime, run: () => Tensor | Tensor[], reps: number): Promise<number> {
  const dispose = (r: Tensor | Tensor[]) => (Array.isArray(r) ? r : [r]).forEach((t) => t.dispose());
  dispose(run());
  await rt.sync();
  const profiling = rt.profile(true);
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) dispose(run());
  await rt.sync();
  const ms = (performance.now() - t0) / reps;
  const gpu = await rt.gpuTimes();
  rt.profile(false);
  lastGpuMs = profiling ? [...gpu.values()].reduce((a, v) => a + v.ms, 0) / reps : null;
  return ms;
}

const rt = await createRuntime();
console.log(formatAdapterReport(rt.adapter));
const reps = rt.adapter.software ? 1 : 20;
const xData = rand(T * W, 1);
const x = rt.tensor(xData, [T, W]);

// The four linear shapes of a block.
for (const [name, N, K] of (skipCompared ? [] : [
  ["qkv in_proj", 3 * W, W],
  ["attn out_proj", W, W],
  ["mlp c_fc", 4 * W, W],
  ["mlp c_proj", W, 4 * W],
]) as [string, number, number][]) {
  const inData = K === W ? xData : rand(T * K, 2);
  const input = K === W ? x : rt.tensor(inData, [T, K]);
  const wData = rand(N * K, 3, 1 / Math.sqrt(K));
  const w = rt.tensor(wData, [N, K]);
  const got = await linear(rt, input, w).read();
  let err = 0;
  for (let o = 0; o < N; o += 97) {
    let s = 0;
    for (let k = 0; k < K; k++) s += inData[k] * wData[o * K + k];
    err = Math.max(err, Math.abs(s - got[o]));
  }
  const ms = await time(rt, () => linear(rt, input, w), reps);
  rows.push({ kernel: `linear ${name}`, shape: `${T}x${K} @ ${N}x${K}T`, ms, gpuMs: lastGpuMs?.toFixed(1) ?? "-", rate: `${((2 * T * N * K) / ms / 1e6).toPrecision(3)} GFLOP/s`, maxError: err.toExponential(1) });
  w.dispose();
  if (input !== x) input.dispose();
}

// Fused attention from a packed qkv.
if (!skipCompared) {
  const qkvData = rand(T * 3 * W, 4);
  const qkv = rt.tensor(qkvData, [T, 3 * W]);
  const got = await attention(rt, qkv, { heads }).read();
  // validate query 0 of head 0
  const d = 64;
  const s = Array.from({ length: T }, (_, j) => {
    let dot = 0;
    for (let c = 0; c < d; c++) dot += qkvData[c] * qkvData[j * 3 * W + W + c];
    return dot / 8;
  });
  const m = Math.max(...s);
  const e = s.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  let err = 0;
  for (let c = 0; c < d; c++) err = Math.max(err, Math.abs(e.reduce((a, p, j) => a + p * qkvData[j * 3 * W + 2 * W + c], 0) / z - got[c]));
  const ms = await time(rt, () => attention(rt, qkv, { heads }), reps);
  rows.push({ kernel: "attention", shape: `T${T} ${heads}x64`, ms, gpuMs: lastGpuMs?.toFixed(1) ?? "-", rate: `${((4 * T * T * W) / ms / 1e6).toPrecision(3)} GFLOP/s`, maxError: err.toExponential(1) });
  qkv.dispose();
}

// FFT magnitudes along the channels.
{
  const got = await fftMagnitude(rt, x).read();
  let re = 0;
  let im = 0;
  for (let j = 0; j < W; j++) {
    re += xData[j] * Math.cos((2 * Math.PI * j * 3) / W);
    im -= xData[j] * Math.sin((2 * Math.PI * j * 3) / W);
  }
  const ms = await time(rt, () => fftMagnitude(rt, x), reps);
  rows.push({ kernel: "fft magnitude", shape: `${T}x${W}`, ms, gpuMs: lastGpuMs?.toFixed(1) ?? "-", rate: `${((T * W * 4 * 2) / ms / 1e6).toPrecision(3)} GB/s`, maxError: Math.abs(Math.hypot(re, im) - got[3]).toExponential(1) });
}

// The MADFF adapter pair.
{
  const H = Math.floor(W / 16);
  const t = (shape: number[], seed: number, scale: number) => rt.tensor(rand(shape.reduce((a, b) => a * b, 1), seed, scale), shape);
  const weights = {
    fc1: t([2, E, W], 5, 1 / Math.sqrt(W)),
    fc2: t([2, W, E], 6, 1 / Math.sqrt(E)),
    channel0: t([2, H, W], 7, 1 / Math.sqrt(W)),
    channel2: t([2, W, H], 8, 1 / Math.sqrt(H)),
    frequency0: t([2, H, W], 9, 1 / W),
    frequency2: t([2, W, H], 10, 1 / Math.sqrt(H)),
    spatial: t([2, 3], 11, 1),
  };
  const ms = await time(rt, () => Object.values(madffPair(rt, x, weights)), reps);
  const flops = 2 * T * (2 * (2 * H * W) + 2 * (2 * H * W) + 2 * 4 * E * W + 2 * W * E);
  rows.push({ kernel: "madff pair", shape: `${T}x${W}, E=${E}`, ms, gpuMs: lastGpuMs?.toFixed(1) ?? "-", rate: `${(flops / ms / 1e6).toPrecision(3)} GFLOP/s`, maxError: "(test/madff)" });
  Object.values(weights).forEach((w) => w.dispose());
}

// Memory-bank search at 4 and 16 shots (11 augmentations x T tokens each).
for (const shots of quick ? [1, 4] : [4, 16]) {
  const Nm = shots * 11 * T;
  const q = rowNormalize(rt, rt.tensor(rand((T - 1) * E, 12), [T - 1, E]));
  const mem = rowNormalize(rt, rt.tensor(rand(Nm * E, 13), [Nm, E]));
  const ms = await time(rt, () => nearestDistance(rt, q, mem), reps);
  rows.push({ kernel: `nearest (${shots} shots)`, shape: `${T - 1}x${E} vs ${Nm}`, ms, gpuMs: lastGpuMs?.toFixed(1) ?? "-", rate: `${((2 * (T - 1) * Nm * E) / ms / 1e6).toPrecision(3)} GFLOP/s`, maxError: "(test/nearest)" });
  q.dispose();
  mem.dispose();
}

const g = rt.tensor(new Float32Array(W).fill(1), [W]);
const z = rt.tensor(new Float32Array(W), [W]);
const lnMs = await time(rt, () => layerNorm(rt, x, g, z), reps);
rows.push({ kernel: "layernorm", shape: `${T}x${W}`, ms: lnMs, gpuMs: lastGpuMs?.toFixed(1) ?? "-", rate: `${((3 * T * W * 4) / lnMs / 1e6).toPrecision(3)} GB/s`, maxError: "(test/rowwise)" });
const smMs = await time(rt, () => softmax(rt, x), reps);
rows.push({ kernel: "softmax", shape: `${T}x${W}`, ms: smMs, gpuMs: lastGpuMs?.toFixed(1) ?? "-", rate: `${((3 * T * W * 4) / smMs / 1e6).toPrecision(3)} GB/s`, maxError: "(test/rowwise)" });

console.table(rows.map((r) => ({ ...r, ms: r.ms.toFixed(1) })));
if (rt.adapter.features.timestampQuery) console.log("gpuMs: the kernels' own GPU time from timestamp-query (ms is wall clock, submit to read-back)");
if (jsonAt > 0) writeFileSync(process.argv[jsonAt + 1], JSON.stringify({ adapter: rt.adapter, quick, rows }, null, 2));
rt.dispose();
