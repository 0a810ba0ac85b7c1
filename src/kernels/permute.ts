/** Axis permutation of 2-D and 3-D tensors (shaders/permute.wgsl). Always a copy. */
import source from "../../shaders/permute.wgsl";
import { ShapeError } from "../runtime/errors.js";
import type { KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt, grid2d } from "./shape-checks.js";

export const permuteKeepLastKernel: KernelDef = { name: "permute", source, entryPoint: "keep_last" };
export const permuteTransposeKernel: KernelDef = { name: "transpose", source, entryPoint: "transpose_tile" };

export function permute(rt: Runtime, x: Tensor, perm: readonly number[], label?: string): Tensor<"f32"> {
  const k = "permute";
  expectF32(k, x, "x");
  const rank = x.shape.length;
  if ((rank !== 2 && rank !== 3) || perm.length !== rank || [...perm].sort().some((p, i) => p !== i)) {
    throw new ShapeError(`${k}: perm [${perm.join(", ")}] must be a permutation of the ${rank} axes of x ${fmt(x)} (rank 2 or 3)`);
  }
  // Work in rank 3: a 2-D tensor is [1, r, c].
  const p3 = rank === 3 ? [...perm] : [0, perm[0] + 1, perm[1] + 1];
  const d = rank === 3 ? [...x.shape] : [1, ...x.shape];
  const outShape3 = p3.map((a) => d[a]);
  const outStrideByPos = [outShape3[1] * outShape3[2], outShape3[2], 1];
  const os = [0, 0, 0];
  p3.forEach((a, j) => (os[a] = outStrideByPos[j]));
  const out = rt.empty(perm.map((a) => x.shape[a]), "f32", label ?? "permute");
  const params = { d0: d[0], d1: d[1], d2: d[2], os0: os[0], os1: os[1], os2: os[2], q: 0, r: 0 };
  if (p3[2] === 2) {
    rt.dispatch(permuteKeepLastKernel, { label: `[${x.shape}]->(${perm})`, bindings: { x, out }, params, workgroups: grid2d(rt, d[0] * d[1]) });
  } else {
    const q = p3[2];
    const r = [0, 1].find((a) => a !== q)!;
    params.q = q;
    params.r = r;
    rt.dispatch(permuteTransposeKernel, {
      label: `[${x.shape}]->(${perm})`,
      bindings: { x, out },
      params,
      workgroups: [Math.ceil(d[2] / 32), Math.ceil(d[q] / 32), d[r]],
    });
  }
  return out;
}

/** The transpose of the last two axes. */
export function transpose(rt: Runtime, x: Tensor, label?: string): Tensor<"f32"> {
  return permute(rt, x, x.shape.length === 2 ? [1, 0] : [0, 2, 1], label);
}
