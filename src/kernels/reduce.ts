/** Row reductions over the last axis: [..., cols] -> [...] (shaders/reduce.wgsl). */
import common from "../../shaders/common/workgroup-reduce.wgsl";
import source from "../../shaders/reduce.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt, rowLayout } from "./shape-checks.js";

const src = wgsl(common, source);
const offsets = { x: "offX", out: "offOut" };
export const rowMeanKernel: KernelDef = { name: "row_mean", source: src, entryPoint: "row_mean", offsets };
export const rowMaxKernel: KernelDef = { name: "row_max", source: src, entryPoint: "row_max", offsets };
export const rowNormalizeKernel: KernelDef = { name: "row_normalize", source: src, entryPoint: "row_normalize", offsets };

function reduceRows(rt: Runtime, def: KernelDef, x: Tensor, label?: string): Tensor<"f32"> {
  expectF32(def.name, x, "x");
  if (x.shape.length < 1) throw new ShapeError(`${def.name}: x ${fmt(x)} must have at least one axis`);
  const cols = x.shape[x.shape.length - 1];
  if (cols === 0) throw new ShapeError(`${def.name}: x ${fmt(x)} has an empty last axis`);
  const rows = x.size / cols;
  const out = rt.empty(x.shape.slice(0, -1), "f32", label ?? def.name);
  rt.dispatch(def, { label: `${rows}x${cols}`, bindings: { x, out }, params: { rows, cols, eps: 0 }, ...rowLayout(rt, rows, cols) });
  return out;
}

export function rowMean(rt: Runtime, x: Tensor, label?: string): Tensor<"f32"> {
  return reduceRows(rt, rowMeanKernel, x, label);
}

export function rowMax(rt: Runtime, x: Tensor, label?: string): Tensor<"f32"> {
  return reduceRows(rt, rowMaxKernel, x, label);
}

/**
 * Each row divided by max(its L2 norm, eps), as torch's F.normalize (eps 1e-12) or the
 * clamped norms of cosine similarity (eps 1e-8). [..., cols] -> same shape.
 */
export function rowNormalize(rt: Runtime, x: Tensor, opts: { eps?: number; label?: string; out?: Tensor<"f32"> } = {}): Tensor<"f32"> {
  const def = rowNormalizeKernel;
  expectF32(def.name, x, "x");
  if (x.shape.length < 1) throw new ShapeError(`${def.name}: x ${fmt(x)} must have at least one axis`);
  const cols = x.shape[x.shape.length - 1];
  const rows = cols === 0 ? 0 : x.size / cols;
  const out = opts.out ?? rt.empty(x.shape, "f32", opts.label ?? "normalized");
  if (out.size !== x.size) throw new ShapeError(`${def.name}: out ${fmt(out)} must match x ${fmt(x)}`);
  rt.dispatch(def, { label: `${rows}x${cols}`, bindings: { x, out }, params: { rows, cols, eps: opts.eps ?? 1e-12 }, ...rowLayout(rt, rows, cols) });
  return out;
}
