/**
 * The paper's evaluation protocol (spec 8) on the MVFA folder layout:
 *   <root>/<Name>_AD/{valid,test}/{good,Ungood}/img/*, masks in .../Ungood/anomaly_mask/
 * Support shots come from valid/good (k drawn with a seeded shuffle, or a list of names).
 * Segmentation sets (masks present): seg_map_zero and seg_map_few are each min-max normalised
 * over the whole test set, combined 0.5/0.5; pixel AUROC over every pixel; image AUROC from
 * each image's max. Classification sets: det_score_zero and det_score_few min-max normalised
 * over the test set, combined 0.5/0.5, image AUROC. Image/pixel AP and the per-region
 * overlap (PRO, to 30% FPR) are reported too. Without text features (no vocabulary)
 * the few-shot half stands alone, and the result says so. Node only (reads folders).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ClipMPCAD } from "../api/clipmpcad.js";
import { writeFileAtomic } from "../atomic-write.js";
import { decodeImageFile } from "../image/decode-node.js";
import { maskFromPixels } from "../image/mask.js";
import type { Progress } from "../runtime/progress.js";
import { auroc, averagePrecision, minMaxNormalize, perRegionOverlap } from "./metrics.js";

export class DatasetError extends Error {
  override name = "DatasetError";
}

/** Datasets the reference evaluates by image score only. */
export const CLASSIFICATION_SETS = new Set(["Retina_OCT2017", "Chest", "Histopathology"]);

export interface EvaluateOptions {
  /** Dataset name: the folder is <root>/<name>_AD. */
  name: string;
  shots: number;
  /** A file of support image names (one per line) instead of a seeded draw. */
  fewShotList?: string;
  seed?: number;
  /** Stages "memory bank" (shots) and "test images". */
  onProgress?: Progress;
  signal?: AbortSignal;
  /**
   * Heatmap overlays of a sample of test images (count, default 8, spread over normal and
   * anomalous ones), written to dir once the metrics are computed. The colours span the
   * dataset-wide normalised map, 0 to 1, so a normal image looks calm; per-image scaling
   * would make every image look anomalous.
   */
  overlays?: { dir: string; count?: number };
}

export interface ImageResult {
  file: string;
  label: 0 | 1;
  /** Combined, normalised score (max of the combined map for segmentation sets). */
  score: number;
}

export interface EvaluateResult {
  dataset: string;
  task: "segmentation" | "classification";
  shots: number;
  support: string[];
  imageAuroc: number;
  imageAp: number;
  pixelAuroc?: number;
  pixelAp?: number;
  /** Per-region overlap up to 30% FPR (segmentation sets). */
  pro?: number;
  /** False when the model has no text features (few-shot half only). */
  zeroShot: boolean;
  images: ImageResult[];
  /** Overlay files written (with options.overlays). */
  overlays?: string[];
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

export function listImages(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir).filter((f) => IMAGE_EXT.test(f)).sort();
}

/** The seeded shuffle of the shot draw (train draws its shots with it too). */
export function shuffled<T>(items: T[], seed: number): T[] {
  const a = items.slice();
  let s = seed >>> 0 || 1;
  for (let i = a.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** A mask file resized to S x S (nearest, pixel centres) and thresholded at 0.5. */
export function loadMask(path: string, S: number): Uint8Array {
  return maskFromPixels(decodeImageFile(path), S);
}

export async function evaluateDataset(model: ClipMPCAD, root: string, o: EvaluateOptions): Promise<EvaluateResult> {
  const base = join(root, `${o.name}_AD`);
  if (!existsSync(base)) throw new DatasetError(`${base} does not exist: expected <root>/${o.name}_AD/{valid,test}/{good,Ungood}/img/ (the MVFA layout)`);
  if (!Number.isInteger(o.shots) || o.shots < 1) throw new DatasetError(`shots must be a positive integer, not ${o.shots}`);
  const goodValid = join(base, "valid", "good", "img");
  const pool = listImages(goodValid);
  let support: string[];
  if (o.fewShotList) {
    const names = readFileSync(o.fewShotList, "utf8").split("\n").map((l) => l.trim()).filter(Boolean);
    const missing = names.filter((n) => !pool.includes(n));
    if (missing.length) throw new DatasetError(`${o.fewShotList}: ${missing.slice(0, 3).join(", ")} not in ${goodValid}`);
    support = names.slice(0, o.shots);
  } else {
    if (pool.length < o.shots) throw new DatasetError(`${goodValid} holds ${pool.length} images, fewer than the ${o.shots} shots asked for`);
    support = shuffled(pool, o.seed ?? 0).slice(0, o.shots);
  }
  const tests: { path: string; file: string; label: 0 | 1; mask?: string }[] = [];
  for (const [sub, label] of [["good", 0], ["Ungood", 1]] as const) {
    const dir = join(base, "test", sub, "img");
    for (const f of listImages(dir)) {
      const mask = join(base, "test", sub, "anomaly_mask", f);
      tests.push({ path: join(dir, f), file: `${sub}/${f}`, label, mask: existsSync(mask) ? mask : undefined });
    }
  }
  if (tests.length === 0) throw new DatasetError(`${join(base, "test")}: no test images in good/img or Ungood/img`);
  const task = CLASSIFICATION_SETS.has(o.name) || !tests.some((t) => t.mask) ? "classification" : "segmentation";
  await model.fit(support.map((f) => join(goodValid, f)), { signal: o.signal, onProgress: o.onProgress });
  const S = model.imageSize;
  const n = tests.length;
  const mapZero = new Float32Array(n * S * S);
  const mapFew = new Float32Array(n * S * S);
  const masks = new Uint8Array(n * S * S);
  const scoreZero = new Float32Array(n);
  const scoreFew = new Float32Array(n);
  let zeroShot = true;
  for (let i = 0; i < n; i++) {
    o.signal?.throwIfAborted();
    const p = await model.predict(tests[i].path);
    zeroShot &&= p.mapZero !== null;
    if (p.mapZero) mapZero.set(p.mapZero, i * S * S);
    mapFew.set(p.mapFew, i * S * S);
    scoreZero[i] = p.scoreZero ?? 0;
    scoreFew[i] = p.scoreFew;
    if (task === "segmentation" && tests[i].mask) masks.set(loadMask(tests[i].mask!, S), i * S * S);
    o.onProgress?.(i + 1, n, "test images");
  }
  const combine = (z: Float32Array, f: Float32Array) => {
    const nf = minMaxNormalize(f);
    if (!zeroShot) return nf;
    const nz = minMaxNormalize(z);
    return nf.map((v, i) => 0.5 * nz[i] + 0.5 * v);
  };
  const labels = tests.map((t) => t.label);
  const result: EvaluateResult = { dataset: o.name, task, shots: o.shots, support, imageAuroc: 0, imageAp: 0, zeroShot, images: [] };
  let scores: number[];
  const combined = task === "segmentation" || o.overlays ? combine(mapZero, mapFew) : null;
  if (task === "segmentation" && combined) {
    scores = tests.map((_, i) => {
      let m = -Infinity;
      for (let k = i * S * S; k < (i + 1) * S * S; k++) m = Math.max(m, combined[k]);
      return m;
    });
    result.pixelAuroc = auroc(combined, masks);
    result.pixelAp = averagePrecision(combined, masks);
    const per = (a: Float32Array | Uint8Array, i: number) => a.subarray(i * S * S, (i + 1) * S * S);
    result.pro = perRegionOverlap(tests.map((_, i) => per(combined, i) as Float32Array), tests.map((_, i) => per(masks, i) as Uint8Array), S, S);
  } else {
    scores = Array.from(combine(scoreZero, scoreFew));
  }
  result.imageAuroc = auroc(scores, labels);
  result.imageAp = averagePrecision(scores, labels);
  result.images = tests.map((t, i) => ({ file: t.file, label: t.label, score: scores[i] }));
  if (o.overlays && combined) result.overlays = await writeOverlays(model, o.overlays, tests, combined, S);
  return result;
}

/** Evenly spaced picks: half anomalous (when there are), the rest normal. */
function overlaySample(labels: (0 | 1)[], count: number): number[] {
  const of = (l: 0 | 1) => labels.map((v, i) => (v === l ? i : -1)).filter((i) => i >= 0);
  const pick = (idx: number[], n: number) => Array.from({ length: Math.min(n, idx.length) }, (_, k) => idx[Math.floor((k * idx.length) / Math.min(n, idx.length))]);
  const bad = of(1);
  const good = of(0);
  const nBad = Math.min(bad.length, Math.ceil(count / 2));
  return [...pick(bad, nBad), ...pick(good, count - nBad)].sort((a, b) => a - b);
}

async function writeOverlays(model: ClipMPCAD, opt: { dir: string; count?: number }, tests: { path: string; file: string; label: 0 | 1 }[], combined: Float32Array, S: number): Promise<string[]> {
  const count = opt.count ?? 8;
  if (!Number.isInteger(count) || count < 0) throw new DatasetError(`overlay count must be a whole number >= 0, not ${opt.count}`);
  mkdirSync(opt.dir, { recursive: true });
  const written: string[] = [];
  for (const i of overlaySample(tests.map((t) => t.label), count)) {
    const { png } = await model.heatmap(tests[i].path, combined.subarray(i * S * S, (i + 1) * S * S), { range: [0, 1] });
    const out = join(opt.dir, tests[i].file.replace(/[\\/]/g, "_").replace(/\.(jpe?g|png)$/i, ".png"));
    writeFileAtomic(out, png);
    written.push(out);
  }
  return written;
}
