/**
 * Focal and dice losses of a segmentation map with their gradient (shaders/seg-loss.wgsl),
 * for adapter training (spec 9).
 */
import source from "../../shaders/seg-loss.wgsl";
import { ShapeError } from "../runtime/errors.js";
import type { KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt } from "./shape-checks.js";

export const segLossKernel: KernelDef = { name: "seg_loss", source, entryPoint: "seg_loss", offsets: { prob: "offProb", mask: "offMask", grad: "offGrad" } };

export interface SegLossOptions {
  /** The focal loss's smoothing (spec 9: 1e-5). */
  smooth?: number;
  /** Weights of the two terms in the gradient (both 1 in the reference). */
  focalWeight?: number;
  diceWeight?: number;
}

/**
 * prob [2, S, S] (class planes of the up-sampled softmax map) and mask [S, S] ->
 * loss [2] (focal, dice) and grad [2, S, S] of focalWeight * focal + diceWeight * dice.
 */
export function segLoss(rt: Runtime, prob: Tensor, mask: Tensor, o: SegLossOptions = {}): { loss: Tensor<"f32">; grad: Tensor<"f32"> } {
  const k = "seg_loss";
  expectF32(k, prob, "prob");
  expectF32(k, mask, "mask");
  if (prob.shape[0] !== 2 || prob.size !== 2 * mask.size) throw new ShapeError(`${k}: prob ${fmt(prob)} must be [2, ...mask's shape] for mask ${fmt(mask)}`);
  const loss = rt.empty([2], "f32", "focal, dice");
  const grad = rt.empty(prob.shape, "f32", "d loss / d prob");
  rt.dispatch(segLossKernel, {
    label: `${mask.size} pixels`,
    bindings: { prob, mask, loss, grad },
    params: { n: mask.size, smoothing: o.smooth ?? 1e-5, wFocal: o.focalWeight ?? 1, wDice: o.diceWeight ?? 1 },
    workgroups: [1],
  });
  return { loss, grad };
}
