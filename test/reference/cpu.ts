/**
 * Float64 CPU references for the kernels. Written from the definitions, independent of the
 * WGSL, so a kernel bug cannot hide in both.
 */

export type Act = "none" | "gelu" | "quickGelu" | "relu" | "leakyRelu" | "sigmoid";

/** erf to double precision (series for small |x|, continued fraction for large). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 100; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), evaluated bottom-up
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export function activate(x: number, act: Act): number {
  switch (act) {
    case "gelu":
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case "quickGelu":
      return x / (1 + Math.exp(-1.702 * x));
    case "relu":
      return Math.max(x, 0);
    case "leakyRelu":
      return x >= 0 ? x : 0.01 * x;
    case "sigmoid":
      return 1 / (1 + Math.exp(-x));
    default:
      return x;
  }
}

/** out[b] = alpha * act(a[b] @ op(b[b]) + bias) + beta * residual[b]; batch stride 0 broadcasts. */
export function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  o: {
    batch: number; M: number; N: number; K: number; transB: boolean; batchA: boolean; batchB: boolean;
    bias?: ArrayLike<number>; act?: Act; alpha?: number; residual?: ArrayLike<number>; beta?: number;
  },
): Float64Array {
  const { batch, M, N, K, transB } = o;
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const ba = o.batchA ? z * M * K : 0;
    const bb = o.batchB ? z * N * K : 0;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[ba + i * K + k] * (transB ? b[bb + j * K + k] : b[bb + k * N + j]);
        if (o.bias) s += o.bias[j];
        let v = (o.alpha ?? 1) * activate(s, o.act ?? "none");
        const idx = z * M * N + i * N + j;
        if (o.residual) v += (o.beta ?? 1) * o.residual[idx];
        out[idx] = v;
      }
    }
  }
  return out;
}

/** LayerNorm over the last axis, biased variance as torch.nn.LayerNorm. */
export function layerNormRef(x: ArrayLike<number>, rows: number, cols: number, g: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-5): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < cols; c++) mean += x[r * cols + c];
    mean /= cols;
    let v = 0;
    for (let c = 0; c < cols; c++) v += (x[r * cols + c] - mean) ** 2;
    v /= cols;
    const inv = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < cols; c++) out[r * cols + c] = (x[r * cols + c] - mean) * inv * g[c] + b[c];
  }
  return out;
}

export function softmaxRef(x: ArrayLike<number>, rows: number, cols: number, scale = 1): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, scale * x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(scale * x[r * cols + c] - m);
    for (let c = 0; c < cols; c++) out[r * cols + c] = Math.exp(scale * x[r * cols + c] - m) / s;
  }
  return out;
}

export function rowReduceRef(x: ArrayLike<number>, rows: number, cols: number, op: "mean" | "max"): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = op === "mean" ? 0 : -Infinity;
    for (let c = 0; c < cols; c++) acc = op === "mean" ? acc + x[r * cols + c] : Math.max(acc, x[r * cols + c]);
    out[r] = op === "mean" ? acc / cols : acc;
  }
  return out;
}

/** Permutes a row-major tensor: out axis j is input axis perm[j]. */
export function permuteRef(x: ArrayLike<number>, shape: number[], perm: number[]): Float64Array {
  const outShape = perm.map((a) => shape[a]);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));
  const n = shape.reduce((p, d) => p * d, 1);
  const out = new Float64Array(n);
  const idx = new Array(outShape.length).fill(0);
  for (let o = 0; o < n; o++) {
    let rem = o;
    for (let j = outShape.length - 1; j >= 0; j--) {
      idx[j] = rem % outShape[j];
      rem = Math.floor(rem / outShape[j]);
    }
    let src = 0;
    for (let j = 0; j < perm.length; j++) src += idx[j] * inStrides[perm[j]];
    out[o] = x[src];
  }
  return out;
}

/** softmax(q k^T / sqrt(d)) v per head from packed qkv [B, T, 3W]; out [B, T, W]. */
export function attentionRef(qkv: ArrayLike<number>, B: number, T: number, W: number, heads: number, causal: boolean): Float64Array {
  const d = W / heads;
  const out = new Float64Array(B * T * W);
  const s = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    const base = b * T * 3 * W;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < T; i++) {
        let m = -Infinity;
        for (let j = 0; j < T; j++) {
          if (causal && j > i) {
            s[j] = -Infinity;
            continue;
          }
          let dot = 0;
          for (let c = 0; c < d; c++) dot += qkv[base + i * 3 * W + h * d + c] * qkv[base + j * 3 * W + W + h * d + c];
          s[j] = dot / Math.sqrt(d);
          m = Math.max(m, s[j]);
        }
        let sum = 0;
        for (let j = 0; j < T; j++) {
          s[j] = s[j] === -Infinity ? 0 : Math.exp(s[j] - m);
          sum += s[j];
        }
        for (let c = 0; c < d; c++) {
          let acc = 0;
          for (let j = 0; j < T; j++) acc += s[j] * qkv[base + j * 3 * W + 2 * W + h * d + c];
          out[b * T * W + i * W + h * d + c] = acc / sum;
        }
      }
    }
  }
  return out;
}

/** |DFT| of each row by the O(N^2) definition, in float64. */
export function dftMagnitudeRef(x: ArrayLike<number>, rows: number, n: number): Float64Array {
  const out = new Float64Array(rows * n);
  const cos = Float64Array.from({ length: n }, (_, m) => Math.cos((2 * Math.PI * m) / n));
  const sin = Float64Array.from({ length: n }, (_, m) => Math.sin((2 * Math.PI * m) / n));
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < n; k++) {
      let re = 0;
      let im = 0;
      for (let j = 0; j < n; j++) {
        const m = (j * k) % n;
        re += x[r * n + j] * cos[m];
        im -= x[r * n + j] * sin[m];
      }
      out[r * n + k] = Math.hypot(re, im);
    }
  }
  return out;
}
