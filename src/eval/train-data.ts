/**
 * Training shots from a dataset in the MVFA layout (spec 8, 9): k normal images from
 * valid/good/img (the same seeded draw as evaluate's support set, so the memory bank of a
 * later evaluate uses the shots the adapters were trained with) and k abnormal ones from
 * valid/Ungood/img with their masks in valid/Ungood/anomaly_mask (classification sets have
 * none). Node only (reads folders).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatasetError, listImages, shuffled } from "./evaluate.js";

export interface TrainingShots {
  normal: string[];
  abnormal: { image: string; mask?: string }[];
  /** Every abnormal shot has a mask. */
  masks: boolean;
}

export function trainingShots(root: string, name: string, shots: number, seed = 0): TrainingShots {
  const base = join(root, `${name}_AD`);
  if (!existsSync(base)) throw new DatasetError(`${base} does not exist: expected <root>/${name}_AD/valid/{good,Ungood}/img/ (the MVFA layout)`);
  if (!Number.isInteger(shots) || shots < 1) throw new DatasetError(`shots must be a positive integer, not ${shots}`);
  const goodDir = join(base, "valid", "good", "img");
  const badDir = join(base, "valid", "Ungood", "img");
  const good = listImages(goodDir);
  const bad = listImages(badDir);
  if (good.length < shots) throw new DatasetError(`${goodDir} holds ${good.length} images, fewer than the ${shots} shots asked for`);
  if (bad.length < shots) throw new DatasetError(`${badDir} holds ${bad.length} images, fewer than the ${shots} abnormal shots asked for`);
  const abnormal = shuffled(bad, seed)
    .slice(0, shots)
    .map((f) => {
      const mask = join(base, "valid", "Ungood", "anomaly_mask", f);
      return { image: join(badDir, f), mask: existsSync(mask) ? mask : undefined };
    });
  return { normal: shuffled(good, seed).slice(0, shots).map((f) => join(goodDir, f)), abnormal, masks: abnormal.every((a) => a.mask !== undefined) };
}
