/**
 * One CLIP residual attention block on [B*T, W] rows, updated in place:
 *   x = x + out_proj(MHA(ln_1(x)));  x = x + c_proj(act(c_fc(ln_2(x))))
 * The residual adds are fused into the GEMM epilogues (in place), the attention reads the
 * packed qkv projection directly.
 */
import { attention } from "../kernels/attention.js";
import { layerNorm } from "../kernels/layernorm.js";
import { linear } from "../kernels/matmul.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import type { BlockWeights } from "./clip-weights.js";

export type ClipActivation = "gelu" | "quickGelu";

export interface BlockOptions {
  batch: number;
  tokens: number;
  heads: number;
  activation: ClipActivation;
  causal?: boolean;
}

export function transformerBlock(rt: Runtime, x: Tensor<"f32">, w: BlockWeights, o: BlockOptions): void {
  const W = x.shape[x.shape.length - 1];
  const h = layerNorm(rt, x, w.ln1[0], w.ln1[1], { label: "ln_1" });
  const qkv = linear(rt, h, w.inProj[0], { bias: w.inProj[1], label: "qkv" });
  h.dispose();
  const qkv3 = qkv.reshape([o.batch, o.tokens, 3 * W]);
  qkv.dispose();
  const a = attention(rt, qkv3, { heads: o.heads, causal: o.causal, label: "attn" });
  qkv3.dispose();
  const a2 = a.reshape([o.batch * o.tokens, W]);
  a.dispose();
  linear(rt, a2, w.outProj[0], { bias: w.outProj[1], residual: x, out: x });
  a2.dispose();
  const h2 = layerNorm(rt, x, w.ln2[0], w.ln2[1], { label: "ln_2" });
  const m = linear(rt, h2, w.fc[0], { bias: w.fc[1], activation: o.activation, label: "mlp" });
  h2.dispose();
  linear(rt, m, w.proj[0], { bias: w.proj[1], residual: x, out: x });
  m.dispose();
}
