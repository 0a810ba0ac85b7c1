/**
 * The trace (issue contract) on opened weights and decoded images: every intermediate other
 * tools compare against. Browser-safe; trace.ts reads the files on Node, and the browser
 * test page fetches them, so both run this same code.
 */
import { NORMALIZATIONS, preprocessImage, type Normalization } from "../kernels/pil-resize.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import type { ClipTokenizer } from "../tokenizer/clip-tokenizer.js";
import { ClipMPCADModel } from "./clipmpcad-model.js";
import type { SafetensorsFile, WritableTensor } from "./safetensors.js";

/** 8-bit RGB pixels, [height, width, 3] row-major. */
export interface TracePixels {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** The opened weights, vocabulary and settings both traces (this one, train-trace-core) start from. */
export interface TraceModelInputs {
  clip: SafetensorsFile;
  adapters: SafetensorsFile;
  tokenizer: ClipTokenizer;
  className: string;
  imageSize?: number;
  levels?: number[];
  normalize?: keyof typeof NORMALIZATIONS;
  onProgress?: (stage: string) => void;
}

export interface TraceInputs extends TraceModelInputs {
  support: TracePixels[];
  query: TracePixels[];
}

/** Resizes and normalises decoded images into one [n, 3, S, S] tensor. */
export function pixelsToTensor(rt: Runtime, images: TracePixels[], size: number, norm: Normalization, label = "images"): Tensor<"f32"> {
  const out = rt.empty([images.length, 3, size, size], "f32", label);
  images.forEach((img, i) => {
    const bytes = rt.tensor(Uint32Array.from(img.rgb), [img.height, img.width, 3], "u32", `${label} ${i} bytes`);
    const view = out.view([3, size, size], i * 3 * size * size);
    preprocessImage(rt, bytes, size, norm, { out: view });
    bytes.dispose();
    view.dispose();
  });
  return out;
}

export async function traceModel(rt: Runtime, o: TraceInputs): Promise<Record<string, WritableTensor>> {
  const say = o.onProgress ?? (() => {});
  if (o.support.length === 0) throw new Error("trace needs at least one support image (the few-shot memory)");
  if (o.query.length === 0) throw new Error("trace needs at least one query image");
  say("loading weights");
  const model = await ClipMPCADModel.load(rt, { clip: o.clip, adapters: o.adapters, imageSize: o.imageSize, levels: o.levels });
  const S = model.imageSize;
  const norm = NORMALIZATIONS[o.normalize ?? "none"];
  const out: Record<string, WritableTensor> = {};
  const keep = async (name: string, t: Tensor) => {
    out[name] = { shape: [...t.shape], data: (await t.read()) as Float32Array };
  };
  try {
    say("text features");
    const tf = await model.textFeatures(o.tokenizer, o.className);
    await keep("text_features", tf);
    say(`memory bank from ${o.support.length} support image(s) x 11 augmentations`);
    const support = pixelsToTensor(rt, o.support, S, norm, "support");
    const memory = model.buildMemory(support);
    support.dispose();
    for (let i = 0; i < o.query.length; i++) {
      say(`query ${i + 1} of ${o.query.length}`);
      const q = pixelsToTensor(rt, [o.query[i]], S, norm, "query");
      const input = q.at(0);
      await keep(`query.${i}.input`, input);
      const v = model.forward(q, { pooled: true });
      const pooled = v.pooled!.reshape([model.config.embed]);
      await keep(`query.${i}.pooled`, pooled);
      const seg = v.seg.map((t) => t.at(0));
      const det = v.det.map((t) => t.at(0));
      for (let j = 0; j < seg.length; j++) {
        await keep(`query.${i}.seg_tokens.${j}`, seg[j]);
        await keep(`query.${i}.det_tokens.${j}`, det[j]);
      }
      const h = model.heads(seg, det, tf, memory);
      await keep(`query.${i}.seg_map_zero`, h.segMapZero!);
      await keep(`query.${i}.seg_map_few`, h.segMapFew);
      await keep(`query.${i}.det_score_zero`, h.detScoreZero!);
      await keep(`query.${i}.det_score_few`, h.detScoreFew);
      for (const t of [q, input, pooled, v.pooled!, ...v.seg, ...v.det, ...seg, ...det, ...Object.values(h)]) t?.dispose();
    }
    for (const t of [tf, ...memory.seg, ...memory.det]) t.dispose();
  } finally {
    model.dispose();
  }
  return out;
}
