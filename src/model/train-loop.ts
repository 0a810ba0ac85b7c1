/**
 * The training loop of spec 9 on prepared samples: epochs of the (augmented) shots in a
 * seeded shuffled order, batch 1, Adam; per-epoch report, optional best-epoch selection by a
 * caller's validation score, progress and cancellation. An abort (or an error) puts the
 * adapters back as they were before training: nothing half-trained is left behind.
 */
import { ShapeError } from "../runtime/errors.js";
import type { LongRunning } from "../runtime/progress.js";
import type { Tensor } from "../runtime/tensor.js";
import { rng } from "../eval/synthetic.js";
import { DEFAULT_ADAM, type AdamSettings, type TrainTask } from "./adapter-training.js";
import type { ClipMPCADModel } from "./clipmpcad-model.js";

export interface TrainSample {
  /** [3, S, S], preprocessed. */
  image: Tensor;
  /** [S, S], 1 = anomalous pixel (all zero for normal images; may be soft after augmentation). */
  mask: Tensor;
  /** 1 abnormal, 0 normal. */
  label: number;
}

export interface EpochReport {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** Mean loss over the epoch's steps. */
  loss: number;
  steps: number;
  /** Wall time of the epoch. */
  seconds: number;
}

export interface TrainLoopOptions extends LongRunning {
  epochs: number;
  task?: TrainTask;
  /** Seeds the shuffle of every epoch (default 0). */
  seed?: number;
  adam?: Partial<AdamSettings>;
  /**
   * Called after each epoch. Return a validation score (higher is better) to keep the
   * adapters of the best-scoring epoch instead of the last one.
   */
  onEpoch?: (r: EpochReport) => void | number | Promise<void | number>;
}

export interface TrainLoopResult {
  /** Mean loss per epoch. */
  losses: number[];
  /** The epoch whose adapters were kept (1-based; the last unless onEpoch returned scores). */
  keptEpoch: number;
  /** Its score, when onEpoch returned scores. */
  score: number | null;
  seconds: number;
}

/** Fisher-Yates with the library's seeded generator. */
export function shuffledOrder(n: number, seed: number): number[] {
  const next = rng(seed);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export async function trainLoop(model: ClipMPCADModel, textFeatures: Tensor, samples: TrainSample[], o: TrainLoopOptions): Promise<TrainLoopResult> {
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new ShapeError(`epochs must be a positive whole number, not ${o.epochs}`);
  if (samples.length === 0) throw new ShapeError("training needs at least one image");
  const t0 = performance.now();
  const start = model.snapshotAdapters();
  let best: { snapshot: Tensor[]; score: number; epoch: number } | null = null;
  const trainer = model.trainer(textFeatures, o.task ?? "segmentation", { ...DEFAULT_ADAM, ...o.adam });
  const losses: number[] = [];
  const total = o.epochs * samples.length;
  try {
    for (let e = 1; e <= o.epochs; e++) {
      const te = performance.now();
      let sum = 0;
      const order = shuffledOrder(samples.length, (o.seed ?? 0) * 1000003 + e);
      for (let k = 0; k < order.length; k++) {
        o.signal?.throwIfAborted();
        const s = samples[order[k]];
        sum += await trainer.step(s.image, s.mask, s.label);
        o.onProgress?.((e - 1) * samples.length + k + 1, total, "train");
      }
      const report: EpochReport = { epoch: e, epochs: o.epochs, loss: sum / samples.length, steps: samples.length, seconds: (performance.now() - te) / 1000 };
      losses.push(report.loss);
      const score = await o.onEpoch?.(report);
      if (typeof score === "number" && Number.isFinite(score) && (!best || score > best.score)) {
        for (const t of best?.snapshot ?? []) t.dispose();
        best = { snapshot: model.snapshotAdapters(), score, epoch: e };
      }
    }
    if (best) model.restoreAdapters(best.snapshot);
    return { losses, keptEpoch: best?.epoch ?? o.epochs, score: best?.score ?? null, seconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    model.restoreAdapters(start);
    throw err;
  } finally {
    trainer.dispose();
    for (const t of [...start, ...(best?.snapshot ?? [])]) t.dispose();
  }
}
