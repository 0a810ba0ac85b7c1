/**
 * Image preprocessing on the GPU (spec 4): PIL's bicubic resize of an 8-bit image to S x S,
 * bit for bit (shaders/pil-resize.wgsl), fused with scaling to [0, 1] and the optional
 * mean/std normalisation, giving the [C, S, S] float tensor the vision tower takes.
 */
import source from "../../shaders/pil-resize.wgsl";
import { pilResizePlan } from "../image/pil-resize.js";
import { ShapeError } from "../runtime/errors.js";
import type { KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";

const offsets = { src: "offSrc", out: "offOut" };
export const pilHorizontalKernel: KernelDef = { name: "pil_horizontal", source, entryPoint: "pil_horizontal", offsets };
export const pilVerticalKernel: KernelDef = { name: "pil_vertical", source, entryPoint: "pil_vertical", offsets };

/** Per-channel mean and std; the reference skips normalisation for medical data. */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

export const NORMALIZATIONS = {
  none: { mean: [0, 0, 0], std: [1, 1, 1] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  clip: { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] },
} as const satisfies Record<string, Normalization>;

/** lut[c][v] = (v / 255 - mean[c]) / std[c], each step rounded to f32 as torch computes it. */
export function normalizationTable(n: Normalization, channels: number): Float32Array {
  const f = Math.fround;
  const lut = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    const mean = f(n.mean[c] ?? 0);
    const std = f(n.std[c] ?? 1);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = f(f(f(v / 255) - mean) / std);
  }
  return lut;
}

const MAX_WORKGROUPS = 4096;

/**
 * image: u32 tensor [H, W, C] holding byte values (RGB: C = 3) -> f32 [C, size, size].
 * `out` may be a view into a batch.
 */
export function preprocessImage(rt: Runtime, image: Tensor, size: number, norm: Normalization, opts: { out?: Tensor<"f32"> } = {}): Tensor<"f32"> {
  const k = "preprocess";
  if (image.dtype !== "u32" || image.shape.length !== 3) throw new ShapeError(`${k}: image "${image.label}" must be a u32 tensor [H, W, C] of byte values`);
  const [H, W, C] = image.shape;
  if (!Number.isInteger(size) || size < 1) throw new ShapeError(`${k}: size ${size} must be a positive integer`);
  const plan = pilResizePlan(W, H, size, size);
  const out = opts.out ?? rt.empty([C, size, size], "f32", "image");
  if (out.size !== C * size * size) throw new ShapeError(`${k}: out "${out.label}" [${out.shape.join(", ")}] must be [${C}, ${size}, ${size}]`);
  const t = (a: Int32Array, label: string) => rt.tensor(a, [a.length], "i32", label);
  const hMin = t(plan.horizontal.min, "taps x");
  const hSize = t(plan.horizontal.size, "taps x");
  const hCoeff = t(plan.horizontal.coeffs, "taps x");
  const vMin = t(plan.vertical.min, "taps y");
  const vSize = t(plan.vertical.size, "taps y");
  const vCoeff = t(plan.vertical.coeffs, "taps y");
  const lut = rt.tensor(normalizationTable(norm, C), [C, 256], "f32", "normalization");
  const tmp = rt.empty([plan.rows, size, C], "u32", "resize rows");
  const params = {
    inW: W,
    channels: C,
    outW: size,
    outH: size,
    rows: plan.rows,
    firstRow: plan.firstRow,
    kh: plan.horizontal.ksize,
    kv: plan.vertical.ksize,
  };
  rt.dispatch(pilHorizontalKernel, {
    label: `${W}x${H}->${size}`,
    bindings: { src: image, tapMin: hMin, tapSize: hSize, tapCoeff: hCoeff, tmp },
    params,
    workgroups: [Math.max(1, Math.min(MAX_WORKGROUPS, Math.ceil((plan.rows * size * C) / 256)))],
  });
  rt.dispatch(pilVerticalKernel, {
    label: `${W}x${H}->${size}`,
    bindings: { tapMin: vMin, tapSize: vSize, tapCoeff: vCoeff, tmp, lut, out },
    params,
    workgroups: [Math.max(1, Math.min(MAX_WORKGROUPS, Math.ceil((C * size * size) / 256)))],
  });
  for (const x of [hMin, hSize, hCoeff, vMin, vSize, vCoeff, lut, tmp]) x.dispose();
  return out;
}
