/**
 * matmul / linear with a fused epilogue (shaders/matmul.wgsl):
 *   out = alpha * act(a @ op(b) + bias) + beta * residual
 * a: [M,K] or [B,M,K]; b: [N,K] when transB (a Linear weight, the default for linear()),
 * else [K,N]; either may be 2-D and is then shared by every batch item.
 */
import activations from "../../shaders/common/activations.wgsl";
import source from "../../shaders/matmul.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { activationCode, type Activation } from "./activation.js";
import { expectF32, expectRank, fmt } from "./shape-checks.js";

export const matmulKernel: KernelDef = { name: "matmul", source: wgsl(activations, source) };
const TILE = 64;

export interface MatmulOptions {
  /** b is [N,K] (true: a Linear weight) or [K,N] (false). Default false for matmul. */
  transB?: boolean;
  bias?: Tensor;
  activation?: Activation;
  /** Scales the activated result. Default 1. */
  alpha?: number;
  residual?: Tensor;
  /** Scales the residual. Default 1. */
  beta?: number;
  /** Write here instead of a new tensor (shape must match); may be the residual (in place). */
  out?: Tensor<"f32">;
  label?: string;
}

export function matmul(rt: Runtime, a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor<"f32"> {
  const k = "matmul";
  expectRank(k, a, [2, 3], "a");
  expectRank(k, b, [2, 3], "b");
  expectF32(k, a, "a");
  expectF32(k, b, "b");
  const transB = opts.transB ?? false;
  const [M, K] = a.shape.slice(-2);
  const bRows = b.shape[b.shape.length - 2];
  const bCols = b.shape[b.shape.length - 1];
  const N = transB ? bRows : bCols;
  const Kb = transB ? bCols : bRows;
  if (K !== Kb) {
    throw new ShapeError(`${k}: inner sizes differ: a ${fmt(a)} has K=${K}, b ${fmt(b)}${transB ? " (transposed)" : ""} has K=${Kb}`);
  }
  const batchA = a.shape.length === 3 ? a.shape[0] : 1;
  const batchB = b.shape.length === 3 ? b.shape[0] : 1;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new ShapeError(`${k}: batch sizes differ: a ${fmt(a)}, b ${fmt(b)}`);
  }
  const batch = Math.max(batchA, batchB);
  const outShape = a.shape.length === 3 || b.shape.length === 3 ? [batch, M, N] : [M, N];
  if (opts.bias) {
    expectF32(k, opts.bias, "bias");
    if (opts.bias.size !== N) throw new ShapeError(`${k}: bias ${fmt(opts.bias)} must have ${N} elements`);
  }
  if (opts.residual && opts.residual.size !== batch * M * N) {
    throw new ShapeError(`${k}: residual ${fmt(opts.residual)} must have shape [${outShape.join(", ")}]`);
  }
  const out = opts.out ?? rt.empty(outShape, "f32", opts.label ?? "matmul");
  if (out.size !== batch * M * N) throw new ShapeError(`${k}: out ${fmt(out)} must have shape [${outShape.join(", ")}]`);
  const act = activationCode(opts.activation, k);
  const inPlace = opts.residual !== undefined && opts.residual.buffer === out.buffer;
  if (out.buffer === a.buffer || out.buffer === b.buffer || (opts.bias && out.buffer === opts.bias.buffer)) {
    throw new ShapeError(`${k}: out ${fmt(out)} may alias only the residual, not a, b or bias`);
  }
  rt.dispatch(matmulKernel, {
    label: `${batch > 1 ? `${batch}x` : ""}${M}x${K}@${transB ? `${N}x${K}T` : `${K}x${N}`}`,
    bindings: { a, b, bias: opts.bias ?? rt.placeholder(), residual: inPlace || !opts.residual ? rt.placeholder() : opts.residual, out },
    params: {
      M,
      N,
      K,
      strideA: batchA > 1 ? M * K : 0,
      strideB: batchB > 1 ? N * K : 0,
      strideC: M * N,
      alpha: opts.alpha ?? 1,
      beta: opts.beta ?? 1,
    },
    constants: { TRANS_B: transB ? 1 : 0, ACT: act, HAS_BIAS: opts.bias ? 1 : 0, RESIDUAL: inPlace ? 2 : opts.residual ? 1 : 0 },
    workgroups: [Math.ceil(N / TILE), Math.ceil(M / TILE), batch],
  });
  return out;
}

/** A Linear layer: x [.., K] @ weight[N,K]^T + bias, with the same fused epilogue. */
export function linear(rt: Runtime, x: Tensor, weight: Tensor, opts: Omit<MatmulOptions, "transB"> = {}): Tensor<"f32"> {
  return matmul(rt, x, weight, { ...opts, transB: true });
}
