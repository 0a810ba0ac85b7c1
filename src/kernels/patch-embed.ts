/**
 * The ViT stem (spec 5): conv1 as patch projection (stride = kernel = P, no padding, no
 * bias), class token, positional embedding and ln_pre, for [C, S, S] or [B, C, S, S] images.
 * The projection is the matmul kernel with A read as image patches in place (A_IM2COL), so
 * no im2col buffer exists; its epilogue adds the positional rows and writes token rows 1..;
 * the class row is class_embedding + pos[0]; ln_pre follows.
 */
import { ShapeError } from "../runtime/errors.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { add } from "./elementwise.js";
import { layerNorm } from "./layernorm.js";
import { recordGemm } from "./matmul.js";
import { expectF32, fmt } from "./shape-checks.js";

export interface PatchEmbedWeights {
  /** conv1.weight [W, C, P, P] */
  conv: Tensor;
  /** class_embedding [W] */
  classEmbedding: Tensor;
  /** positional_embedding, already resized to this grid: [1 + G*G, W] */
  positional: Tensor;
  /** ln_pre weight and bias [W] */
  lnWeight: Tensor;
  lnBias: Tensor;
}

/** Tokens [B, 1 + G*G, W] (or [1 + G*G, W] for one image) after ln_pre. */
export function patchEmbed(rt: Runtime, images: Tensor, w: PatchEmbedWeights): Tensor<"f32"> {
  const k = "patch_embed";
  expectF32(k, images, "images");
  if (images.shape.length !== 3 && images.shape.length !== 4) throw new ShapeError(`${k}: images ${fmt(images)} must be [C, S, S] or [B, C, S, S]`);
  const [C, S, S2] = images.shape.slice(-3);
  const B = images.shape.length === 4 ? images.shape[0] : 1;
  if (S !== S2) throw new ShapeError(`${k}: images ${fmt(images)} must be square`);
  if (w.conv.shape.length !== 4 || w.conv.shape[1] !== C || w.conv.shape[2] !== w.conv.shape[3]) {
    throw new ShapeError(`${k}: conv1 ${fmt(w.conv)} must be [W, ${C}, P, P] for ${C}-channel images`);
  }
  const [W, , P] = w.conv.shape;
  if (S < P) throw new ShapeError(`${k}: image side ${S} is smaller than the patch ${P}`);
  const G = Math.floor((S - P) / P) + 1;
  const T = 1 + G * G;
  if (w.positional.shape.length !== 2 || w.positional.shape[0] !== T || w.positional.shape[1] !== W) {
    throw new ShapeError(`${k}: positional embedding ${fmt(w.positional)} must be [${T}, ${W}] for a ${G}x${G} grid (resize it for image size ${S})`);
  }
  if (w.classEmbedding.size !== W) throw new ShapeError(`${k}: class embedding ${fmt(w.classEmbedding)} must have ${W} elements`);
  const tokens = rt.empty([B, T, W], "f32", "tokens");
  const rows = tokens.view([G * G, W], W); // rows 1.. of image 0; the batch stride reaches the rest
  const posRows = w.positional.view([G * G, W], W);
  const convFlat = w.conv.view([W, C * P * P]);
  recordGemm(rt, {
    a: images,
    b: convFlat,
    M: G * G,
    N: W,
    K: C * P * P,
    batch: B,
    strides: { a: C * S * S, b: 0, out: T * W, other: 0 },
    out: rows,
    opts: { transB: true, residual: posRows },
    im2col: { imgSide: S, patch: P, grid: G },
    label: `${B > 1 ? `${B}x` : ""}${C}x${S}x${S} P${P} -> ${G * G}x${W}`,
  });
  const pos0 = w.positional.view([W]);
  for (let b = 0; b < B; b++) {
    const cls = tokens.view([W], b * T * W);
    add(rt, w.classEmbedding, pos0, cls);
    cls.dispose();
  }
  for (const t of [rows, posRows, convFlat, pos0]) t.dispose();
  const out = layerNorm(rt, tokens, w.lnWeight, w.lnBias, { label: "ln_pre" });
  tokens.dispose();
  return images.shape.length === 4 ? out : reshapeOwned(out, [T, W]);
}

function reshapeOwned(t: Tensor<"f32">, shape: number[]): Tensor<"f32"> {
  const r = t.reshape(shape);
  t.dispose();
  return r;
}
