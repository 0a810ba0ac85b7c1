/**
 * The trace (issue contract): every intermediate other tools compare against, for support
 * and query images given as files. Node only (it reads files).
 */
import { decodeImageFile } from "../image/decode-node.js";
import { NORMALIZATIONS, preprocessImage, type Normalization } from "../kernels/pil-resize.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { loadTokenizer } from "../tokenizer/load-node.js";
import { ClipMPCADModel } from "./clipmpcad-model.js";
import type { WritableTensor } from "./safetensors.js";
import { openSafetensors, saveSafetensors } from "./safetensors-node.js";

export interface TraceOptions {
  clip: string;
  adapters: string;
  vocab: string;
  className: string;
  imageSize?: number;
  levels?: number[];
  normalize?: keyof typeof NORMALIZATIONS;
  support: string[];
  query: string[];
  onProgress?: (stage: string) => void;
}

/** Decodes, resizes and normalises image files into one [n, 3, S, S] tensor. */
export function loadImages(rt: Runtime, paths: string[], size: number, norm: Normalization): Tensor<"f32"> {
  const out = rt.empty([paths.length, 3, size, size], "f32", "images");
  paths.forEach((path, i) => {
    const img = decodeImageFile(path);
    const bytes = rt.tensor(Uint32Array.from(img.rgb), [img.height, img.width, 3], "u32", path);
    const view = out.view([3, size, size], i * 3 * size * size);
    preprocessImage(rt, bytes, size, norm, { out: view });
    bytes.dispose();
    view.dispose();
  });
  return out;
}

export async function runTrace(rt: Runtime, o: TraceOptions): Promise<Record<string, WritableTensor>> {
  const say = o.onProgress ?? (() => {});
  if (o.support.length === 0) throw new Error("trace needs at least one --support image (the few-shot memory)");
  if (o.query.length === 0) throw new Error("trace needs at least one --query image");
  const clip = await openSafetensors(o.clip);
  const adapters = await openSafetensors(o.adapters);
  say("loading weights");
  const model = await ClipMPCADModel.load(rt, { clip, adapters, imageSize: o.imageSize, levels: o.levels });
  await clip.close();
  await adapters.close();
  const S = model.imageSize;
  const norm = NORMALIZATIONS[o.normalize ?? "none"];
  const out: Record<string, WritableTensor> = {};
  const keep = async (name: string, t: Tensor) => {
    out[name] = { shape: [...t.shape], data: (await t.read()) as Float32Array };
  };
  try {
    say("text features");
    const tokenizer = await loadTokenizer(o.vocab);
    const tf = await model.textFeatures(tokenizer, o.className);
    await keep("text_features", tf);
    say(`memory bank from ${o.support.length} support image(s) x 11 augmentations`);
    const support = loadImages(rt, o.support, S, norm);
    const memory = model.buildMemory(support);
    support.dispose();
    for (let i = 0; i < o.query.length; i++) {
      say(`query ${i + 1} of ${o.query.length}`);
      const q = loadImages(rt, [o.query[i]], S, norm);
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

export async function writeTrace(rt: Runtime, o: TraceOptions & { out: string }): Promise<number> {
  const tensors = await runTrace(rt, o);
  await saveSafetensors(o.out, tensors, { format: "clipmpcad-gpu trace", className: o.className });
  return Object.keys(tensors).length;
}
