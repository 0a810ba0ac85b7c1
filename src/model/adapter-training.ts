/**
 * Few-shot adapter training (spec 9) on the GPU: per image, the loss of every level's heads
 * (det: BCE-with-logits of the mean class-1 zero-shot probability; segmentation adds focal +
 * dice of the up-sampled map), its gradient back through the adapters and the frozen ViT
 * blocks between them, and Adam on the adapter weights, which the model's vision tower uses
 * in place.
 *
 * Memory: the forward keeps only each block's input from the first level on and each
 * adapter pair's input ([T, W] each); the backward recomputes a block (and an adapter pair)
 * from its input just before differentiating it, so one block's intermediates exist at a
 * time. Weight gradients and Adam's two moments add three copies of the adapter weights.
 */
import { adamStep } from "../kernels/adam.js";
import { scaledSum } from "../kernels/elementwise.js";
import { disposeSaved, madffPair, PAIR_TENSORS, type MadffPairWeights } from "../kernels/madff.js";
import { madffBackward, type MadffPairGrads } from "../kernels/madff-backward.js";
import { ShapeError } from "../runtime/errors.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { transformerBlockBackward } from "./block-backward.js";
import { headGradient } from "./head-gradients.js";
import { transformerBlock } from "./transformer-block.js";
import type { VisionTower } from "./vision-tower.js";

/** segmentation: BCE + focal + dice per level (abnormal shots with masks); classification: BCE only. */
export type TrainTask = "segmentation" | "classification";

export interface AdamSettings {
  lr: number;
  betas: [number, number];
  eps: number;
}

/** The paper's optimiser (spec 9). */
export const DEFAULT_ADAM: AdamSettings = { lr: 1e-3, betas: [0.5, 0.999], eps: 1e-8 };


export class AdapterTrainer {
  /** Per level: the gradients of the last `gradients` call, shaped like the pair's weights. */
  readonly grads: MadffPairGrads[];
  private readonly m: MadffPairGrads[];
  private readonly v: MadffPairGrads[];
  /** Adam steps taken. */
  steps = 0;
  private disposed = false;

  constructor(
    private readonly rt: Runtime,
    private readonly tower: VisionTower,
    private readonly textFeatures: Tensor,
    readonly task: TrainTask = "segmentation",
    readonly adam: AdamSettings = DEFAULT_ADAM,
  ) {
    const like = (p: MadffPairWeights, what: string): MadffPairGrads =>
      Object.fromEntries(PAIR_TENSORS.map((k) => [k, rt.zeros(p[k].shape, `${what} ${p[k].label}`)])) as MadffPairGrads;
    this.grads = tower.adapters.map((p) => like(p, "grad"));
    this.m = tower.adapters.map((p) => like(p, "adam m"));
    this.v = tower.adapters.map((p) => like(p, "adam v"));
  }

  /**
   * Loss and gradients of one preprocessed image [3, S, S] with its mask [S, S] (all zero for a
   * normal image; unused by the classification task) and label (1 abnormal, 0 normal).
   * Leaves the gradients in `grads`; returns the loss as PyTorch sums it (f32, level by level).
   */
  async gradients(image: Tensor, mask: Tensor | null, label: number): Promise<number> {
    this.checkAlive();
    const rt = this.rt;
    const tower = this.tower;
    const { heads } = tower.config.vision;
    const levels = tower.levels;
    const first = levels[0];
    const last = levels[levels.length - 1];
    const seg = this.task === "segmentation";
    if (seg && !mask) throw new ShapeError("segmentation training needs a mask for every image (all zero for a normal one)");
    if (mask && mask.size !== tower.imageSize * tower.imageSize) {
      throw new ShapeError(`mask "${mask.label}" [${mask.shape.join(", ")}] must be [${tower.imageSize}, ${tower.imageSize}], the model's image size`);
    }
    const blockInputs = new Map<number, Tensor<"f32">>();
    const pairInputs: Tensor<"f32">[] = [];
    const gSeg: (Tensor<"f32"> | null)[] = [];
    const gDet: Tensor<"f32">[] = [];
    const losses: Tensor<"f32">[] = [];
    const keep = (x: Tensor<"f32">) => rt.clone(x, "kept activations");
    const block = { heads, activation: tower.activation };

    // forward, with each level's head losses and their gradients with respect to the mids
    let x = tower.embed(image);
    for (let i = 1; i <= last; i++) {
      if (i > first) blockInputs.set(i, keep(x));
      transformerBlock(rt, x, tower.w.blocks[i - 1], { batch: 1, tokens: tower.tokens, ...block });
      const j = levels.indexOf(i);
      if (j < 0) continue;
      pairInputs.push(keep(x));
      const out = madffPair(rt, x, tower.adapters[j]);
      x.dispose();
      x = out.x;
      const det = headGradient(rt, out.detMid, this.textFeatures, { kind: "det", label });
      losses.push(det.loss);
      gDet.push(det.dtokens);
      if (seg) {
        const s = headGradient(rt, out.segMid, this.textFeatures, { kind: "seg", mask: mask! });
        losses.push(s.loss);
        gSeg.push(s.dtokens);
      } else {
        gSeg.push(null);
      }
      out.segMid.dispose();
      out.detMid.dispose();
    }
    x.dispose();

    // backward: d loss / d x after the last level is zero (nothing reads it)
    let g: Tensor<"f32"> | null = null;
    for (let i = last; i >= first; i--) {
      const j = levels.indexOf(i);
      if (j >= 0) {
        const fwd = madffPair(rt, pairInputs[j], tower.adapters[j], { save: true });
        for (const t of [fwd.x, fwd.segMid, fwd.detMid]) t.dispose();
        const dxs = madffBackward(rt, fwd.saved!, tower.adapters[j], this.grads[j], 0, gSeg[j], g, 0.1);
        const dxd = madffBackward(rt, fwd.saved!, tower.adapters[j], this.grads[j], 1, gDet[j], g, 0.1);
        disposeSaved(fwd.saved!);
        const next: Tensor<"f32"> = g ? scaledSum(rt, [g, dxs, dxd], [0.8, 1, 1]) : scaledSum(rt, [dxs, dxd], [1, 1]);
        for (const t of [dxs, dxd, g, gSeg[j], gDet[j], pairInputs[j]]) t?.dispose();
        g = next;
      }
      if (i === first) break;
      const input = blockInputs.get(i)!;
      const gx = transformerBlockBackward(rt, input, g!, tower.w.blocks[i - 1], block);
      input.dispose();
      g!.dispose();
      g = gx;
    }
    g?.dispose();

    // the loss, summed in f32 in the reference's order (bce, focal, dice per level)
    let total = 0;
    for (const l of losses) {
      for (const v of await l.read()) total = Math.fround(total + v);
      l.dispose();
    }
    return total;
  }

  /** One Adam step of every adapter weight from the current gradients. */
  applyGradients(): void {
    this.checkAlive();
    this.steps++;
    const o = { lr: this.adam.lr, betas: this.adam.betas, eps: this.adam.eps, step: this.steps };
    this.tower.adapters.forEach((p, j) => {
      for (const k of PAIR_TENSORS) adamStep(this.rt, p[k], this.grads[j][k], this.m[j][k], this.v[j][k], o);
    });
  }

  /** gradients + applyGradients; returns the loss. */
  async step(image: Tensor, mask: Tensor | null, label: number): Promise<number> {
    const loss = await this.gradients(image, mask, label);
    this.applyGradients();
    return loss;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const set of [this.grads, this.m, this.v]) for (const g of set) for (const k of PAIR_TENSORS) g[k].dispose();
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error("this AdapterTrainer was disposed");
  }
}
