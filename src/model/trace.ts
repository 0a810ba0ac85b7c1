/**
 * The trace (issue contract) for weights and images given as files: Node's side of
 * trace-core.ts, which computes it.
 */
import { decodeImageFile } from "../image/decode-node.js";
import type { NORMALIZATIONS, Normalization } from "../kernels/pil-resize.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { loadTokenizer } from "../tokenizer/load-node.js";
import type { WritableTensor } from "./safetensors.js";
import { pixelsToTensor, traceModel } from "./trace-core.js";
import { openSafetensors, saveSafetensors } from "./safetensors-node.js";

/** Weight and vocabulary files and settings, for this trace and train-trace.ts. */
export interface TraceFileOptions {
  clip: string;
  adapters: string;
  vocab: string;
  className: string;
  imageSize?: number;
  levels?: number[];
  normalize?: keyof typeof NORMALIZATIONS;
  onProgress?: (stage: string) => void;
}

export interface TraceOptions extends TraceFileOptions {
  support: string[];
  query: string[];
}

/** Decodes, resizes and normalises image files into one [n, 3, S, S] tensor. */
export function loadImages(rt: Runtime, paths: string[], size: number, norm: Normalization): Tensor<"f32"> {
  return pixelsToTensor(rt, paths.map(decodeImageFile), size, norm);
}

export async function runTrace(rt: Runtime, o: TraceOptions): Promise<Record<string, WritableTensor>> {
  if (o.support.length === 0) throw new Error("trace needs at least one --support image (the few-shot memory)");
  if (o.query.length === 0) throw new Error("trace needs at least one --query image");
  const clip = await openSafetensors(o.clip);
  const adapters = await openSafetensors(o.adapters);
  try {
    return await traceModel(rt, { ...o, clip, adapters, tokenizer: await loadTokenizer(o.vocab), support: o.support.map(decodeImageFile), query: o.query.map(decodeImageFile) });
  } finally {
    await clip.close();
    await adapters.close();
  }
}

export async function writeTrace(rt: Runtime, o: TraceOptions & { out: string }): Promise<number> {
  const tensors = await runTrace(rt, o);
  await saveSafetensors(o.out, tensors, { format: "clipmpcad-gpu trace", className: o.className });
  return Object.keys(tensors).length;
}
