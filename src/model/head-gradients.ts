/**
 * Training (spec 9): one level's zero-shot loss terms and their gradient with respect to that
 * level's adapter tokens, from the kernels' backward pieces:
 *   det: BCE-with-logits(mean_p softmax(100 normalize(p) @ tf)[1], label)
 *   seg: focal + dice of softmax(up(100 normalize(p) @ tf)) against the mask
 * The class token's gradient is zero (no head reads it). The rest of the backward pass
 * (adapters, blocks) consumes dtokens.
 */
import { upMap, upMapBackward, zeroShotLogits, ZERO_SHOT_SCALE } from "../kernels/heads.js";
import { matmul } from "../kernels/matmul.js";
import { transpose } from "../kernels/permute.js";
import { rowNormalizeBackward } from "../kernels/backward.js";
import { segLoss } from "../kernels/seg-loss.js";
import { detBceBackward, softmax2, softmax2Backward } from "../kernels/zero-shot-backward.js";
import { ShapeError } from "../runtime/errors.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";

export interface HeadGradient {
  /** [1] for det (BCE), [2] for seg (focal, dice). */
  loss: Tensor<"f32">;
  /** d loss / d tokens, [T, E], row 0 (class token) zero. */
  dtokens: Tensor<"f32">;
}

/**
 * tokens [T, E] of one level (class token first), textFeatures [E, 2]; det with `label`,
 * seg with `mask` [S, S] (the map size S is the mask's).
 */
export function headGradient(rt: Runtime, tokens: Tensor, textFeatures: Tensor, o: { kind: "det"; label: number } | { kind: "seg"; mask: Tensor }): HeadGradient {
  const [T, E] = tokens.shape;
  const P = T - 1;
  const G = Math.round(Math.sqrt(P));
  if (tokens.shape.length !== 2 || G * G !== P) throw new ShapeError(`head gradient: tokens ${tokens.label} [${tokens.shape.join(", ")}] must be [1 + G*G, E]`);
  const patches = tokens.view([P, E], E);
  const logits = zeroShotLogits(rt, patches, textFeatures); // [P, 2]
  let loss: Tensor<"f32">;
  let dlogits: Tensor<"f32">;
  if (o.kind === "det") {
    ({ loss, dlogits } = detBceBackward(rt, logits, o.label));
  } else {
    const S = o.mask.shape[o.mask.shape.length - 1];
    if (o.mask.size !== S * S) throw new ShapeError(`head gradient: mask ${o.mask.label} [${o.mask.shape.join(", ")}] must be [S, S]`);
    const planar = transpose(rt, logits, "logit planes"); // [2, P]
    const z = rt.empty([2, S, S], "f32", "up logits");
    for (let c = 0; c < 2; c++) {
      const src = planar.view([P], c * P);
      const dst = z.view([S, S], c * S * S);
      upMap(rt, src, { size: S, out: dst });
      src.dispose();
      dst.dispose();
    }
    const prob = softmax2(rt, z);
    const seg = segLoss(rt, prob, o.mask);
    const dz = softmax2Backward(rt, z, seg.grad);
    dlogits = upMapBackward(rt, dz, G); // [P, 2]
    loss = seg.loss;
    for (const t of [planar, z, prob, seg.grad, dz]) t.dispose();
  }
  const dn = matmul(rt, dlogits, textFeatures, { transB: true, alpha: ZERO_SHOT_SCALE, label: "d normalized patches" }); // [P, E]
  const dtokens = rt.tensor(new Float32Array(T * E), [T, E], "f32", "d tokens");
  const dst = dtokens.view([P, E], E);
  rowNormalizeBackward(rt, patches, dn, { eps: 1e-12, out: dst });
  for (const t of [patches, logits, dlogits, dn, dst]) t.dispose();
  return { loss, dtokens };
}
