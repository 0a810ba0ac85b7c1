/**
 * Elementwise ops (shaders/elementwise.wgsl). The second operand may be smaller and is then
 * repeated over the first, when its shape is a trailing part of the first's ([W] over [T, W]).
 */
import source from "../../shaders/elementwise.wgsl";
import { ShapeError } from "../runtime/errors.js";
import type { KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt } from "./shape-checks.js";

const offsets = { a: "offA", b: "offB", c: "offC", out: "offOut" };
const kernels = {
  add: { name: "add", source, entryPoint: "add", offsets },
  mul: { name: "mul", source, entryPoint: "mul", offsets },
  scaled_sum2: { name: "scaled_sum2", source, entryPoint: "scaled_sum2", offsets },
  scaled_sum3: { name: "scaled_sum3", source, entryPoint: "scaled_sum3", offsets },
} satisfies Record<string, KernelDef>;
export const elementwiseKernels: KernelDef[] = Object.values(kernels);

const MAX_WORKGROUPS = 4096;

function isTrailing(small: readonly number[], big: readonly number[]): boolean {
  const s = small.slice(small.findIndex((d) => d !== 1) >= 0 ? small.findIndex((d) => d !== 1) : small.length);
  if (s.length > big.length) return false;
  return s.every((d, i) => d === big[big.length - s.length + i]);
}

function run(rt: Runtime, def: KernelDef, a: Tensor, b: Tensor, c: Tensor | null, w: [number, number, number], out?: Tensor<"f32">): Tensor<"f32"> {
  expectF32(def.name, a, "a");
  expectF32(def.name, b, "b");
  if (b.size === 0 && a.size !== 0) throw new ShapeError(`${def.name}: b ${fmt(b)} is empty`);
  if (b.size !== a.size && !isTrailing(b.shape, a.shape)) {
    throw new ShapeError(`${def.name}: b ${fmt(b)} must have a's shape ${fmt(a)} or a trailing part of it`);
  }
  if (c && c.size !== a.size) throw new ShapeError(`${def.name}: c ${fmt(c)} must have a's shape ${fmt(a)}`);
  const o = out ?? rt.empty(a.shape, "f32", def.name);
  if (o.size !== a.size) throw new ShapeError(`${def.name}: out ${fmt(o)} must have a's shape ${fmt(a)}`);
  for (const [t, role] of [[a, "a"], [b, "b"], [c, "c"]] as const) {
    if (t && t.buffer === o.buffer) throw new ShapeError(`${def.name}: out may not alias ${role}; use a new tensor`);
  }
  const bindings: Record<string, Tensor> = { a, b, out: o };
  if (c) bindings.c = c;
  rt.dispatch(def, {
    label: `${a.size}`,
    bindings,
    params: { n: a.size, bSize: Math.max(1, b.size), wa: w[0], wb: w[1], wc: w[2] },
    workgroups: [Math.min(MAX_WORKGROUPS, Math.ceil(a.size / 256))],
  });
  return o;
}

/** a + b (b repeated over a when smaller). */
export function add(rt: Runtime, a: Tensor, b: Tensor, out?: Tensor<"f32">): Tensor<"f32"> {
  return run(rt, kernels.add, a, b, null, [1, 1, 0], out);
}

/** a * b (b repeated over a when smaller). */
export function mul(rt: Runtime, a: Tensor, b: Tensor, out?: Tensor<"f32">): Tensor<"f32"> {
  return run(rt, kernels.mul, a, b, null, [1, 1, 0], out);
}

/** sum of w[i] * t[i] over two or three tensors of one shape (the second may repeat). */
export function scaledSum(rt: Runtime, terms: Tensor[], weights: number[], out?: Tensor<"f32">): Tensor<"f32"> {
  if (terms.length !== weights.length || terms.length < 2 || terms.length > 3) {
    throw new ShapeError(`scaledSum: give 2 or 3 tensors and as many weights (got ${terms.length} and ${weights.length})`);
  }
  const [a, b, c] = terms;
  return c
    ? run(rt, kernels.scaled_sum3, a, b, c, [weights[0], weights[1], weights[2]], out)
    : run(rt, kernels.scaled_sum2, a, b, null, [weights[0], weights[1], 0], out);
}
