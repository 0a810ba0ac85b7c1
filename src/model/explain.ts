/**
 * Why a map is hot where it is: for the hottest pixel, the patch under it, each level's
 * share of the map there (zero-shot class-1 probability and few-shot distance), and for each
 * level the nearest patch of the memory bank (which shot, which augmentation, where). Only
 * [1, N_mem] similarities of one patch are computed; no N_mem x N_patch matrix.
 */
import { zeroShotLogits } from "../kernels/heads.js";
import { matmul } from "../kernels/matmul.js";
import { rowNormalize } from "../kernels/reduce.js";
import type { Tensor } from "../runtime/tensor.js";
import type { MemoryBank } from "./clipmpcad-model.js";

/** The support augmentations in bank order (spec 7). */
export const AUGMENTATION_NAMES = [
  "original",
  "rotated -22.5 deg",
  "rotated -11.25 deg",
  "rotated 11.25 deg",
  "rotated 22.5 deg",
  "shifted (0.1, 0.1)",
  "shifted (-0.1, 0.1)",
  "shifted (-0.1, -0.1)",
  "shifted (0.1, -0.1)",
  "flipped left-right",
  "flipped top-bottom",
] as const;

export interface NearestPatch {
  /** Index of the support image (order given to fit). */
  shot: number;
  augmentation: (typeof AUGMENTATION_NAMES)[number];
  /** Patch row and column in the grid of the augmented shot; null for its class token. */
  row: number | null;
  col: number | null;
  /** Cosine similarity to the query patch (the few-shot distance is 1 - this). */
  similarity: number;
}

export interface LevelExplanation {
  /** The transformer block after which this adapter level sits. */
  level: number;
  /** 1 - max cosine similarity to the bank: this level's term of the few-shot map. */
  fewShot: number;
  /** Class-1 softmax of the zero-shot logits: this level's term of the zero-shot map (null without text features). */
  zeroShot: number | null;
  /** This level's share of the combined map at the patch: 0.5 zeroShot + 0.5 fewShot, or fewShot alone. */
  contribution: number;
  nearest: NearestPatch;
}

export interface Explanation {
  /** The hottest pixel of the combined map and its value. */
  x: number;
  y: number;
  value: number;
  /** The grid node of the patch tokens nearest to it (bilinear, align_corners: its centre maps onto the pixel grid). */
  patch: { row: number; col: number };
  levels: LevelExplanation[];
  /** The level with the largest contribution. */
  drivingLevel: number;
}

export interface ExplainInput {
  /** The image's seg tokens per level, [T, E] each (class token first). */
  seg: Tensor[];
  /** The combined S x S map whose hottest pixel is explained. */
  map: Float32Array;
  size: number;
  levels: readonly number[];
  textFeatures: Tensor | null;
  memory: MemoryBank;
}

export async function explainHotspot(o: ExplainInput): Promise<Explanation> {
  const S = o.size;
  let hot = 0;
  for (let i = 1; i < o.map.length; i++) if (o.map[i] > o.map[hot]) hot = i;
  const [x, y] = [hot % S, Math.floor(hot / S)];
  const [T, E] = o.seg[0].shape;
  const G = Math.round(Math.sqrt(T - 1));
  const toNode = (v: number) => (S > 1 ? Math.round((v * (G - 1)) / (S - 1)) : 0);
  const patch = { row: toNode(y), col: toNode(x) };
  const p = patch.row * G + patch.col;
  const rt = o.seg[0].runtime;
  const levels: LevelExplanation[] = [];
  for (let j = 0; j < o.levels.length; j++) {
    const token = o.seg[j].view([1, E], (1 + p) * E);
    const unit = rowNormalize(rt, token, { eps: 1e-8 });
    const sims = matmul(rt, unit, o.memory.seg[j], { transB: true, label: "explain similarities" }); // [1, N_mem]
    let zeroShot: number | null = null;
    if (o.textFeatures) {
      const logits = zeroShotLogits(rt, token, o.textFeatures);
      const [l0, l1] = await logits.read();
      zeroShot = 1 / (1 + Math.exp(l0 - l1));
      logits.dispose();
    }
    const s = await sims.read();
    for (const t of [token, unit, sims]) t.dispose();
    let best = 0;
    for (let i = 1; i < s.length; i++) if (s[i] > s[best]) best = i;
    const perShot = o.memory.views * T;
    const tok = best % T;
    const fewShot = 1 - s[best];
    levels.push({
      level: o.levels[j],
      fewShot,
      zeroShot,
      contribution: zeroShot === null ? fewShot : 0.5 * zeroShot + 0.5 * fewShot,
      nearest: {
        shot: Math.floor(best / perShot),
        augmentation: AUGMENTATION_NAMES[o.memory.views === 1 ? 0 : Math.floor((best % perShot) / T)],
        row: tok === 0 ? null : Math.floor((tok - 1) / G),
        col: tok === 0 ? null : (tok - 1) % G,
        similarity: s[best],
      },
    });
  }
  const driving = levels.reduce((a, b) => (b.contribution > a.contribution ? b : a));
  return { x, y, value: o.map[hot], patch, levels, drivingLevel: driving.level };
}
