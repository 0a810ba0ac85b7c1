/**
 * Fused multi-head attention (shaders/attention.wgsl) from the packed qkv projection:
 * qkv [T, 3W] or [B, T, 3W] -> [T, W] or [B, T, W], heads concatenated, ready for out_proj.
 */
import source from "../../shaders/attention.wgsl";
import { ShapeError } from "../runtime/errors.js";
import type { KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, expectRank, fmt } from "./shape-checks.js";

export const attentionKernel: KernelDef = { name: "attention", source, offsets: { qkv: "offQkv", out: "offOut" } };

export interface AttentionOptions {
  heads: number;
  /** Mask key j > query i (CLIP's text tower). */
  causal?: boolean;
  out?: Tensor<"f32">;
  label?: string;
}

export function attention(rt: Runtime, qkv: Tensor, opts: AttentionOptions): Tensor<"f32"> {
  const k = "attention";
  expectRank(k, qkv, [2, 3], "qkv");
  expectF32(k, qkv, "qkv");
  const [T, W3] = qkv.shape.slice(-2);
  const batch = qkv.shape.length === 3 ? qkv.shape[0] : 1;
  if (W3 % 3 !== 0) throw new ShapeError(`${k}: qkv ${fmt(qkv)} must have 3W columns (q, k, v)`);
  const W = W3 / 3;
  const { heads } = opts;
  if (!Number.isInteger(heads) || heads < 1 || W % heads !== 0) {
    throw new ShapeError(`${k}: width ${W} of qkv ${fmt(qkv)} does not split into ${heads} heads`);
  }
  const d = W / heads;
  if (d % 4 !== 0 || d > 128) throw new ShapeError(`${k}: head dim ${d} (width ${W} / ${heads} heads) must be a multiple of 4 up to 128`);
  const outShape = qkv.shape.length === 3 ? [batch, T, W] : [T, W];
  const out = opts.out ?? rt.empty(outShape, "f32", opts.label ?? "attention");
  if (out.size !== batch * T * W) throw new ShapeError(`${k}: out ${fmt(out)} must have shape [${outShape.join(", ")}]`);
  rt.dispatch(attentionKernel, {
    label: `${batch > 1 ? `${batch}x` : ""}T${T} ${heads}x${d}${opts.causal ? " causal" : ""}`,
    bindings: { qkv, out },
    params: { T, W, strideQkv: T * W3, strideOut: T * W, scale: 1 / Math.sqrt(d) },
    constants: { HEAD_DIM: d, CAUSAL: opts.causal ? 1 : 0 },
    workgroups: [Math.ceil(T / 32), heads, batch],
  });
  return out;
}
