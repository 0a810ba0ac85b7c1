/**
 * The train-trace (issue contract) for weights and images given as files: Node's side of
 * train-trace-core.ts, which computes it.
 */
import { decodeImageFile } from "../image/decode-node.js";
import type { Runtime } from "../runtime/runtime.js";
import { loadTokenizer } from "../tokenizer/load-node.js";
import type { TrainTask } from "./adapter-training.js";
import type { WritableTensor } from "./safetensors.js";
import { openSafetensors, saveSafetensors } from "./safetensors-node.js";
import { trainTraceModel } from "./train-trace-core.js";
import type { TraceFileOptions } from "./trace.js";

export interface TrainTraceOptions extends TraceFileOptions {
  task?: TrainTask;
  /** Image and mask files of abnormal shots. */
  abnormal: { image: string; mask: string }[];
  normal: string[];
  steps: number;
}

export async function runTrainTrace(rt: Runtime, o: TrainTraceOptions): Promise<Record<string, WritableTensor>> {
  const clip = await openSafetensors(o.clip);
  const adapters = await openSafetensors(o.adapters);
  try {
    return await trainTraceModel(rt, {
      ...o,
      clip,
      adapters,
      tokenizer: await loadTokenizer(o.vocab),
      abnormal: o.abnormal.map((a) => ({ image: decodeImageFile(a.image), mask: decodeImageFile(a.mask) })),
      normal: o.normal.map(decodeImageFile),
    });
  } finally {
    await clip.close();
    await adapters.close();
  }
}

export async function writeTrainTrace(rt: Runtime, o: TrainTraceOptions & { out: string }): Promise<number> {
  const tensors = await runTrainTrace(rt, o);
  await saveSafetensors(o.out, tensors, { format: "clipmpcad-gpu train-trace", className: o.className, task: o.task ?? "segmentation", steps: String(o.steps) });
  return Object.keys(tensors).length;
}
