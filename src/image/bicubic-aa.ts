/**
 * PyTorch's `interpolate(mode="bicubic", antialias=True, align_corners=False)` on the CPU, for
 * resizing the positional embedding at load time (spec 2). Separable, width first, then
 * height (as torch's separable kernel); weights and sums follow torch's float arithmetic
 * step by step (Math.fround), so results match torch's float32 output to the last bit or so.
 */
const f = Math.fround;

function cubic(x: number): number {
  const A = -0.5;
  x = Math.abs(x);
  if (x < 1) return f(f(f(f(f(f(A + 2) * x) - f(A + 3)) * x) * x) + 1);
  if (x < 2) return f(f(f(f(f(f(A * x) - f(5 * A)) * x) + f(8 * A)) * x) - f(4 * A));
  return 0;
}

interface Taps {
  min: Int32Array;
  size: Int32Array;
  weights: Float32Array;
  maxTaps: number;
}

/** torch's _compute_indices_weights_aa for the bicubic filter (interp_size 4). */
export function aaTaps(inSize: number, outSize: number): Taps {
  const scale = f(inSize / outSize);
  const support = f(scale >= 1 ? 2 * scale : 2);
  const invscale = f(scale >= 1 ? 1 / scale : 1);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const min = new Int32Array(outSize);
  const size = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const center = f(scale * (i + 0.5));
    const xmin = Math.max(Math.trunc(f(center - support) + 0.5), 0);
    const xsize = Math.min(Math.trunc(f(center + support) + 0.5), inSize) - xmin;
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      const w = cubic(f((f(j + xmin - center) + 0.5) * invscale));
      weights[i * maxTaps + j] = w;
      total = f(total + w);
    }
    for (let j = 0; j < xsize; j++) if (total !== 0) weights[i * maxTaps + j] = f(weights[i * maxTaps + j] / total);
    min[i] = xmin;
    size[i] = xsize;
  }
  return { min, size, weights, maxTaps };
}

/** Resamples [n, h, w] along its width (alongWidth) or its height to outLen. */
function resampleAxis(src: Float32Array, n: number, h: number, w: number, outLen: number, alongWidth: boolean): Float32Array {
  const inLen = alongWidth ? w : h;
  const taps = aaTaps(inLen, outLen);
  const oh = alongWidth ? h : outLen;
  const ow = alongWidth ? outLen : w;
  const out = new Float32Array(n * oh * ow);
  for (let c = 0; c < n; c++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const i = alongWidth ? x : y;
        const base = taps.min[i];
        let t = 0;
        for (let j = 0; j < taps.size[i]; j++) {
          const v = alongWidth ? src[(c * h + y) * w + base + j] : src[(c * h + base + j) * w + x];
          const p = f(v * taps.weights[i * taps.maxTaps + j]);
          t = j === 0 ? p : f(t + p);
        }
        out[(c * oh + y) * ow + x] = t;
      }
    }
  }
  return out;
}

/** x [C, H, W] (row-major) -> [C, outH, outW]. */
export function bicubicAntialiasResize(x: Float32Array, C: number, H: number, W: number, outH: number, outW: number): Float32Array {
  if (x.length !== C * H * W) throw new RangeError(`bicubicAntialiasResize: ${x.length} values for [${C}, ${H}, ${W}]`);
  let cur = x;
  let w = W;
  if (outW !== W) {
    cur = resampleAxis(cur, C, H, W, outW, true);
    w = outW;
  }
  if (outH !== H) cur = resampleAxis(cur, C, H, w, outH, false);
  return cur === x ? x.slice() : cur;
}

/**
 * The positional embedding [1 + g*g, W] resized to a G x G grid (spec 2): the patch rows
 * as a [W, g, g] image, bicubic with antialias, the class row kept.
 */
export function resizePositionalEmbedding(pos: Float32Array, width: number, G: number): Float32Array {
  const rows = pos.length / width;
  const g = Math.round(Math.sqrt(rows - 1));
  if (!Number.isInteger(rows) || g * g + 1 !== rows) {
    throw new RangeError(`positional embedding of ${rows} rows is not 1 + g*g for a square grid`);
  }
  if (G === g) return pos.slice();
  const out = new Float32Array((1 + G * G) * width);
  out.set(pos.subarray(0, width));
  const chw = new Float32Array(width * g * g);
  for (let p = 0; p < g * g; p++) for (let c = 0; c < width; c++) chw[c * g * g + p] = pos[(1 + p) * width + c];
  const resized = bicubicAntialiasResize(chw, width, g, g, G, G);
  for (let p = 0; p < G * G; p++) for (let c = 0; c < width; c++) out[(1 + p) * width + c] = resized[c * G * G + p];
  return out;
}
