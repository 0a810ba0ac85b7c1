/** Softmax of scale * x over the last axis (shaders/softmax.wgsl). */
import reduce from "../../shaders/common/workgroup-reduce.wgsl";
import source from "../../shaders/softmax.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt, rowLayout } from "./shape-checks.js";

export const softmaxKernel: KernelDef = { name: "softmax", source: wgsl(reduce, source) };

export function softmax(rt: Runtime, x: Tensor, opts: { scale?: number; out?: Tensor<"f32">; label?: string } = {}): Tensor<"f32"> {
  const k = "softmax";
  expectF32(k, x, "x");
  if (x.shape.length < 1) throw new ShapeError(`${k}: x ${fmt(x)} must have at least one axis`);
  const cols = x.shape[x.shape.length - 1];
  const rows = cols === 0 ? 0 : x.size / cols;
  const out = opts.out ?? rt.empty(x.shape, "f32", opts.label ?? "softmax");
  if (out.size !== x.size) throw new ShapeError(`${k}: out ${fmt(out)} must match x ${fmt(x)}`);
  rt.dispatch(softmaxKernel, {
    label: `${rows}x${cols}`,
    bindings: { x, out },
    params: { rows, cols, scale: opts.scale ?? 1 },
    ...rowLayout(rt, rows, cols),
  });
  return out;
}
