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

/**
 * The gradient of sum(dout * attention(qkv)) with respect to qkv (no mask), in float64, by
 * the textbook formulas: ds = p (dO v^T - rowsum(dO * O)), dq = ds k / sqrt(d), dk = ds^T q /
 * sqrt(d), dv = p^T dO.
 */
export function attentionBackwardRef(qkv: ArrayLike<number>, dout: ArrayLike<number>, B: number, T: number, W: number, heads: number): Float64Array {
  const d = W / heads;
  const W3 = 3 * W;
  const sc = 1 / Math.sqrt(d);
  const o = attentionRef(qkv, B, T, W, heads, false);
  const dq = new Float64Array(B * T * W3);
  const p = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    const base = b * T * W3;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < T; i++) {
        let m = -Infinity;
        for (let j = 0; j < T; j++) {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += qkv[base + i * W3 + h * d + c] * qkv[base + j * W3 + W + h * d + c];
          p[j] = dot * sc;
          m = Math.max(m, p[j]);
        }
        let sum = 0;
        for (let j = 0; j < T; j++) sum += (p[j] = Math.exp(p[j] - m));
        let D = 0;
        for (let c = 0; c < d; c++) D += dout[b * T * W + i * W + h * d + c] * o[b * T * W + i * W + h * d + c];
        for (let j = 0; j < T; j++) {
          const pj = p[j] / sum;
          let dp = 0;
          for (let c = 0; c < d; c++) dp += dout[b * T * W + i * W + h * d + c] * qkv[base + j * W3 + 2 * W + h * d + c];
          const ds = pj * (dp - D);
          for (let c = 0; c < d; c++) {
            dq[base + i * W3 + h * d + c] += ds * qkv[base + j * W3 + W + h * d + c] * sc;
            dq[base + j * W3 + W + h * d + c] += ds * qkv[base + i * W3 + h * d + c] * sc;
            dq[base + j * W3 + 2 * W + h * d + c] += pj * dout[b * T * W + i * W + h * d + c];
          }
        }
      }
    }
  }
  return dq;
}

/** d sum(dy |DFT(x)|) / dx per row, in float64: Re(DFT(dy conj(X) / |X|)), 0 where X_k = 0. */
export function dftMagnitudeBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, rows: number, n: number): Float64Array {
  const out = new Float64Array(rows * n);
  const cr = new Float64Array(n);
  const ci = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < n; k++) {
      let re = 0;
      let im = 0;
      for (let t = 0; t < n; t++) {
        const a = (-2 * Math.PI * ((k * t) % n)) / n;
        re += x[r * n + t] * Math.cos(a);
        im += x[r * n + t] * Math.sin(a);
      }
      const mag = Math.hypot(re, im);
      cr[k] = mag > 0 ? (dy[r * n + k] * re) / mag : 0;
      ci[k] = mag > 0 ? (-dy[r * n + k] * im) / mag : 0;
    }
    for (let t = 0; t < n; t++) {
      let acc = 0;
      for (let k = 0; k < n; k++) {
        const a = (-2 * Math.PI * ((k * t) % n)) / n;
        acc += cr[k] * Math.cos(a) - ci[k] * Math.sin(a);
      }
      out[r * n + t] = acc;
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

/** y = v @ w^T for one vector; w is [out, in] row-major. */
function matvec(v: ArrayLike<number>, w: ArrayLike<number>, outN: number, inN: number, wOff = 0): Float64Array {
  const y = new Float64Array(outN);
  for (let o = 0; o < outN; o++) {
    let s = 0;
    for (let i = 0; i < inN; i++) s += v[i] * w[wOff + o * inN + i];
    y[o] = s;
  }
  return y;
}

export interface MadffRefWeights {
  fc1: ArrayLike<number>; // [2, E, W]
  fc2: ArrayLike<number>; // [2, W, E]
  c0: ArrayLike<number>; // [2, H, W]
  c2: ArrayLike<number>; // [2, W, H]
  f0: ArrayLike<number>;
  f2: ArrayLike<number>;
  spatial: ArrayLike<number>; // [2, 3]
}

/** The MADFF adapter pair of spec 5.1, token by token, in float64. */
export function madffPairRef(x: ArrayLike<number>, R: number, W: number, E: number, H: number, w: MadffRefWeights) {
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const leaky = (v: number) => (v >= 0 ? v : 0.01 * v);
  const mids = [new Float64Array(R * E), new Float64Array(R * E)];
  const xNew = new Float64Array(R * W);
  const mag = dftMagnitudeRef(x, R, W);
  for (let r = 0; r < R; r++) {
    const xr = Array.from({ length: W }, (_, i) => x[r * W + i]);
    const outs: Float64Array[] = [];
    for (let a = 0; a < 2; a++) {
      const hc = matvec(xr, w.c0, H, W, a * H * W).map((v) => Math.max(v, 0));
      const gc = matvec(hc, w.c2, W, H, a * W * H);
      const ca = xr.map((v, i) => v * sig(2 * gc[i]));
      const mean = ca.reduce((s, v) => s + v, 0) / W;
      const mx = Math.max(...ca);
      const g = sig(w.spatial[a * 3] * mean + w.spatial[a * 3 + 1] * mx + w.spatial[a * 3 + 2]);
      const sa = ca.map((v) => v * g);
      const hf = matvec(mag.subarray(r * W, (r + 1) * W), w.f0, H, W, a * H * W).map((v) => Math.max(v, 0));
      const gf = matvec(hf, w.f2, W, H, a * W * H);
      const fa = xr.map((v, i) => v * sig(gf[i]));
      const f1 = (v: ArrayLike<number>) => matvec(v, w.fc1, E, W, a * E * W).map(leaky);
      const [p, q, s, t] = [f1(xr), f1(ca), f1(sa), f1(fa)];
      const mid = p.map((v, i) => 0.4 * v + 0.2 * q[i] + 0.2 * s[i] + 0.2 * t[i]);
      mids[a].set(mid, r * E);
      const o2 = matvec(mid, w.fc2, W, E, a * W * E);
      outs.push(o2.map((v, i) => 0.3 * leaky(v) + 0.2 * ca[i] + 0.2 * sa[i] + 0.3 * fa[i]));
    }
    for (let i = 0; i < W; i++) xNew[r * W + i] = 0.8 * xr[i] + 0.1 * outs[0][i] + 0.1 * outs[1][i];
  }
  return { segMid: mids[0], detMid: mids[1], x: xNew };
}

/** conv1 patches + class token + positional embedding + ln_pre, one image [C, S, S]. */
export function patchEmbedRef(
  img: ArrayLike<number>, C: number, S: number, conv: ArrayLike<number>, W: number, P: number,
  cls: ArrayLike<number>, pos: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>,
): Float64Array {
  const G = Math.floor((S - P) / P) + 1;
  const T = 1 + G * G;
  const x = new Float64Array(T * W);
  for (let o = 0; o < W; o++) x[o] = cls[o] + pos[o];
  for (let py = 0; py < G; py++) {
    for (let px = 0; px < G; px++) {
      const t = 1 + py * G + px;
      for (let o = 0; o < W; o++) {
        let s = 0;
        for (let c = 0; c < C; c++)
          for (let ky = 0; ky < P; ky++)
            for (let kx = 0; kx < P; kx++) s += img[c * S * S + (py * P + ky) * S + px * P + kx] * conv[((o * C + c) * P + ky) * P + kx];
        x[t * W + o] = s + pos[t * W + o];
      }
    }
  }
  return layerNormRef(x, T, W, g, b);
}

/**
 * Bilinear resize, align_corners = true, in float64 but for the source coordinate, which is
 * torch's: scale = (in - 1) / (out - 1) rounded to f32, times the index, rounded to f32.
 */
export function bilinearRef(x: ArrayLike<number>, C: number, H: number, W: number, oh: number, ow: number): Float64Array {
  const out = new Float64Array(C * oh * ow);
  for (let c = 0; c < C; c++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        const f = Math.fround;
        const sy = oh > 1 ? f(f((H - 1) / (oh - 1)) * y) : 0;
        const sx = ow > 1 ? f(f((W - 1) / (ow - 1)) * xx) : 0;
        const y0 = Math.floor(sy);
        const x0 = Math.floor(sx);
        const y1 = Math.min(y0 + 1, H - 1);
        const x1 = Math.min(x0 + 1, W - 1);
        const ly = sy - y0;
        const lx = sx - x0;
        const v = (yy: number, xq: number) => x[c * H * W + yy * W + xq];
        out[(c * oh + y) * ow + xx] = (1 - ly) * ((1 - lx) * v(y0, x0) + lx * v(y0, x1)) + ly * ((1 - lx) * v(y1, x0) + lx * v(y1, x1));
      }
  return out;
}

/** grid_sample(x, affine_grid(theta)), bilinear, reflection padding, align_corners false, float64. */
export function affineSampleRef(x: ArrayLike<number>, C: number, H: number, W: number, theta: number[]): Float64Array {
  const reflect = (v: number, n: number) => {
    const lo = -0.5;
    const span = n;
    let r = Math.abs(v - lo);
    const extra = r % span;
    const flips = Math.floor(r / span);
    r = flips % 2 === 0 ? extra + lo : span - extra + lo;
    return Math.min(Math.max(r, 0), n - 1);
  };
  const out = new Float64Array(C * H * W);
  for (let c = 0; c < C; c++)
    for (let oy = 0; oy < H; oy++)
      for (let ox = 0; ox < W; ox++) {
        const bx = (2 * ox + 1) / W - 1;
        const by = (2 * oy + 1) / H - 1;
        const gx = theta[0] * bx + theta[1] * by + theta[2];
        const gy = theta[3] * bx + theta[4] * by + theta[5];
        const fx = reflect(((gx + 1) * W - 1) / 2, W);
        const fy = reflect(((gy + 1) * H - 1) / 2, H);
        const x0 = Math.floor(fx);
        const y0 = Math.floor(fy);
        const v = (yy: number, xq: number) => (xq < 0 || yy < 0 || xq >= W || yy >= H ? 0 : x[c * H * W + yy * W + xq]);
        const wx = fx - x0;
        const wy = fy - y0;
        out[(c * H + oy) * W + ox] = v(y0, x0) * (1 - wx) * (1 - wy) + v(y0, x0 + 1) * wx * (1 - wy) + v(y0 + 1, x0) * (1 - wx) * wy + v(y0 + 1, x0 + 1) * wx * wy;
      }
  return out;
}

/** x / max(||x||, eps) per row. */
export function normalizeRef(x: ArrayLike<number>, rows: number, cols: number, eps: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[r * cols + c] ** 2;
    const n = Math.max(Math.sqrt(s), eps);
    for (let c = 0; c < cols; c++) out[r * cols + c] = x[r * cols + c] / n;
  }
  return out;
}

/** min over memory rows of 1 - cos(q, m), norms clamped at eps, by brute force. */
export function nearestRef(q: ArrayLike<number>, Nq: number, m: ArrayLike<number>, Nm: number, E: number, eps = 1e-8): Float64Array {
  const qn = normalizeRef(q, Nq, E, eps);
  const mn = normalizeRef(m, Nm, E, eps);
  const out = new Float64Array(Nq);
  for (let i = 0; i < Nq; i++) {
    let best = Infinity;
    for (let j = 0; j < Nm; j++) {
      let dot = 0;
      for (let c = 0; c < E; c++) dot += qn[i * E + c] * mn[j * E + c];
      best = Math.min(best, 1 - dot);
    }
    out[i] = best;
  }
  return out;
}
