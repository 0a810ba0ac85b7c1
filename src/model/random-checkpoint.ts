/**
 * Small deterministic random CLIP and adapter checkpoints, made in memory as safetensors
 * bytes (OpenAI names), so the demo and tests run with no weights at hand. The numbers mean
 * nothing; the shapes and the arithmetic are those of the real model.
 */
import { encodeSafetensors, type WritableTensor } from "./safetensors.js";

export interface RandomClipShape {
  width: number;
  layers: number;
  embed: number;
  patch: number;
  /** native grid side g */
  grid: number;
  /** adapter levels */
  levels: number;
  /** A text tower too (OpenAI names; vocab 49408 fits the CLIP tokenizer); none by default. */
  text?: { width: number; layers: number; context?: number; vocab?: number };
}

function normal(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

export function randomCheckpoints(shape: RandomClipShape, seed = 0): { clip: Uint8Array; adapters: Uint8Array } {
  const r = normal(seed * 7919 + 17);
  const t = (dims: number[], std: number, mean = 0): WritableTensor => ({
    shape: dims,
    data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => mean + std * r()),
  });
  const { width: W, layers, embed: E, patch: P, grid: g } = shape;
  const clip: Record<string, WritableTensor> = {
    "visual.conv1.weight": t([W, 3, P, P], (3 * P * P) ** -0.5),
    "visual.class_embedding": t([W], 0.5),
    "visual.positional_embedding": t([1 + g * g, W], 0.5),
    "visual.ln_pre.weight": t([W], 0.1, 1),
    "visual.ln_pre.bias": t([W], 0.05),
  };
  const block = (p: string, w: number) => ({
    [`${p}ln_1.weight`]: t([w], 0.1, 1),
    [`${p}ln_1.bias`]: t([w], 0.05),
    [`${p}attn.in_proj_weight`]: t([3 * w, w], w ** -0.5),
    [`${p}attn.in_proj_bias`]: t([3 * w], 0.02),
    [`${p}attn.out_proj.weight`]: t([w, w], 0.5 * w ** -0.5),
    [`${p}attn.out_proj.bias`]: t([w], 0.02),
    [`${p}ln_2.weight`]: t([w], 0.1, 1),
    [`${p}ln_2.bias`]: t([w], 0.05),
    [`${p}mlp.c_fc.weight`]: t([4 * w, w], w ** -0.5),
    [`${p}mlp.c_fc.bias`]: t([4 * w], 0.02),
    [`${p}mlp.c_proj.weight`]: t([w, 4 * w], 0.5 * (4 * w) ** -0.5),
    [`${p}mlp.c_proj.bias`]: t([w], 0.02),
  });
  for (let i = 0; i < layers; i++) Object.assign(clip, block(`visual.transformer.resblocks.${i}.`, W));
  if (shape.text) {
    const { width: Wt, layers: tl, context = 77, vocab = 49408 } = shape.text;
    Object.assign(clip, {
      "token_embedding.weight": t([vocab, Wt], 0.02),
      positional_embedding: t([context, Wt], 0.01),
      "ln_final.weight": t([Wt], 0.1, 1),
      "ln_final.bias": t([Wt], 0.05),
      text_projection: t([Wt, E], Wt ** -0.5),
    });
    for (let i = 0; i < tl; i++) Object.assign(clip, block(`transformer.resblocks.${i}.`, Wt));
  }
  Object.assign(clip, {
    "visual.ln_post.weight": t([W], 0.1, 1),
    "visual.ln_post.bias": t([W], 0.05),
    "visual.proj": t([W, E], W ** -0.5),
  });
  const H = Math.floor(W / 16);
  const adapters: Record<string, WritableTensor> = {};
  for (const kind of ["seg", "det"]) {
    for (let j = 0; j < shape.levels; j++) {
      const p = `${kind}_adapters.${j}.`;
      Object.assign(adapters, {
        [`${p}fc1.0.weight`]: t([E, W], W ** -0.5),
        [`${p}fc2.0.weight`]: t([W, E], E ** -0.5),
        [`${p}channel_attention.fc.0.weight`]: t([H, W], W ** -0.5),
        [`${p}channel_attention.fc.2.weight`]: t([W, H], H ** -0.5),
        [`${p}spatial_attention.conv.weight`]: t([1, 2, 7], 0.5),
        [`${p}spatial_attention.conv.bias`]: t([1], 0.1),
        [`${p}frequency_attention.fc.0.weight`]: t([H, W], 0.3 / W),
        [`${p}frequency_attention.fc.2.weight`]: t([W, H], H ** -0.5),
      });
    }
  }
  return { clip: encodeSafetensors(clip, { note: "random weights (clipmpcad-gpu demo)" }), adapters: encodeSafetensors(adapters) };
}
