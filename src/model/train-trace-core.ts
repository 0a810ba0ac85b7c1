/**
 * The train-trace (issue contract, spec 9): K Adam steps of the adapters, batch 1, no
 * shuffling, no augmentation, images in the order abnormal..., normal..., cycling. Writes
 * step.{s}.loss [1], and per adapter parameter under its checkpoint name step.{s}.grad.{name}
 * (before the step) and step.{s}.param.{name} (after it). Browser-safe: takes opened weights
 * and decoded pixels (train-trace.ts reads files on Node).
 */
import { maskFromPixels } from "../image/mask.js";
import { NORMALIZATIONS } from "../kernels/pil-resize.js";
import type { Runtime } from "../runtime/runtime.js";
import { adapterCheckpoint } from "./adapter-weights.js";
import type { TrainTask } from "./adapter-training.js";
import { ClipMPCADModel } from "./clipmpcad-model.js";
import type { WritableTensor } from "./safetensors.js";
import { pixelsToTensor, type TraceModelInputs, type TracePixels } from "./trace-core.js";

export interface TrainTraceInputs extends TraceModelInputs {
  task?: TrainTask;
  abnormal: { image: TracePixels; mask: TracePixels }[];
  normal: TracePixels[];
  steps: number;
}

export async function trainTraceModel(rt: Runtime, o: TrainTraceInputs): Promise<Record<string, WritableTensor>> {
  const say = o.onProgress ?? (() => {});
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error(`steps must be a positive whole number, not ${o.steps}`);
  if (o.abnormal.length + o.normal.length === 0) throw new Error("train-trace needs at least one --abnormal IMAGE:MASK or --normal IMAGE");
  say("loading weights");
  const model = await ClipMPCADModel.load(rt, { clip: o.clip, adapters: o.adapters, imageSize: o.imageSize, levels: o.levels });
  const S = model.imageSize;
  const norm = NORMALIZATIONS[o.normalize ?? "none"];
  const samples = [
    ...o.abnormal.map((a) => ({ pixels: a.image, mask: maskFromPixels(a.mask, S), label: 1 })),
    ...o.normal.map((pixels) => ({ pixels, mask: new Uint8Array(S * S), label: 0 })),
  ];
  const out: Record<string, WritableTensor> = {};
  try {
    say("text features");
    const tf = await model.textFeatures(o.tokenizer, o.className);
    const trainer = model.trainer(tf, o.task ?? "segmentation");
    try {
      for (let s = 0; s < o.steps; s++) {
        const sample = samples[s % samples.length];
        say(`step ${s + 1} of ${o.steps}`);
        const img = pixelsToTensor(rt, [sample.pixels], S, norm, "train image");
        const mask = rt.tensor(Float32Array.from(sample.mask), [S, S], "f32", "mask");
        const chw = img.reshape([3, S, S]);
        const loss = await trainer.gradients(chw, mask, sample.label);
        for (const t of [chw, img]) t.dispose();
        mask.dispose();
        out[`step.${s}.loss`] = { shape: [1], data: Float32Array.of(loss) };
        const grads = await adapterCheckpoint(model.vision.adapters, trainer.grads, { gradient: true });
        for (const [name, t] of Object.entries(grads)) out[`step.${s}.grad.${name}`] = t;
        trainer.applyGradients();
        const params = await model.adapterCheckpoint();
        for (const [name, t] of Object.entries(params)) out[`step.${s}.param.${name}`] = t;
      }
    } finally {
      trainer.dispose();
      tf.dispose();
    }
  } finally {
    model.dispose();
  }
  return out;
}
