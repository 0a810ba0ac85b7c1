/**
 * Input gradients for training (shaders/backward-rows.wgsl): activations, LayerNorm and
 * F.normalize. Weight gradients are not needed there: CLIP stays frozen.
 */
import activations from "../../shaders/common/activations.wgsl";
import reduce from "../../shaders/common/workgroup-reduce.wgsl";
import source from "../../shaders/backward-rows.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { activationCode, type Activation } from "./activation.js";
import { expectF32, fmt, rowLayout } from "./shape-checks.js";

const src = wgsl(activations, reduce, source);
const offsets = { x: "offX", dy: "offDy", dx: "offOut" };
export const activationBackwardKernel: KernelDef = { name: "activation_backward", source: src, entryPoint: "activation_backward", offsets };
export const layerNormBackwardKernel: KernelDef = { name: "layernorm_backward", source: src, entryPoint: "layernorm_backward", offsets };
export const rowNormalizeBackwardKernel: KernelDef = { name: "row_normalize_backward", source: src, entryPoint: "row_normalize_backward", offsets };

function sameSize(k: string, x: Tensor, dy: Tensor) {
  expectF32(k, x, "x");
  expectF32(k, dy, "dy");
  if (dy.size !== x.size) throw new ShapeError(`${k}: dy ${fmt(dy)} must match x ${fmt(x)}`);
}

/** dy * act'(x) with x the activation's input (the pre-activation). */
export function activationBackward(rt: Runtime, x: Tensor, dy: Tensor, act: Activation): Tensor<"f32"> {
  const k = "activation_backward";
  sameSize(k, x, dy);
  const dx = rt.empty(x.shape, "f32", `d ${act}`);
  rt.dispatch(activationBackwardKernel, {
    label: `${act} ${x.size}`,
    bindings: { x, dy, dx },
    params: { rows: 0, cols: 0, n: x.size, eps: 0 },
    constants: { ACT: activationCode(act, k) },
    workgroups: [Math.max(1, Math.min(4096, Math.ceil(x.size / 256)))],
  });
  return dx;
}

/** The input gradient of LayerNorm over the last axis (gamma [cols]; eps as the forward's). */
export function layerNormBackward(rt: Runtime, x: Tensor, dy: Tensor, gamma: Tensor, opts: { eps?: number } = {}): Tensor<"f32"> {
  const k = "layernorm_backward";
  sameSize(k, x, dy);
  const cols = x.shape[x.shape.length - 1];
  if (gamma.size !== cols) throw new ShapeError(`${k}: gamma ${fmt(gamma)} must have ${cols} values for x ${fmt(x)}`);
  const rows = cols === 0 ? 0 : x.size / cols;
  const dx = rt.empty(x.shape, "f32", "d layernorm");
  rt.dispatch(layerNormBackwardKernel, { label: `${rows}x${cols}`, bindings: { x, dy, gamma, dx }, params: { rows, cols, n: x.size, eps: opts.eps ?? 1e-5 }, ...rowLayout(rt, rows, cols) });
  return dx;
}

/** The gradient of rowNormalize with respect to x, given x and dy (same shapes). */
export function rowNormalizeBackward(rt: Runtime, x: Tensor, dy: Tensor, opts: { eps?: number; out?: Tensor<"f32"> } = {}): Tensor<"f32"> {
  const k = "row_normalize_backward";
  sameSize(k, x, dy);
  const cols = x.shape[x.shape.length - 1];
  const rows = cols === 0 ? 0 : x.size / cols;
  const dx = opts.out ?? rt.empty(x.shape, "f32", "d x");
  if (dx.size !== x.size) throw new ShapeError(`${k}: out ${fmt(dx)} must match x ${fmt(x)}`);
  rt.dispatch(rowNormalizeBackwardKernel, { label: `${rows}x${cols}`, bindings: { x, dy, dx }, params: { rows, cols, n: x.size, eps: opts.eps ?? 1e-12 }, ...rowLayout(rt, rows, cols) });
  return dx;
}
