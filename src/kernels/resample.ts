/**
 * Resampling on the GPU (shaders/resample.wgsl): bilinear resize with align_corners = true
 * (the G x G maps of the heads to S x S), affine grid sampling with reflection padding (the
 * support augmentation of spec 7), flips, and the 11-fold augmentation itself.
 */
import bilinear from "../../shaders/common/bilinear.wgsl";
import resampleSource from "../../shaders/resample.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt } from "./shape-checks.js";

const source = wgsl(bilinear, resampleSource);
const offsets = { x: "offX", out: "offOut" };
export const bilinearUpKernel: KernelDef = { name: "bilinear_up", source, entryPoint: "bilinear_up", offsets };
export const affineSampleKernel: KernelDef = { name: "affine_sample", source, entryPoint: "affine_sample", offsets };
export const flipKernel: KernelDef = { name: "flip", source, entryPoint: "flip", offsets };

const MAX_WORKGROUPS = 4096;
const f32 = Math.fround;

function chw(kernel: string, x: Tensor): [number, number, number] {
  expectF32(kernel, x, "x");
  if (x.shape.length === 2) return [1, x.shape[0], x.shape[1]];
  if (x.shape.length === 3) return [x.shape[0], x.shape[1], x.shape[2]];
  throw new ShapeError(`${kernel}: x ${fmt(x)} must be [H, W] or [C, H, W]`);
}

function params(o: Partial<Record<"C" | "Hin" | "Win" | "Hout" | "Wout" | "items" | "flipX" | "flipY" | "scaleY" | "scaleX", number>>) {
  return { C: 1, Hin: 1, Win: 1, Hout: 1, Wout: 1, items: 1, flipX: 0, flipY: 0, scaleY: 0, scaleX: 0, ...o };
}

function workgroups(n: number): [number] {
  return [Math.max(1, Math.min(MAX_WORKGROUPS, Math.ceil(n / 256)))];
}

/** Bilinear resize with align_corners = true: [C, H, W] (or [H, W]) -> [C, outH, outW]. */
export function bilinearResize(rt: Runtime, x: Tensor, outH: number, outW: number, opts: { out?: Tensor<"f32"> } = {}): Tensor<"f32"> {
  const k = "bilinear_up";
  const [C, H, W] = chw(k, x);
  const outShape = x.shape.length === 2 ? [outH, outW] : [C, outH, outW];
  const out = opts.out ?? rt.empty(outShape, "f32", "bilinear");
  if (out.size !== C * outH * outW) throw new ShapeError(`${k}: out ${fmt(out)} must have shape [${outShape.join(", ")}]`);
  // PyTorch's scale for align_corners: (in - 1) / (out - 1) in f32, 0 for a single output.
  const scale = (i: number, o: number) => (o > 1 ? f32((i - 1) / (o - 1)) : 0);
  rt.dispatch(bilinearUpKernel, {
    label: `${C}x${H}x${W}->${outH}x${outW}`,
    bindings: { x, out },
    params: params({ C, Hin: H, Win: W, Hout: outH, Wout: outW, scaleY: scale(H, outH), scaleX: scale(W, outW) }),
    workgroups: workgroups(C * outH * outW),
  });
  return out;
}

/** torch's affine_grid base coordinates for align_corners = false, in f32 as torch makes them. */
export function affineGridBase(n: number): Float32Array {
  // linspace(-1, 1, n) (torch fills the first half from -1, the second from 1), * (n-1) / n
  const out = new Float32Array(n);
  const step = n > 1 ? f32(2 / (n - 1)) : 0;
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) {
    const v = i < half ? f32(-1 + f32(step * i)) : f32(1 - f32(step * (n - i - 1)));
    out[i] = f32(f32(v * (n - 1)) / n);
  }
  if (n === 1) out[0] = 0;
  return out;
}

/** A 2x3 affine map, row-major [a, b, c, d, e, f]: x' = a x + b y + c, y' = d x + e y + f. */
export type Affine = [number, number, number, number, number, number];

/**
 * grid_sample(x, affine_grid(theta)) for each theta: bilinear, reflection padding,
 * align_corners = false. x [C, H, W] -> [A, C, H, W].
 */
export function affineSample(rt: Runtime, x: Tensor, thetas: Affine[], opts: { out?: Tensor<"f32"> } = {}): Tensor<"f32"> {
  const k = "affine_sample";
  const [C, H, W] = chw(k, x);
  const A = thetas.length;
  if (A === 0 || thetas.some((t) => t.length !== 6 || t.some((v) => !Number.isFinite(v)))) {
    throw new ShapeError(`${k}: give one or more affine maps of 6 finite numbers`);
  }
  const out = opts.out ?? rt.empty([A, C, H, W], "f32", "affine");
  if (out.size !== A * C * H * W) throw new ShapeError(`${k}: out ${fmt(out)} must have shape [${A}, ${C}, ${H}, ${W}]`);
  const tt = rt.tensor(thetas.flat(), [A, 6], "f32", "thetas");
  const xs = rt.tensor(affineGridBase(W), [W], "f32", "grid x");
  const ys = rt.tensor(affineGridBase(H), [H], "f32", "grid y");
  rt.dispatch(affineSampleKernel, {
    label: `${A}x${C}x${H}x${W}`,
    bindings: { x, out, thetas: tt, xs, ys },
    params: params({ C, Hin: H, Win: W, Hout: H, Wout: W, items: A }),
    workgroups: workgroups(A * C * H * W),
  });
  for (const t of [tt, xs, ys]) t.dispose();
  return out;
}

/** Mirrors x [C, H, W] horizontally and/or vertically (neither: a copy). */
export function flip(rt: Runtime, x: Tensor, o: { horizontal?: boolean; vertical?: boolean; out?: Tensor<"f32"> }): Tensor<"f32"> {
  const k = "flip";
  const [C, H, W] = chw(k, x);
  const out = o.out ?? rt.empty(x.shape, "f32", "flip");
  if (out.size !== x.size) throw new ShapeError(`${k}: out ${fmt(out)} must match x ${fmt(x)}`);
  rt.dispatch(flipKernel, {
    label: `${C}x${H}x${W}${o.horizontal ? " h" : ""}${o.vertical ? " v" : ""}`,
    bindings: { x, out },
    params: params({ C, Hin: H, Win: W, Hout: H, Wout: W, flipX: o.horizontal ? 1 : 0, flipY: o.vertical ? 1 : 0 }),
    workgroups: workgroups(C * H * W),
  });
  return out;
}

/** The 8 affine maps of spec 7: rotations by -pi/8, -pi/16, pi/16, pi/8, then the 4 translations. */
export function augmentationMaps(): Affine[] {
  const rot = (a: number): Affine => [Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a), 0];
  const shift = (a: number, b: number): Affine => [1, 0, a, 0, 1, b];
  return [
    rot(-Math.PI / 8),
    rot(-Math.PI / 16),
    rot(Math.PI / 16),
    rot(Math.PI / 8),
    shift(0.1, 0.1),
    shift(-0.1, 0.1),
    shift(-0.1, -0.1),
    shift(0.1, -0.1),
  ];
}

export const AUGMENTATIONS = 11;

/**
 * The 11 images of spec 7 for one support image (or mask) [C, S, S] -> [11, C, S, S]:
 * itself, 4 rotations, 4 translations, horizontal flip, vertical flip.
 */
export function augmentSupport(rt: Runtime, x: Tensor): Tensor<"f32"> {
  const [C, H, W] = chw("augment", x);
  const n = C * H * W;
  const out = rt.empty([AUGMENTATIONS, C, H, W], "f32", "augmented");
  const item = (i: number, count = 1) => out.view([count, C, H, W], i * n);
  const views = [item(0), item(1, 8), item(9), item(10)];
  flip(rt, x, { out: views[0] });
  affineSample(rt, x, augmentationMaps(), { out: views[1] });
  flip(rt, x, { horizontal: true, out: views[2] });
  flip(rt, x, { vertical: true, out: views[3] });
  for (const v of views) v.dispose();
  return out;
}
