/**
 * A quick end-to-end check of the WebGPU path: a Linear + GELU, LayerNorm and softmax on
 * random data, compared with a float64 computation on the CPU. What `clipmpcad-gpu demo`
 * runs until the model is in place; also useful to see which adapter a machine gives.
 */
import { layerNorm, linear, softmax } from "./kernels/index.js";
import type { Runtime } from "./runtime/runtime.js";

export interface SelfCheckResult {
  maxAbsError: number;
  milliseconds: number;
  ok: boolean;
}

export async function selfCheck(rt: Runtime, size = { T: 50, W: 96 }): Promise<SelfCheckResult> {
  const { T, W } = size;
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const x = Float32Array.from({ length: T * W }, rand);
  const w = Float32Array.from({ length: W * W }, () => rand() / Math.sqrt(W));
  const b = Float32Array.from({ length: W }, rand);
  const gamma = Float32Array.from({ length: W }, () => 1 + 0.1 * rand());
  const beta = Float32Array.from({ length: W }, () => 0.1 * rand());

  const t0 = performance.now();
  const tx = rt.tensor(x, [T, W], "f32", "x");
  const tw = rt.tensor(w, [W, W], "f32", "w");
  const tb = rt.tensor(b, [W], "f32", "b");
  const tg = rt.tensor(gamma, [W], "f32", "gamma");
  const tbeta = rt.tensor(beta, [W], "f32", "beta");
  const h = linear(rt, tx, tw, { bias: tb, activation: "gelu" });
  const n = layerNorm(rt, h, tg, tbeta);
  const p = softmax(rt, n, { scale: 4 });
  const got = await p.read();
  const milliseconds = performance.now() - t0;
  for (const t of [tx, tw, tb, tg, tbeta, h, n, p]) t.dispose();

  let maxAbsError = 0;
  for (let r = 0; r < T; r++) {
    const row = new Float64Array(W);
    for (let o = 0; o < W; o++) {
      let s = b[o];
      for (let k = 0; k < W; k++) s += x[r * W + k] * w[o * W + k];
      row[o] = 0.5 * s * (1 + erf(s / Math.SQRT2));
    }
    const mean = row.reduce((a, v) => a + v, 0) / W;
    const v = row.reduce((a, q) => a + (q - mean) ** 2, 0) / W;
    const z = row.map((q, o) => 4 * ((q - mean) / Math.sqrt(v + 1e-5) * gamma[o] + beta[o]));
    const m = Math.max(...z);
    const e = z.map((q) => Math.exp(q - m));
    const sum = e.reduce((a, q) => a + q, 0);
    for (let o = 0; o < W; o++) maxAbsError = Math.max(maxAbsError, Math.abs(got[r * W + o] - e[o] / sum));
  }
  return { maxAbsError, milliseconds, ok: maxAbsError < 1e-4 };
}

// Abramowitz-Stegun 7.1.26 is too coarse for a reference; this series/continued fraction is
// accurate to double precision.
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  let sum = ax;
  let term = ax;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (-ax * ax) / n;
    sum += term / (2 * n + 1);
  }
  return Math.sign(x) * Math.min(1, (2 / Math.sqrt(Math.PI)) * sum);
}
