/**
 * The input gradient of one CLIP residual attention block (transformer-block.ts) for adapter
 * training: the block's weights are frozen, so only d loss / d x is computed. The forward is
 * recomputed from the block's input (nothing but block inputs is kept between the forward
 * and backward passes); the attention backward recomputes its scores in turn.
 *   x1 = x + out_proj(MHA(ln_1(x))),  y = x1 + c_proj(act(c_fc(ln_2(x1))))
 *   g1 = gy + ln_2'(x1)^T (c_fc^T act'(.) (gy c_proj))
 *   gx = g1 + ln_1'(x)^T (in_proj^T attention'(out_proj^T g1))
 */
import { attention } from "../kernels/attention.js";
import { attentionBackward } from "../kernels/attention-backward.js";
import { activationBackward, layerNormBackward } from "../kernels/backward.js";
import { scaledSum } from "../kernels/elementwise.js";
import { layerNorm } from "../kernels/layernorm.js";
import { linear, matmul } from "../kernels/matmul.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import type { BlockWeights } from "./clip-weights.js";
import type { ClipActivation } from "./transformer-block.js";

/** x [T, W]: the block's input (one image); gy [T, W]: d loss / d output. Returns d loss / d x. */
export function transformerBlockBackward(rt: Runtime, x: Tensor, gy: Tensor, w: BlockWeights, o: { heads: number; activation: ClipActivation }): Tensor<"f32"> {

  // forward again, keeping the attention's input and output, x1 and the MLP pre-activation
  const h1 = layerNorm(rt, x, w.ln1[0], w.ln1[1], { label: "ln_1" });
  const qkv = linear(rt, h1, w.inProj[0], { bias: w.inProj[1], label: "qkv" });
  h1.dispose();
  const attn = attention(rt, qkv, { heads: o.heads, label: "attn" });
  const x1 = linear(rt, attn, w.outProj[0], { bias: w.outProj[1], residual: x, label: "x1" });
  const h2 = layerNorm(rt, x1, w.ln2[0], w.ln2[1], { label: "ln_2" });
  const pre = linear(rt, h2, w.fc[0], { bias: w.fc[1], label: "mlp pre-activation" });
  h2.dispose();

  // MLP branch
  const gm = matmul(rt, gy, w.proj[0], { label: "d mlp" }); // c_proj weight [W, 4W]
  const gpre = activationBackward(rt, pre, gm, o.activation);
  const gh2 = matmul(rt, gpre, w.fc[0], { label: "d ln_2 out" }); // c_fc weight [4W, W]
  const gln2 = layerNormBackward(rt, x1, gh2, w.ln2[0]);
  const g1 = scaledSum(rt, [gy, gln2], [1, 1]);
  for (const t of [pre, gm, gpre, gh2, gln2, x1]) t.dispose();

  // attention branch
  const gattn = matmul(rt, g1, w.outProj[0], { label: "d attention out" });
  const gqkv = attentionBackward(rt, qkv, attn, gattn, { heads: o.heads });
  const gh1 = matmul(rt, gqkv, w.inProj[0], { label: "d ln_1 out" }); // in_proj weight [3W, W]
  const gln1 = layerNormBackward(rt, x, gh1, w.ln1[0]);
  const gx = scaledSum(rt, [g1, gln1], [1, 1]);
  for (const t of [qkv, attn, gattn, gqkv, gh1, gln1, g1]) t.dispose();
  return gx;
}
