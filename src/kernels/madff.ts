/**
 * The MADFF adapter pair (spec 5.1) after a ViT block, as a short fused sequence:
 *   hc = relu(x fc_c0^T), ca = x * sigmoid(2 hc fc_c2^T)      (both adapters: one batched GEMM each)
 *   sa = ca * sigmoid(w0 mean(ca) + w1 max(ca) + b)           (one row kernel for both)
 *   hf = relu(|DFT(x)| fc_f0^T), fa = x * sigmoid(hf fc_f2^T)  (the FFT once, shared)
 *   f1 = leaky([x; ca; sa; fa] fc1^T)                         (one stacked GEMM for both)
 *   mid = 0.4 f1(x) + 0.2 f1(ca) + 0.2 f1(sa) + 0.2 f1(fa)
 *   out = 0.3 leaky(mid fc2^T) + 0.2 ca + 0.2 sa + 0.3 fa     (the sum is the GEMM's residual)
 *   x'  = 0.8 x + 0.1 out_seg + 0.1 out_det
 * x may hold any number of tokens (a batch of images is just more rows: the adapter acts on
 * each token alone). Weights are the seg and det adapters stacked on a leading axis of 2.
 */
import activations from "../../shaders/common/activations.wgsl";
import reduce from "../../shaders/common/workgroup-reduce.wgsl";
import blockSumSource from "../../shaders/block-sum.wgsl";
import madffSource from "../../shaders/madff.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { scaledSum } from "./elementwise.js";
import { fftMagnitude } from "./fft.js";
import { linear } from "./matmul.js";
import { expectShape, rowLayout } from "./shape-checks.js";

export const spatialGateKernel: KernelDef = { name: "spatial_gate", source: wgsl(activations, reduce, madffSource), entryPoint: "spatial_gate" };
export const blockSumKernel: KernelDef = { name: "block_sum", source: blockSumSource, offsets: { src: "offSrc", out: "offOut" } };

/** The GPU tensors of a pair, in checkpoint order. */
export const PAIR_TENSORS = ["fc1", "fc2", "channel0", "channel2", "frequency0", "frequency2", "spatial"] as const;
export type PairTensorKey = (typeof PAIR_TENSORS)[number];

/** The seg (item 0) and det (item 1) adapters of one level, stacked. H = floor(W / 16). */
export interface MadffPairWeights {
  /** fc1.0.weight of both: [2, E, W] */
  fc1: Tensor;
  /** fc2.0.weight of both: [2, W, E] */
  fc2: Tensor;
  /** channel_attention.fc.0.weight: [2, H, W] */
  channel0: Tensor;
  /** channel_attention.fc.2.weight: [2, W, H] */
  channel2: Tensor;
  /** frequency_attention.fc.0.weight: [2, H, W] */
  frequency0: Tensor;
  /** frequency_attention.fc.2.weight: [2, W, H] */
  frequency2: Tensor;
  /** spatial gate (conv.weight[0,0,3], conv.weight[0,1,3], conv.bias[0]) of both: [2, 3] */
  spatial: Tensor;
  /**
   * The full 7-tap conv weights [2, 1, 2, 7] as loaded (CPU), so a saved checkpoint keeps the
   * taps that never meet data; absent for weights not read from a checkpoint.
   */
  spatialConv?: Float32Array;
}

/**
 * What the backward pass (madff-backward.ts) needs of a forward, all [2, ...] stacks of the
 * seg (0) and det (1) adapters, post-activation (relu and leaky_relu derivatives read the
 * sign of their output; the sigmoid gates' from the gate value itself).
 */
export interface MadffPairSaved {
  /** [2, 4R, W]: x, ca, sa, fa per adapter. */
  stack: Tensor<"f32">;
  /** [2, R, H]: relu(x fc_c0^T) and relu(|DFT(x)| fc_f0^T). */
  hc: Tensor<"f32">;
  hf: Tensor<"f32">;
  /** [2, R, W]: the channel gate sigmoid(2 hc fc_c2^T) and the frequency gate sigmoid(hf fc_f2^T). */
  gc: Tensor<"f32">;
  gf: Tensor<"f32">;
  /** [R, W]: |DFT(x)|, shared. */
  mag: Tensor<"f32">;
  /** [2, 4R, E]: leaky(stack fc1^T). */
  f1: Tensor<"f32">;
  /** [2, R, E]: the mid tokens (also returned as segMid/detMid). */
  mid: Tensor<"f32">;
  /** [2, R, W]: leaky(mid fc2^T), before the 0.3. */
  o2: Tensor<"f32">;
}

export function disposeSaved(s: MadffPairSaved): void {
  for (const t of [s.stack, s.hc, s.hf, s.gc, s.gf, s.mag, s.f1, s.mid, s.o2]) t.dispose();
}

export interface MadffPairOutput {
  /** [R, E]: the seg adapter's mid tokens (views into one [2, R, E] tensor: dispose both). */
  segMid: Tensor<"f32">;
  detMid: Tensor<"f32">;
  /** [R, W]: 0.8 x + 0.1 seg out + 0.1 det out. */
  x: Tensor<"f32">;
  /** With { save: true }: the intermediates of the backward pass (dispose with disposeSaved). */
  saved?: MadffPairSaved;
}

const MAX_WORKGROUPS = 4096;

function blockSum(
  rt: Runtime,
  src: Tensor,
  out: Tensor<"f32">,
  o: { n: number; items: number; srcStride: number; outStride: number; first: number; weights: number[] },
): void {
  const w = [...o.weights, 0, 0, 0, 0];
  rt.dispatch(blockSumKernel, {
    label: `${o.items}x${o.weights.length}x${o.n}`,
    bindings: { src, out },
    params: { n: o.n, items: o.items, srcStride: o.srcStride, outStride: o.outStride, first: o.first, blocks: o.weights.length, w0: w[0], w1: w[1], w2: w[2], w3: w[3] },
    workgroups: [Math.min(MAX_WORKGROUPS, Math.ceil((o.n * o.items) / 256))],
  });
}

export function madffPair(rt: Runtime, x: Tensor, w: MadffPairWeights, opts: { save?: boolean } = {}): MadffPairOutput {
  const k = "madff";
  if (x.shape.length !== 2) throw new ShapeError(`${k}: x "${x.label}" [${x.shape.join(", ")}] must be [tokens, W]`);
  const [R, W] = x.shape;
  const E = w.fc1.shape[1];
  const H = w.channel0.shape[1];
  expectShape(k, w.fc1, [2, E, W], "fc1 (seg, det)");
  expectShape(k, w.fc2, [2, W, E], "fc2 (seg, det)");
  expectShape(k, w.channel0, [2, H, W], "channel_attention.fc.0 (seg, det)");
  expectShape(k, w.channel2, [2, W, H], "channel_attention.fc.2 (seg, det)");
  expectShape(k, w.frequency0, [2, H, W], "frequency_attention.fc.0 (seg, det)");
  expectShape(k, w.frequency2, [2, W, H], "frequency_attention.fc.2 (seg, det)");
  expectShape(k, w.spatial, [2, 3], "spatial gate (seg, det)");
  const n = R * W;

  // stack[a] = [x; ca; sa; fa] for adapter a
  const stack = rt.empty([2, 4 * R, W], "f32", "madff stack");
  blockSum(rt, x, stack, { n, items: 2, srcStride: 0, outStride: 4 * n, first: 0, weights: [1] });
  const hc = linear(rt, x, w.channel0, { activation: "relu", label: "madff hc" });
  const ca = stack.view([R, W], n); // block 1 of item 0; the batch stride reaches item 1
  linear(rt, hc, w.channel2, { activation: "sigmoid", preScale: 2, gate: x, out: ca, batchStrides: { out: 4 * n } });
  // the gate values again, unfused (one more small GEMM each), for the backward pass
  const gc = opts.save ? linear(rt, hc, w.channel2, { activation: "sigmoid", preScale: 2, label: "madff channel gate" }) : null;
  rt.dispatch(spatialGateKernel, {
    label: `2x${R}x${W}`,
    bindings: { stack, gates: w.spatial },
    params: { rows: R, cols: W, itemStride: 4 * n, srcOff: n, dstOff: 2 * n },
    ...rowLayout(rt, 2 * R, W),
  });
  const mag = fftMagnitude(rt, x, { label: "madff |dft|" });
  const hf = linear(rt, mag, w.frequency0, { activation: "relu", label: "madff hf" });
  const fa = stack.view([R, W], 3 * n);
  linear(rt, hf, w.frequency2, { activation: "sigmoid", gate: x, out: fa, batchStrides: { out: 4 * n } });
  const gf = opts.save ? linear(rt, hf, w.frequency2, { activation: "sigmoid", label: "madff frequency gate" }) : null;

  const f1 = linear(rt, stack, w.fc1, { activation: "leakyRelu", label: "madff f1" }); // [2, 4R, E]
  const mid = rt.empty([2, R, E], "f32", "madff mid");
  blockSum(rt, f1, mid, { n: R * E, items: 2, srcStride: 4 * R * E, outStride: R * E, first: 0, weights: [0.4, 0.2, 0.2, 0.2] });
  const outs = rt.empty([2, R, W], "f32", "madff out");
  blockSum(rt, stack, outs, { n, items: 2, srcStride: 4 * n, outStride: n, first: 1, weights: [0.2, 0.2, 0.3] });
  linear(rt, mid, w.fc2, { activation: "leakyRelu", alpha: 0.3, residual: outs, out: outs });
  for (const t of [ca, fa]) t.dispose();
  let saved: MadffPairSaved | undefined;
  if (opts.save) {
    const o2 = linear(rt, mid, w.fc2, { activation: "leakyRelu", label: "madff fc2 out" });
    const midKept = mid.reshape(mid.shape);
    saved = { stack, hc, hf, gc: gc!, gf: gf!, mag, f1, mid: midKept, o2 };
  } else {
    for (const t of [stack, hc, hf, mag, f1]) t.dispose();
  }
  const seg = outs.at(0);
  const det = outs.at(1);
  const xNew = scaledSum(rt, [x, seg, det], [0.8, 0.1, 0.1]);
  for (const t of [seg, det, outs]) t.dispose();
  const segMid = mid.at(0);
  const detMid = mid.at(1);
  mid.dispose();
  return saved ? { segMid, detMid, x: xNew, saved } : { segMid, detMid, x: xNew };
}
