/**
 * Training gradients of the zero-shot heads (shaders/zero-shot-backward.wgsl): the det
 * score's BCE term and the 2-class softmax of the up-sampled seg map.
 */
import reduce from "../../shaders/common/workgroup-reduce.wgsl";
import source from "../../shaders/zero-shot-backward.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt } from "./shape-checks.js";

const src = wgsl(reduce, source);
const offsets = { z: "offZ", d: "offD", out: "offOut" };
export const detBceBackwardKernel: KernelDef = { name: "det_bce_backward", source: src, entryPoint: "det_bce_backward", offsets };
export const softmax2BackwardKernel: KernelDef = { name: "softmax2_backward", source: src, entryPoint: "softmax2_backward", offsets };
export const softmax2Kernel: KernelDef = { name: "softmax2", source: src, entryPoint: "softmax2", offsets };

/** z [2, ...] planar 2-class logits -> probabilities, softmax over the two planes. */
export function softmax2(rt: Runtime, z: Tensor): Tensor<"f32"> {
  const k = "softmax2";
  expectF32(k, z, "z");
  if (z.shape[0] !== 2) throw new ShapeError(`${k}: z ${fmt(z)} must be [2, ...]`);
  const n = z.size / 2;
  const p = rt.empty(z.shape, "f32", "probabilities");
  rt.dispatch(softmax2Kernel, { label: `${n}`, bindings: { z, out: p }, params: { n, label: 0 }, workgroups: [Math.max(1, Math.min(4096, Math.ceil(n / 256)))] });
  return p;
}

/**
 * logits [P, 2] of one level's det patches and the image's label (0 normal, 1 anomalous) ->
 * loss [1] = BCE-with-logits(mean_p softmax(logits_p)[1], label) and dlogits [P, 2].
 */
export function detBceBackward(rt: Runtime, logits: Tensor, label: number): { loss: Tensor<"f32">; dlogits: Tensor<"f32"> } {
  const k = "det_bce_backward";
  expectF32(k, logits, "logits");
  if (logits.shape.length !== 2 || logits.shape[1] !== 2) throw new ShapeError(`${k}: logits ${fmt(logits)} must be [P, 2]`);
  const loss = rt.empty([1], "f32", "bce");
  const dlogits = rt.empty(logits.shape, "f32", "d logits");
  rt.dispatch(detBceBackwardKernel, { label: `${logits.shape[0]} patches`, bindings: { z: logits, out: dlogits, loss }, params: { n: logits.shape[0], label }, workgroups: [1] });
  return { loss, dlogits };
}

/** z [2, ...] planar 2-class logits and dprob (same shape) -> dz of p = softmax over the planes. */
export function softmax2Backward(rt: Runtime, z: Tensor, dprob: Tensor): Tensor<"f32"> {
  const k = "softmax2_backward";
  expectF32(k, z, "z");
  expectF32(k, dprob, "dprob");
  if (z.shape[0] !== 2 || dprob.size !== z.size) throw new ShapeError(`${k}: z ${fmt(z)} must be [2, ...] and dprob ${fmt(dprob)} the same size`);
  const n = z.size / 2;
  const dz = rt.empty(z.shape, "f32", "d z");
  rt.dispatch(softmax2BackwardKernel, { label: `${n}`, bindings: { z, d: dprob, out: dz }, params: { n, label: 0 }, workgroups: [Math.max(1, Math.min(4096, Math.ceil(n / 256)))] });
  return dz;
}
