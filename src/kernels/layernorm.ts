/** LayerNorm over the last axis (shaders/layernorm.wgsl). eps defaults to CLIP's 1e-5. */
import reduce from "../../shaders/common/workgroup-reduce.wgsl";
import source from "../../shaders/layernorm.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt, rowLayout } from "./shape-checks.js";

export const layerNormKernel: KernelDef = { name: "layernorm", source: wgsl(reduce, source), offsets: { x: "offX", out: "offOut" } };

export function layerNorm(rt: Runtime, x: Tensor, gamma: Tensor, beta: Tensor, opts: { eps?: number; out?: Tensor<"f32">; label?: string } = {}): Tensor<"f32"> {
  const k = "layernorm";
  expectF32(k, x, "x");
  if (x.shape.length < 1) throw new ShapeError(`${k}: x ${fmt(x)} must have at least one axis`);
  const cols = x.shape[x.shape.length - 1];
  const rows = cols === 0 ? 0 : x.size / cols;
  if (gamma.size !== cols || beta.size !== cols) {
    throw new ShapeError(`${k}: gamma ${fmt(gamma)} and beta ${fmt(beta)} must have ${cols} elements (the last axis of x ${fmt(x)})`);
  }
  const out = opts.out ?? rt.empty(x.shape, "f32", opts.label ?? "layernorm");
  if (out.size !== x.size) throw new ShapeError(`${k}: out ${fmt(out)} must match x ${fmt(x)}`);
  rt.dispatch(layerNormKernel, {
    label: `${rows}x${cols}`,
    bindings: { x, gamma, beta, out },
    params: { rows, cols, eps: opts.eps ?? 1e-5 },
    ...rowLayout(rt, rows, cols),
  });
  return out;
}
