/**
 * The CLIP vision tower with MADFF adapter pairs after the blocks in `levels` (spec 5).
 * Images [B, 3, S, S] -> per level the seg and det mid tokens [B, T, E] (class token first)
 * and the pooled embedding. Token-wise adapters and per-image attention keep a batch
 * exactly what its images get alone (spec 5.3).
 */
import { gatherRows } from "../kernels/gather.js";
import { layerNorm } from "../kernels/layernorm.js";
import type { MadffPairWeights } from "../kernels/madff.js";
import { madffPair } from "../kernels/madff.js";
import { matmul } from "../kernels/matmul.js";
import { patchEmbed } from "../kernels/patch-embed.js";
import { resizePositionalEmbedding } from "../image/bicubic-aa.js";
import { ShapeError } from "../runtime/errors.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import type { ClipConfig, VisionWeights } from "./clip-weights.js";
import { transformerBlock, type ClipActivation } from "./transformer-block.js";

export interface VisionOutput {
  /** Per level: [B, T, E] seg and det adapter mid tokens. */
  seg: Tensor<"f32">[];
  det: Tensor<"f32">[];
  /** [B, E]: ln_post(class token) @ proj; absent unless asked for. */
  pooled?: Tensor<"f32">;
}

export class VisionTower {
  readonly grid: number;
  readonly tokens: number;
  private readonly positional: Tensor;

  constructor(
    private readonly rt: Runtime,
    readonly config: ClipConfig,
    /** @internal read by training (adapter-training.ts) */
    readonly w: VisionWeights,
    /** @internal the adapter pairs per level; training updates them in place */
    readonly adapters: MadffPairWeights[],
    readonly levels: readonly number[],
    readonly imageSize: number,
    readonly activation: ClipActivation,
  ) {
    const { patch, width, layers } = config.vision;
    if (imageSize < patch) throw new ShapeError(`image size ${imageSize} is smaller than the patch size ${patch}`);
    if (levels.length !== adapters.length) throw new ShapeError(`${levels.length} levels [${levels.join(", ")}] but ${adapters.length} adapter pairs in the checkpoint`);
    for (const l of levels) {
      if (!Number.isInteger(l) || l < 1 || l > layers) throw new ShapeError(`level ${l} is outside the vision tower's layers 1..${layers}`);
    }
    if ([...levels].sort((a, b) => a - b).some((l, i) => l !== levels[i])) throw new ShapeError(`levels [${levels.join(", ")}] must increase`);
    this.grid = Math.floor((imageSize - patch) / patch) + 1;
    this.tokens = 1 + this.grid * this.grid;
    const pos = resizePositionalEmbedding(w.positional, width, this.grid);
    this.positional = rt.tensor(pos, [this.tokens, width], "f32", "positional embedding (resized)");
  }

  /** Patch embedding, class token, positional embedding and ln_pre: [B*T, W] token rows. */
  embed(images: Tensor): Tensor<"f32"> {
    const B = images.shape.length === 4 ? images.shape[0] : 1;
    const tokens = patchEmbed(this.rt, images.shape.length === 4 ? images : images.reshape([1, ...images.shape]), {
      conv: this.w.conv,
      classEmbedding: this.w.classEmbedding,
      positional: this.positional,
      lnWeight: this.w.lnPre[0],
      lnBias: this.w.lnPre[1],
    });
    return reshapeOwned(tokens, [B * this.tokens, this.config.vision.width]);
  }

  forward(images: Tensor, opts: { pooled?: boolean } = {}): VisionOutput {
    const rt = this.rt;
    const { heads, layers } = this.config.vision;
    const E = this.config.embed;
    const B = images.shape.length === 4 ? images.shape[0] : 1;
    const T = this.tokens;
    let x = this.embed(images);
    const seg: Tensor<"f32">[] = [];
    const det: Tensor<"f32">[] = [];
    const last = opts.pooled ? layers : Math.max(...this.levels);
    for (let i = 1; i <= last; i++) {
      transformerBlock(rt, x, this.w.blocks[i - 1], { batch: B, tokens: T, heads, activation: this.activation });
      const j = this.levels.indexOf(i);
      if (j >= 0) {
        const out = madffPair(rt, x, this.adapters[j]);
        x.dispose();
        x = out.x;
        seg.push(reshapeOwned(out.segMid, [B, T, E]));
        det.push(reshapeOwned(out.detMid, [B, T, E]));
      }
    }
    let pooled: Tensor<"f32"> | undefined;
    if (opts.pooled) {
      const idx = rt.tensor(Uint32Array.from({ length: B }, (_, b) => b * T), [B], "u32", "class rows");
      const cls = gatherRows(rt, x, idx, "class tokens");
      const n = layerNorm(rt, cls, this.w.lnPost[0], this.w.lnPost[1], { label: "ln_post" });
      pooled = matmul(rt, n, this.w.proj, { label: "pooled" });
      for (const t of [idx, cls, n]) t.dispose();
    }
    x.dispose();
    return { seg, det, pooled };
  }

  dispose(): void {
    this.positional.dispose();
  }
}

function reshapeOwned(t: Tensor<"f32">, shape: number[]): Tensor<"f32"> {
  const r = t.reshape(shape);
  t.dispose();
  return r;
}
