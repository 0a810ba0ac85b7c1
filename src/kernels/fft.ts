/**
 * |DFT| along the last axis (shaders/fft.wgsl): x [..., N] -> magnitudes [..., N], for the
 * MADFF frequency attention. Any N up to 2048: the length is split into radices (4 first,
 * then 2, 3, 5, ... any prime), so 1024 = 4^5 and 768 = 4^4 * 3 take log-depth stages and a
 * prime length becomes one direct stage. Twiddle tables are computed once per N, in double
 * precision, and kept per runtime.
 */
import source from "../../shaders/fft.wgsl";
import { ShapeError } from "../runtime/errors.js";
import type { KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt, grid2d } from "./shape-checks.js";

export const fftMagnitudeKernel: KernelDef = { name: "fft_magnitude", source, offsets: { x: "offX" } };
export const fftMagnitudeBackwardKernel: KernelDef = { name: "fft_magnitude_backward", source, entryPoint: "magnitude_backward", offsets: { x: "offX", dy: "offDy" } };

export const MAX_FFT_LENGTH = 2048;
const MAX_STAGES = 12;

/** Radices whose product is n: 4s first, then 2, then odd primes in increasing order. */
export function fftRadices(n: number): number[] {
  const out: number[] = [];
  let m = n;
  while (m % 4 === 0) {
    out.push(4);
    m /= 4;
  }
  for (let p = 2; m > 1; p++) {
    while (m % p === 0) {
      out.push(p);
      m /= p;
    }
  }
  return out;
}

const twiddleCache = new WeakMap<Runtime, Map<number, Tensor<"f32">>>();

function twiddles(rt: Runtime, n: number): Tensor<"f32"> {
  let perRt = twiddleCache.get(rt);
  if (!perRt) twiddleCache.set(rt, (perRt = new Map()));
  let t = perRt.get(n);
  if (!t || t.disposed) {
    const w = new Float32Array(2 * n);
    for (let m = 0; m < n; m++) {
      const a = (-2 * Math.PI * m) / n;
      w[2 * m] = Math.cos(a);
      w[2 * m + 1] = Math.sin(a);
    }
    t = rt.tensor(w, [n, 2], "f32", `fft twiddles ${n}`);
    perRt.set(n, t);
  }
  return t;
}

function fftPlan(k: string, x: Tensor) {
  expectF32(k, x, "x");
  if (x.shape.length < 1) throw new ShapeError(`${k}: x ${fmt(x)} needs at least one axis`);
  const n = x.shape[x.shape.length - 1];
  if (n < 1 || n > MAX_FFT_LENGTH) throw new ShapeError(`${k}: length ${n} of x ${fmt(x)} is outside 1..${MAX_FFT_LENGTH}`);
  const radices = n === 1 ? [] : fftRadices(n);
  if (radices.length > MAX_STAGES) throw new ShapeError(`${k}: length ${n} needs ${radices.length} stages; at most ${MAX_STAGES}`);
  const r = (i: number) => radices[i] ?? 1;
  const params = {
    rows: x.size / n,
    stages: radices.length,
    r0: r(0), r1: r(1), r2: r(2), r3: r(3), r4: r(4), r5: r(5),
    r6: r(6), r7: r(7), r8: r(8), r9: r(9), r10: r(10), r11: r(11),
  };
  return { n, radices, params, label: `${params.rows}x${n} [${radices.join(",")}]` };
}

export function fftMagnitude(rt: Runtime, x: Tensor, opts: { out?: Tensor<"f32">; label?: string } = {}): Tensor<"f32"> {
  const k = "fft_magnitude";
  const plan = fftPlan(k, x);
  const out = opts.out ?? rt.empty(x.shape, "f32", opts.label ?? "fft magnitude");
  if (out.size !== x.size) throw new ShapeError(`${k}: out ${fmt(out)} must match x ${fmt(x)}`);
  rt.dispatch(fftMagnitudeKernel, {
    label: plan.label,
    bindings: { x, twiddles: twiddles(rt, plan.n), out },
    params: { ...plan.params, offDy: 0 },
    constants: { FFT_N: plan.n },
    workgroups: grid2d(rt, plan.params.rows),
  });
  return out;
}

/**
 * The gradient of sum(dy * |DFT(x)|) with respect to the real rows x: Re(DFT(dy conj(X) / |X|)),
 * zero where a bin is exactly 0 (torch's convention for abs).
 */
export function fftMagnitudeBackward(rt: Runtime, x: Tensor, dy: Tensor, opts: { label?: string } = {}): Tensor<"f32"> {
  const k = "fft_magnitude_backward";
  const plan = fftPlan(k, x);
  expectF32(k, dy, "dy");
  if (dy.size !== x.size) throw new ShapeError(`${k}: dy ${fmt(dy)} must match x ${fmt(x)}`);
  const dx = rt.empty(x.shape, "f32", opts.label ?? "d x (|dft|)");
  rt.dispatch(fftMagnitudeBackwardKernel, {
    label: plan.label,
    bindings: { x, twiddles: twiddles(rt, plan.n), dy, out: dx },
    params: plan.params,
    constants: { FFT_N: plan.n },
    workgroups: grid2d(rt, plan.params.rows),
  });
  return dx;
}
