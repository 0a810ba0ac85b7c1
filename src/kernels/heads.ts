/**
 * M-Decoder heads (spec 6) for one level of one image:
 *   zeroShotLogits: 100 * normalize(patch tokens) @ text_features      -> [G*G, 2]
 *   upMap:          a G x G map (or zero-shot logits, softmax class 1) -> S x S, accumulated
 *   softmaxMean:    mean over patches of softmax(logits)[1]            -> a scalar, accumulated
 * The few-shot maps come from nearest.ts; callers sum levels by accumulating into one output.
 */
import bilinear from "../../shaders/common/bilinear.wgsl";
import reduce from "../../shaders/common/workgroup-reduce.wgsl";
import source from "../../shaders/heads.wgsl";
import backwardSource from "../../shaders/up-map-backward.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { matmul } from "./matmul.js";
import { rowNormalize } from "./reduce.js";
import { expectF32, fmt } from "./shape-checks.js";

const src = wgsl(bilinear, reduce, source);
const offsets = { values: "offIn", out: "offOut" };
export const upMapKernel: KernelDef = { name: "up_map", source: src, entryPoint: "up_map", offsets };
export const softmaxMeanKernel: KernelDef = { name: "softmax_mean", source: src, entryPoint: "softmax_mean", offsets };

/** Logit scale of the zero-shot head. */
export const ZERO_SHOT_SCALE = 100;

/**
 * 100 * normalize(patches) @ textFeatures: patches [P, E] (the class token already left out:
 * pass tokens.view([P, E], E)), textFeatures [E, 2] (normal, abnormal) -> [P, 2].
 */
export function zeroShotLogits(rt: Runtime, patches: Tensor, textFeatures: Tensor): Tensor<"f32"> {
  const k = "zero_shot";
  expectF32(k, patches, "patches");
  const E = patches.shape[patches.shape.length - 1];
  if (textFeatures.shape.length !== 2 || textFeatures.shape[0] !== E || textFeatures.shape[1] !== 2) {
    throw new ShapeError(`${k}: text features ${fmt(textFeatures)} must be [${E}, 2] for patches ${fmt(patches)}`);
  }
  const normalized = rowNormalize(rt, patches, { eps: 1e-12, label: "normalized patches" });
  const logits = matmul(rt, normalized.reshape([patches.size / E, E]), textFeatures, { alpha: ZERO_SHOT_SCALE, label: "zero-shot logits" });
  normalized.dispose();
  return logits;
}

export interface UpMapOptions {
  /** S, the side of the output map. */
  size: number;
  /** The input is [G*G, 2] zero-shot logits: take the class-1 softmax after resizing. */
  softmaxClass1?: boolean;
  /** Add to `out` instead of overwriting it (summing levels). */
  accumulate?: boolean;
  out?: Tensor<"f32">;
}

/** A G x G map ([G*G] values, or [G*G, 2] logits) up to S x S, bilinear, align_corners = true. */
export function upMap(rt: Runtime, values: Tensor, opts: UpMapOptions): Tensor<"f32"> {
  const k = "up_map";
  expectF32(k, values, "values");
  const perCell = opts.softmaxClass1 ? 2 : 1;
  const cells = values.size / perCell;
  const G = Math.round(Math.sqrt(cells));
  if (G * G !== cells || G < 1) throw new ShapeError(`${k}: values ${fmt(values)} do not form a square map${opts.softmaxClass1 ? " of 2-class logits" : ""}`);
  const S = opts.size;
  if (opts.accumulate && !opts.out) throw new ShapeError(`${k}: accumulate needs an out map to add to`);
  const out = opts.out ?? rt.empty([S, S], "f32", "map");
  if (out.size !== S * S) throw new ShapeError(`${k}: out ${fmt(out)} must be [${S}, ${S}]`);
  rt.dispatch(upMapKernel, {
    label: `${G}x${G}->${S}x${S}${opts.softmaxClass1 ? " softmax" : ""}`,
    bindings: { values, out },
    params: { G, S, scale: S > 1 ? Math.fround((G - 1) / (S - 1)) : 0, patches: cells },
    constants: { MODE: opts.softmaxClass1 ? 1 : 0, ACCUMULATE: opts.accumulate ? 1 : 0 },
    workgroups: [Math.max(1, Math.min(4096, Math.ceil((S * S) / 256)))],
  });
  return out;
}

/** Mean over patches of softmax(logits)[1], logits [P, 2] -> out [1] (or added to it). */
export function softmaxMean(rt: Runtime, logits: Tensor, opts: { accumulate?: boolean; out?: Tensor<"f32"> } = {}): Tensor<"f32"> {
  const k = "softmax_mean";
  expectF32(k, logits, "logits");
  if (logits.shape[logits.shape.length - 1] !== 2) throw new ShapeError(`${k}: logits ${fmt(logits)} must be [P, 2]`);
  if (opts.accumulate && !opts.out) throw new ShapeError(`${k}: accumulate needs an out to add to`);
  const out = opts.out ?? rt.empty([1], "f32", "score");
  rt.dispatch(softmaxMeanKernel, {
    label: `${logits.size / 2}`,
    bindings: { values: logits, out },
    params: { G: 0, S: 0, scale: 0, patches: logits.size / 2 },
    constants: { ACCUMULATE: opts.accumulate ? 1 : 0 },
    workgroups: [1],
  });
  return out;
}

export const upMapBackwardKernel: KernelDef = { name: "up_map_backward", source: wgsl(bilinear, backwardSource), entryPoint: "up_map_backward", offsets: { dmap: "offIn", dvalues: "offOut" } };

/**
 * Training: the gradient of upMap's resize. dmap [C, S, S] (C = 1 for a value map, 2 for
 * zero-shot logits, before the softmax) -> the gradient of the G x G input in upMap's
 * layout ([G*G] or [G*G, 2]).
 */
export function upMapBackward(rt: Runtime, dmap: Tensor, G: number): Tensor<"f32"> {
  const k = "up_map_backward";
  expectF32(k, dmap, "dmap");
  const S = dmap.shape[dmap.shape.length - 1];
  const C = dmap.size / (S * S);
  if (!Number.isInteger(C) || C < 1 || dmap.shape[dmap.shape.length - 2] !== S) throw new ShapeError(`${k}: dmap ${fmt(dmap)} must be [C, S, S]`);
  if (!Number.isInteger(G) || G < 1) throw new ShapeError(`${k}: G must be a positive integer, not ${G}`);
  const out = rt.empty(C === 1 ? [G * G] : [G * G, C], "f32", "d values");
  rt.dispatch(upMapBackwardKernel, {
    label: `${S}x${S}->${G}x${G}x${C}`,
    bindings: { dmap, dvalues: out },
    params: { G, S, C, scale: S > 1 ? Math.fround((G - 1) / (S - 1)) : 0 },
    workgroups: [Math.ceil((G * G * C) / 64)],
  });
  return out;
}
