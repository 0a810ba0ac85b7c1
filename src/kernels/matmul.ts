/**
 * matmul / linear with a fused epilogue (shaders/matmul.wgsl):
 *   v = alpha * act(preScale * (a @ op(b) + bias)), then out = v, v + beta * residual, or
 *   v * gate.
 * a: [M,K] or [B,M,K] ([K,M] / [B,K,M] when transA: weight gradients dy^T x); b: [N,K] when transB (a Linear weight, the default for linear()),
 * else [K,N]; a 2-D operand is shared by every batch item. Any operand may be a view
 * (tensor.slice/at); `batchStrides` overrides the contiguous batch layout (0 broadcasts).
 */
import activations from "../../shaders/common/activations.wgsl";
import gemmTile from "../../shaders/common/gemm-tile.wgsl";
import source from "../../shaders/matmul.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { activationCode, type Activation } from "./activation.js";
import { expectF32, expectRank, fmt } from "./shape-checks.js";

export const matmulKernel: KernelDef = {
  name: "matmul",
  source: wgsl(activations, gemmTile, source),
  offsets: { a: "offA", b: "offB", other: "offR", out: "offC" },
};
const TILE = 64;

export interface MatmulOptions {
  /** a is [K,M] (true) or [M,K] (false, the default). */
  transA?: boolean;
  /** b is [N,K] (true: a Linear weight) or [K,N] (false). Default false for matmul. */
  transB?: boolean;
  bias?: Tensor;
  activation?: Activation;
  /** Scales the pre-activation (sigmoid(2h) in channel attention). Default 1. */
  preScale?: number;
  /** Scales the activated result. Default 1. */
  alpha?: number;
  /** Added after the activation: out = v + beta * residual. May be `out` itself (in place). */
  residual?: Tensor;
  /** Scales the residual. Default 1. */
  beta?: number;
  /** Multiplies after the activation: out = v * gate (not with residual). */
  gate?: Tensor;
  /** Write here instead of a new tensor; may be the residual (in place). */
  out?: Tensor<"f32">;
  /** Batch strides in elements, overriding the contiguous ones (0 broadcasts an operand). */
  batchStrides?: { a?: number; b?: number; out?: number; other?: number };
  label?: string;
}

/** The GEMM a patch embedding runs: A read as image patches (see patch-embed.ts). */
export interface Im2col {
  imgSide: number;
  patch: number;
  grid: number;
}

interface GemmCall {
  a: Tensor;
  b: Tensor;
  M: number;
  N: number;
  K: number;
  batch: number;
  strides: { a: number; b: number; out: number; other: number };
  out: Tensor<"f32">;
  opts: MatmulOptions;
  im2col?: Im2col;
  label: string;
}

function capacity(t: Tensor): number {
  return t.buffer.size / 4;
}

/** Checks that every batch item of a strided operand stays inside its buffer. */
function checkExtent(kernel: string, t: Tensor, role: string, stride: number, batch: number, items: number): void {
  const end = t.offset + stride * (batch - 1) + items;
  if (end > capacity(t)) {
    throw new ShapeError(`${kernel}: ${role} ${fmt(t)} at element ${t.offset} is too small for ${batch} item(s) of ${items} elements with batch stride ${stride}`);
  }
}

/** @internal Records one GEMM; shared by matmul/linear and the patch embedding. */
export function recordGemm(rt: Runtime, c: GemmCall): Tensor<"f32"> {
  const k = "matmul";
  const { opts, out } = c;
  if (opts.residual && opts.gate) throw new ShapeError(`${k}: give residual or gate, not both`);
  const other = opts.residual ?? opts.gate;
  const inPlace = opts.residual !== undefined && opts.residual.buffer === out.buffer;
  if (inPlace && (opts.residual!.offset !== out.offset || c.strides.other !== c.strides.out)) {
    throw new ShapeError(`${k}: an in-place residual must be exactly the output`);
  }
  if (opts.bias) {
    expectF32(k, opts.bias, "bias");
    if (opts.bias.size !== c.N) throw new ShapeError(`${k}: bias ${fmt(opts.bias)} must have ${c.N} elements`);
  }
  checkExtent(k, out, "out", c.strides.out, c.batch, c.M * c.N);
  if (other && !inPlace) checkExtent(k, other, opts.gate ? "gate" : "residual", c.strides.other, c.batch, c.M * c.N);
  const epilogue = opts.gate ? 3 : inPlace ? 2 : opts.residual ? 1 : 0;
  rt.dispatch(matmulKernel, {
    label: c.label,
    bindings: {
      a: c.a,
      b: c.b,
      bias: opts.bias ?? rt.placeholder(),
      other: other && !inPlace ? other : rt.placeholder(),
      out,
    },
    params: {
      M: c.M,
      N: c.N,
      K: c.K,
      strideA: c.strides.a,
      strideB: c.strides.b,
      strideC: c.strides.out,
      strideR: c.strides.other,
      alpha: opts.alpha ?? 1,
      preScale: opts.preScale ?? 1,
      beta: opts.beta ?? 1,
      imgSide: c.im2col?.imgSide ?? 0,
      patchSize: c.im2col?.patch ?? 1,
      grid: c.im2col?.grid ?? 1,
    },
    constants: {
      TRANS_B: opts.transB ? 1 : 0,
      TRANS_A: opts.transA ? 1 : 0,
      ACT: activationCode(opts.activation, k),
      HAS_BIAS: opts.bias ? 1 : 0,
      EPILOGUE: epilogue,
      A_IM2COL: c.im2col ? 1 : 0,
    },
    workgroups: [Math.ceil(c.N / TILE), Math.ceil(c.M / TILE), c.batch],
  });
  return out;
}

export function matmul(rt: Runtime, a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor<"f32"> {
  const k = "matmul";
  expectRank(k, a, [2, 3], "a");
  expectRank(k, b, [2, 3], "b");
  expectF32(k, a, "a");
  expectF32(k, b, "b");
  const transB = opts.transB ?? false;
  const transA = opts.transA ?? false;
  const [M, K] = transA ? a.shape.slice(-2).reverse() : a.shape.slice(-2);
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
  const s = opts.batchStrides ?? {};
  const other = opts.residual ?? opts.gate;
  const strides = {
    a: s.a ?? (batchA > 1 ? M * K : 0),
    b: s.b ?? (batchB > 1 ? N * K : 0),
    out: s.out ?? M * N,
    other: s.other ?? (other && other.size === M * N && batch > 1 ? 0 : M * N),
  };
  const out = opts.out ?? rt.empty(outShape, "f32", opts.label ?? "matmul");
  if (!opts.out && s.out !== undefined) throw new ShapeError(`${k}: batchStrides.out needs an explicit out`);
  if (s.out === undefined && out.size !== batch * M * N) throw new ShapeError(`${k}: out ${fmt(out)} must have shape [${outShape.join(", ")}]`);
  if (out.buffer === a.buffer || out.buffer === b.buffer || (opts.bias && out.buffer === opts.bias.buffer)) {
    throw new ShapeError(`${k}: out ${fmt(out)} may alias only the residual, not a, b or bias`);
  }
  if (other && s.other === undefined && other.size !== M * N && other.size !== batch * M * N) {
    throw new ShapeError(`${k}: ${opts.gate ? "gate" : "residual"} ${fmt(other)} must have shape [${outShape.join(", ")}] or [${M}, ${N}]`);
  }
  const label = `${batch > 1 ? `${batch}x` : ""}${transA ? `${K}x${M}T` : `${M}x${K}`}@${transB ? `${N}x${K}T` : `${K}x${N}`}`;
  return recordGemm(rt, { a, b, M, N, K, batch, strides, out, opts: { ...opts, transB }, label });
}

/** A Linear layer: x [.., K] @ weight[N,K]^T + bias, with the same fused epilogue. */
export function linear(rt: Runtime, x: Tensor, weight: Tensor, opts: Omit<MatmulOptions, "transB"> = {}): Tensor<"f32"> {
  return matmul(rt, x, weight, { ...opts, transB: true });
}
