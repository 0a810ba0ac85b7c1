/**
 * The user-facing API: `ClipMPCAD.load(...)`, `setClass`, `fit`, `predict`, `dispose`.
 * Sources and images are resolved by a platform layer (Node: paths and files, see
 * platform-node.ts; browsers: URLs, Blobs, ImageData), so this file stays browser-safe.
 */
import { NORMALIZATIONS, preprocessImage, type Normalization } from "../kernels/pil-resize.js";
import { ClipMPCADModel, type MemoryBank } from "../model/clipmpcad-model.js";
import { explainHotspot, type Explanation } from "../model/explain.js";
import { heatmapOverlay, type HeatmapOptions } from "../image/heatmap.js";
import { pilBicubicResize } from "../image/pil-resize.js";
import { randomCheckpoints, type RandomClipShape } from "../model/random-checkpoint.js";
import { blobSource, bytesSource, encodeSafetensors, SafetensorsFile, urlSource, type ByteSource, type WritableTensor } from "../model/safetensors.js";
import { ShapeError } from "../runtime/errors.js";
import type { LongRunning, Progress } from "../runtime/progress.js";
import { createRuntime, type Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import type { ClipTokenizer } from "../tokenizer/clip-tokenizer.js";
import type { PromptSet } from "../tokenizer/prompts.js";
import type { EvaluateOptions, EvaluateResult } from "../eval/evaluate.js";
import { tokenizerFromFile } from "../tokenizer/vocab.js";
import { augmentSupport, AUGMENTATIONS } from "../kernels/resample.js";
import { maskFromPixels } from "../image/mask.js";
import type { TrainTask } from "../model/adapter-training.js";
import { trainLoop, type EpochReport, type TrainSample } from "../model/train-loop.js";

/** A weights file: a path (Node), a URL, a Blob/File, or bytes. */
export type Source = string | URL | Blob | ArrayBuffer | Uint8Array;

/** Decoded 8-bit RGB pixels, row-major [height, width, 3]. */
export interface RgbPixels {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/**
 * A model input given as floats: [3, S, S] at the model's image size, already resized and
 * normalised as the model expects (what a tensor pipeline produces); used as given.
 */
export interface FloatImage {
  data: Float32Array;
  shape: readonly [3, number, number];
}

/**
 * An image: a path (Node) or URL, encoded PNG/JPEG bytes or a Blob, decoded RGB pixels,
 * ImageData or an ImageBitmap (browsers), or a FloatImage.
 */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | Blob | RgbPixels | { width: number; height: number; data: Uint8ClampedArray } | ImageBitmap | FloatImage;

const isFloatImage = (img: ImageInput): img is FloatImage => typeof img === "object" && "shape" in img && (img as FloatImage).data instanceof Float32Array;

export interface Platform {
  source(src: Source): Promise<ByteSource>;
  bytes(src: Source): Promise<Uint8Array>;
  /** 8-bit RGB pixels of any input but a FloatImage. */
  decode(img: Exclude<ImageInput, FloatImage>): Promise<RgbPixels>;
  encodePng(rgba: Uint8Array, width: number, height: number): Promise<Uint8Array>;
  /** The tokenizer a vocabulary source names (a .txt.gz/.txt, a tokenizer.json, or on Node a folder). */
  tokenizer(src: Source): Promise<ClipTokenizer>;
  /** The files of a model folder (a path on Node, a base URL in browsers). */
  modelFolder(dir: string): Promise<ModelFiles>;
  /** Dataset evaluation (Node: reads the MVFA folder layout); absent in browsers. */
  evaluate?(det: ClipMPCAD, datasetDir: string, opts: EvaluateOptions): Promise<EvaluateResult>;
}

/** What a model folder holds: see {@link LoadOptions.model}. */
export interface ModelFiles {
  clip: Source;
  adapters: Source;
  vocab?: Source;
}

/** File names looked for in a model folder, first match wins. */
export const MODEL_FOLDER_NAMES = {
  clip: ["clip.safetensors", "model.safetensors"],
  adapters: ["adapters.safetensors"],
  vocab: ["bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt", "tokenizer.json"],
} as const;

function sourceName(src: Source): string {
  if (src instanceof Blob) return (src as File).name ?? "vocab blob";
  if (src instanceof Uint8Array || src instanceof ArrayBuffer) return "vocab bytes";
  return String(src);
}

/** The browser platform: URLs and Blobs; images decoded with createImageBitmap + OffscreenCanvas. */
export const browserPlatform: Platform = {
  async source(src) {
    if (src instanceof Blob) return blobSource(src, (src as File).name ?? "blob");
    if (src instanceof ArrayBuffer || src instanceof Uint8Array) return bytesSource(src);
    return urlSource(String(src));
  },
  async bytes(src) {
    if (src instanceof Uint8Array) return src;
    if (src instanceof ArrayBuffer) return new Uint8Array(src);
    if (src instanceof Blob) return new Uint8Array(await src.arrayBuffer());
    const r = await fetch(String(src));
    if (!r.ok) throw new Error(`${String(src)}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  },
  async decode(img) {
    if (typeof img === "object" && "rgb" in img) return img;
    if (typeof img === "object" && "data" in img && "width" in img) return fromRgba(img.data as Uint8ClampedArray, img.width, img.height);
    if (typeof ImageBitmap !== "undefined" && img instanceof ImageBitmap) return bitmapPixels(img);
    const bytes = await browserPlatform.bytes(img as Source);
    // as PIL: no colour management, alpha dropped rather than multiplied in (the canvas may
    // still store premultiplied pixels, so translucent pixels can differ by rounding)
    return bitmapPixels(await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: "none", premultiplyAlpha: "none" }));
  },
  async encodePng(rgba, width, height) {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext("2d")!.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
    return new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer());
  },
  async tokenizer(src) {
    return tokenizerFromFile(await browserPlatform.bytes(src), sourceName(src));
  },
  async modelFolder(dir) {
    // a base URL: the weights are fetched lazily with Range requests; the vocabulary is
    // optional, so it is probed with HEAD
    const base = dir.replace(/\/+$/, "");
    let vocab: string | undefined;
    for (const name of MODEL_FOLDER_NAMES.vocab) {
      const r = await fetch(`${base}/${name}`, { method: "HEAD" }).catch(() => null);
      if (r?.ok) {
        vocab = `${base}/${name}`;
        break;
      }
    }
    return { clip: `${base}/${MODEL_FOLDER_NAMES.clip[0]}`, adapters: `${base}/${MODEL_FOLDER_NAMES.adapters[0]}`, vocab };
  },
};

function bitmapPixels(bitmap: ImageBitmap): RgbPixels {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d")!;
  ctx.drawImage(bitmap, 0, 0);
  return fromRgba(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data, bitmap.width, bitmap.height);
}

export function fromRgba(data: ArrayLike<number>, width: number, height: number): RgbPixels {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    rgb[3 * i] = data[4 * i];
    rgb[3 * i + 1] = data[4 * i + 1];
    rgb[3 * i + 2] = data[4 * i + 2];
  }
  return { width, height, rgb };
}

const DETECTOR_FORMAT = "clipmpcad-gpu detector v1";

let defaultPlatform: Platform = browserPlatform;
export function setDefaultPlatform(p: Platform): void {
  defaultPlatform = p;
}

export interface LoadOptions {
  /**
   * A model folder (Node: a path; browsers: a base URL) holding clip.safetensors (or a
   * Hugging Face model.safetensors), adapters.safetensors and optionally the vocabulary
   * (bpe_simple_vocab_16e6.txt.gz, tokenizer.json, or on Node vocab.json + merges.txt).
   * clip, adapters and vocab, when given, take precedence over the folder's files.
   */
  model?: string;
  clip?: Source;
  adapters?: Source;
  /** The CLIP BPE vocabulary; without it only few-shot (memory-bank) results are available. */
  vocab?: Source;
  imageSize?: number;
  levels?: readonly number[];
  normalize?: keyof typeof NORMALIZATIONS | Normalization;
  /** A GPUDevice you own, or a runtime to share. */
  device?: GPUDevice;
  runtime?: Runtime;
  /** Reports the "weights" stage in layers uploaded. */
  onProgress?: Progress;
  signal?: AbortSignal;
}

export interface Calibration {
  threshold: number;
  /** "fpr": the (1 - targetFpr) quantile of normal scores; "f1": the F1-maximising threshold. */
  rule: "fpr" | "f1";
  /** F1 at the threshold (labelled calibration only). */
  f1?: number;
}

export interface Prediction {
  /** 0.5 scoreZero + 0.5 scoreFew (scoreFew alone without text features). */
  score: number;
  scoreZero: number | null;
  scoreFew: number;
  /** S x S: 0.5 mapZero + 0.5 mapFew (mapFew alone without text features). */
  map: Float32Array;
  mapZero: Float32Array | null;
  mapFew: Float32Array;
  /** score > threshold, once calibrate() has set one. */
  isAnomalous?: boolean;
  /**
   * Non-transductive versions (no test set needed), with 2 or more support shots: the
   * few-shot map as a z-score against the support's own leave-one-out maps,
   * (mapFew - mean) / std, and its maximum as the image score.
   */
  mapScaled?: Float32Array;
  scoreScaled?: number;
  /** With { explain: true }: the hottest pixel, each level's share there, the nearest normal patch. */
  explanation?: Explanation;
}

/** An abnormal training shot: the image and its ground-truth mask (white = anomalous). */
export interface AbnormalShot {
  image: ImageInput;
  /** Needed by the segmentation task; a classification set has none. */
  mask?: Exclude<ImageInput, FloatImage>;
}

export interface TrainOptions extends LongRunning {
  abnormal?: AbnormalShot[];
  normal?: ImageInput[];
  /** Default 50, the reference's. */
  epochs?: number;
  /** segmentation (default when every abnormal shot has a mask): BCE + focal + dice; classification: BCE. */
  task?: TrainTask;
  /** Spec 7's 11 views of every shot (default true); false trains on the shots alone. */
  augment?: boolean;
  /** Seeds the shuffle order (default 0): the same seed gives the same adapters. */
  seed?: number;
  /** Adam's learning rate (default 1e-3). */
  lr?: number;
  /**
   * After each epoch. Return a validation score (higher is better) to keep the best epoch's
   * adapters; the reference scores on its test set, which leaks it into the selection.
   */
  onEpoch?: (r: EpochReport) => void | number | Promise<void | number>;
}

export interface TrainResult {
  task: TrainTask;
  /** Images per epoch (shots x views). */
  images: number;
  /** Mean loss of each epoch. */
  losses: number[];
  /** The epoch whose adapters the model now has (1-based). */
  keptEpoch: number;
  score: number | null;
  seconds: number;
}

export interface PredictOptions extends LongRunning {
  /** Explain the hottest pixel of the map (see Explanation); costs a little per image. */
  explain?: boolean;
}

export class ClipMPCAD {
  private textFeatures: Tensor<"f32"> | null = null;
  private memory: MemoryBank | null = null;
  className: string | null = null;
  /** Score above which predict() calls an image anomalous (set by calibrate). */
  threshold: number | null = null;
  /** Mean and standard deviation of the support shots' leave-one-out few-shot maps (k >= 2). */
  supportStats: { mean: number; std: number } | null = null;

  private constructor(
    readonly runtime: Runtime,
    private readonly ownsRuntime: boolean,
    readonly model: ClipMPCADModel,
    private readonly tokenizer: ClipTokenizer | null,
    readonly normalization: Normalization,
    private readonly platform: Platform,
  ) {}

  static async load(o: LoadOptions, platform: Platform = defaultPlatform): Promise<ClipMPCAD> {
    const rt = o.runtime ?? (await createRuntime({ device: o.device }));
    try {
      const folder = o.model !== undefined && (!o.clip || !o.adapters || !o.vocab) ? await platform.modelFolder(o.model) : undefined;
      const [clipSrc, adaptersSrc, vocabSrc] = [o.clip ?? folder?.clip, o.adapters ?? folder?.adapters, o.vocab ?? folder?.vocab];
      if (!clipSrc || !adaptersSrc) throw new ShapeError(`ClipMPCAD.load needs ${!clipSrc ? "clip" : "adapters"}: pass it, or model (a folder holding clip.safetensors and adapters.safetensors)`);
      const clip = await SafetensorsFile.open(await platform.source(clipSrc));
      const adapters = await SafetensorsFile.open(await platform.source(adaptersSrc));
      const tokenizer = vocabSrc ? await platform.tokenizer(vocabSrc) : null;
      const model = await ClipMPCADModel.load(rt, { clip, adapters, imageSize: o.imageSize, levels: o.levels, text: tokenizer !== null, signal: o.signal, onProgress: o.onProgress && ((d, t) => o.onProgress!(d, t, "weights")) });
      await clip.close();
      await adapters.close();
      const norm = typeof o.normalize === "object" ? o.normalize : NORMALIZATIONS[o.normalize ?? "none"];
      if (!norm) throw new ShapeError(`normalize must be none, imagenet, clip or {mean, std}, not ${String(o.normalize)}`);
      return new ClipMPCAD(rt, !o.runtime, model, tokenizer, norm, platform);
    } catch (e) {
      if (!o.runtime) rt.dispose();
      throw e;
    }
  }

  /**
   * A small random model (no downloads, no files): what `demo` runs when no weights are
   * given. Its maps come from the memory bank alone, which finds visible defects even with
   * random features; there is no text tower.
   */
  static async random(o: Partial<RandomClipShape> & { imageSize?: number; seed?: number; runtime?: Runtime } = {}, platform: Platform = defaultPlatform): Promise<ClipMPCAD> {
    const shape: RandomClipShape = { width: 64, layers: 2, embed: 32, patch: 8, grid: 8, levels: 2, ...o };
    const { clip, adapters } = randomCheckpoints(shape, o.seed ?? 0);
    const levels = Array.from({ length: shape.levels }, (_, i) => Math.round(((i + 1) * shape.layers) / shape.levels));
    return ClipMPCAD.load({ clip, adapters, imageSize: o.imageSize ?? shape.patch * shape.grid, levels, runtime: o.runtime }, platform);
  }

  /** True when a vocabulary was given: setClass and the zero-shot maps are available. */
  get canZeroShot(): boolean {
    return this.tokenizer !== null && this.model.text !== undefined;
  }

  get imageSize(): number {
    return this.model.imageSize;
  }

  /**
   * Text features for a class (base ensemble + an optional P-Prompt set); cached per model.
   * Reports the "text features" stage in sentences encoded. On abort the previous class stays.
   */
  async setClass(name: string, opts: { prompts?: PromptSet } & LongRunning = {}): Promise<void> {
    if (!this.tokenizer) throw new ShapeError("setClass needs the CLIP vocabulary: pass vocab to ClipMPCAD.load (zero-shot maps need text features)");
    const tf = await this.model.textFeatures(this.tokenizer, name, opts.prompts, opts);
    this.textFeatures?.dispose();
    this.textFeatures = tf;
    this.className = name;
  }

  /** Decodes, resizes and normalises images into one [n, 3, S, S] tensor. */
  async images(inputs: ImageInput[]): Promise<Tensor<"f32">> {
    const rt = this.runtime;
    const S = this.imageSize;
    const out = rt.empty([inputs.length, 3, S, S], "f32", "images");
    try {
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i];
        if (isFloatImage(input)) {
          const [c, h, w] = input.shape;
          if (c !== 3 || h !== S || w !== S || input.data.length !== 3 * S * S) {
            throw new ShapeError(`image ${i}: a float image must be [3, ${S}, ${S}] (the model's input, resized and normalised), not [${input.shape.join(", ")}] with ${input.data.length} values`);
          }
          const view = out.view([3, S, S], i * 3 * S * S);
          rt.write(view, input.data);
          view.dispose();
          continue;
        }
        const img = await this.platform.decode(input);
        const bytes = rt.tensor(Uint32Array.from(img.rgb), [img.height, img.width, 3], "u32", "image bytes");
        const view = out.view([3, S, S], i * 3 * S * S);
        preprocessImage(rt, bytes, S, this.normalization, { out: view });
        bytes.dispose();
        view.dispose();
      }
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  }

  /**
   * Builds the few-shot memory bank from normal images, each augmented 11-fold as spec 7
   * does (augment: false keeps the images alone: a bank 11 times smaller, not the paper's).
   * Reports the "memory bank" stage in shots; on abort the previous bank stays.
   */
  async fit(normalImages: ImageInput[], opts: { augment?: boolean } & LongRunning = {}): Promise<void> {
    if (normalImages.length === 0) throw new ShapeError("fit needs at least one normal image (the few-shot support set)");
    const k = normalImages.length;
    const memory = this.model.emptyMemory(k, opts.augment ?? true);
    let stats: { mean: number; std: number } | null = null;
    try {
      for (let i = 0; i < k; i++) {
        opts.signal?.throwIfAborted();
        const img = await this.images([normalImages[i]]);
        const one = img.at(0);
        this.model.addShot(memory, i, one);
        one.dispose();
        img.dispose();
        await this.compiled(opts);
        await this.runtime.sync();
        opts.onProgress?.(i + 1, k, "memory bank");
      }
      if (k >= 2) {
        opts.signal?.throwIfAborted();
        const loo = this.model.leaveOneOutMaps(memory);
        const v = await loo.read();
        loo.dispose();
        let mean = 0;
        for (const x of v) mean += x;
        mean /= v.length;
        let q = 0;
        for (const x of v) q += (x - mean) ** 2;
        stats = { mean, std: Math.sqrt(q / v.length) || 1 };
      }
    } catch (e) {
      for (const t of [...memory.seg, ...memory.det]) t.dispose();
      throw e;
    }
    this.disposeMemory();
    this.memory = memory;
    this.supportStats = stats;
  }

  /**
   * Trains the adapters on a few shots (spec 9), on this machine: images never leave it.
   * Needs the class's text features (setClass). Batch 1, Adam (lr 1e-3, betas 0.5/0.999),
   * each shot in spec 7's 11 views, seeded shuffle. Progress: the "train" stage in steps.
   * Afterwards the memory bank is gone (it was built with the old adapters): call fit again.
   * On abort or error the adapters are as they were before the call.
   */
  async train(o: TrainOptions): Promise<TrainResult> {
    if (!this.textFeatures) throw new ShapeError("train needs text features: call setClass(name) first (the losses compare tokens with the class's prompts)");
    const abnormal = o.abnormal ?? [];
    const normal = o.normal ?? [];
    if (abnormal.length + normal.length === 0) throw new ShapeError("train needs shots: abnormal [{ image, mask }] and/or normal images");
    const task: TrainTask = o.task ?? (abnormal.every((a) => a.mask !== undefined) ? "segmentation" : "classification");
    const missing = abnormal.findIndex((a) => a.mask === undefined);
    if (task === "segmentation" && missing >= 0) throw new ShapeError(`abnormal shot ${missing} has no mask, which the segmentation task needs (or train with task: "classification")`);
    const rt = this.runtime;
    const S = this.imageSize;
    const augment = o.augment ?? true;
    const views = augment ? AUGMENTATIONS : 1;
    const owned: Tensor[] = [];
    const samples: TrainSample[] = [];
    try {
      const add = async (image: ImageInput, mask: Exclude<ImageInput, FloatImage> | undefined, label: number) => {
        const img = await this.images([image]);
        owned.push(img);
        const m = mask ? maskFromPixels(await this.platform.decode(mask), S) : new Uint8Array(S * S);
        const mt = rt.tensor(Float32Array.from(m), [1, S, S], "f32", "mask");
        owned.push(mt);
        let imgs: Tensor = img;
        let masks: Tensor = mt;
        if (augment) {
          const one = img.at(0);
          imgs = augmentSupport(rt, one);
          masks = augmentSupport(rt, mt);
          owned.push(one, imgs, masks);
        }
        for (let v = 0; v < views; v++) {
          const image = imgs.view([3, S, S], v * 3 * S * S);
          const maskView = masks.view([S, S], v * S * S);
          owned.push(image, maskView);
          samples.push({ image, mask: maskView, label });
        }
      };
      for (const a of abnormal) await add(a.image, a.mask, 1);
      for (const n of normal) await add(n, undefined, 0);
      await this.compiled(o);
      const r = await trainLoop(this.model, this.textFeatures, samples, {
        epochs: o.epochs ?? 50,
        task,
        seed: o.seed,
        adam: o.lr === undefined ? undefined : { lr: o.lr },
        onEpoch: o.onEpoch,
        onProgress: o.onProgress,
        signal: o.signal,
      });
      this.disposeMemory();
      return { task, images: samples.length, losses: r.losses, keptEpoch: r.keptEpoch, score: r.score, seconds: r.seconds };
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  /** The adapters as a checkpoint file (safetensors, the official key layout of spec 1). */
  async saveAdapters(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    return encodeSafetensors(await this.model.adapterCheckpoint(), { format: "clipmpcad adapters", ...metadata });
  }

  /** Reports the shaders that recorded work still waits for, as the "compile shaders" stage. */
  private async compiled(opts: LongRunning): Promise<void> {
    if (opts.onProgress) await this.runtime.pipelinesReady((d, t) => opts.onProgress!(d, t, "compile shaders"));
  }

  /**
   * A heatmap overlay of a map (from predict) on the image as the model saw it (resized to
   * S x S): Gaussian-smoothed (sigma 4), jet colours, as RGBA and PNG. The colours span
   * the map's own range unless `range` is given (use a fixed range to compare images).
   */
  async heatmap(image: Exclude<ImageInput, FloatImage>, map: Float32Array, opts: HeatmapOptions = {}): Promise<{ width: number; height: number; rgba: Uint8Array; png: Uint8Array }> {
    const S = this.imageSize;
    if (map.length !== S * S) throw new ShapeError(`heatmap: the map has ${map.length} values, not ${S} x ${S}`);
    const img = await this.platform.decode(image);
    const rgb = pilBicubicResize(img.rgb, img.width, img.height, 3, S, S);
    const rgba = heatmapOverlay(rgb, map, S, opts);
    return { width: S, height: S, rgba, png: await this.platform.encodePng(rgba, S, S) };
  }

  /**
   * The paper's protocol (spec 8) on a dataset in the MVFA layout: fits the memory bank on
   * the shots, predicts every test image, returns image/pixel AUROC and AP, PRO and
   * per-image scores. Node only (it reads folders): see evaluateDataset.
   */
  async evaluate(datasetDir: string, opts: EvaluateOptions): Promise<EvaluateResult> {
    if (!this.platform.evaluate) throw new ShapeError("evaluate reads a dataset folder, which only the Node build can do; in a browser, predict images one by one");
    return this.platform.evaluate(this, datasetDir, opts);
  }

  /** Maps and scores of spec 6 for one image. */
  async predict(image: ImageInput, opts: PredictOptions = {}): Promise<Prediction> {
    return (await this.predictBatch([image], opts))[0];
  }

  /** Predictions for several images, run as one batch through the vision tower ("predict" stage, in images). */
  async predictBatch(images: ImageInput[], opts: PredictOptions = {}): Promise<Prediction[]> {
    if (!this.memory) throw new ShapeError("call fit(normalImages) before predict: the few-shot maps need the memory bank");
    opts.signal?.throwIfAborted();
    const batch = await this.images(images);
    const v = this.model.forward(batch);
    batch.dispose();
    await this.compiled(opts);
    const out: Prediction[] = [];
    try {
      for (let i = 0; i < images.length; i++) {
        opts.signal?.throwIfAborted();
        const seg = v.seg.map((t) => t.at(i));
        const det = v.det.map((t) => t.at(i));
        const h = this.model.heads(seg, det, this.textFeatures, this.memory);
        const mapFew = await h.segMapFew.read();
        const scoreFew = (await h.detScoreFew.read())[0];
        const mapZero = h.segMapZero ? await h.segMapZero.read() : null;
        const scoreZero = h.detScoreZero ? (await h.detScoreZero.read())[0] : null;
        const map = mapZero ? mapFew.map((v2, k) => 0.5 * mapZero[k] + 0.5 * v2) : mapFew;
        const score = scoreZero === null ? scoreFew : 0.5 * scoreZero + 0.5 * scoreFew;
        const p: Prediction = { score, scoreZero, scoreFew, map, mapZero, mapFew };
        if (this.supportStats) {
          const { mean, std } = this.supportStats;
          p.mapScaled = mapFew.map((x) => (x - mean) / std);
          let m = -Infinity;
          for (const x of p.mapScaled) m = Math.max(m, x);
          p.scoreScaled = m;
        }
        if (this.threshold !== null) p.isAnomalous = score > this.threshold;
        if (opts.explain) {
          p.explanation = await explainHotspot({ seg, map, size: this.imageSize, levels: this.model.levels, textFeatures: this.textFeatures, memory: this.memory });
        }
        out.push(p);
        opts.onProgress?.(i + 1, images.length, "predict");
        for (const t of [...seg, ...det, ...Object.values(h)]) t?.dispose();
      }
    } finally {
      for (const t of [...v.seg, ...v.det]) t.dispose();
    }
    return out;
  }

  /**
   * Sets the decision threshold. From normal images alone (not the support shots): the
   * (1 - targetFpr) quantile of their scores, so about targetFpr of normal images are
   * flagged. With anomalous images too: the threshold that maximises F1.
   */
  async calibrate(normal: ImageInput[], opts: { targetFpr?: number; anomalous?: ImageInput[] } & LongRunning = {}): Promise<Calibration> {
    if (normal.length === 0) throw new ShapeError("calibrate needs normal images (other than the support shots)");
    const ns = (await this.predictBatch(normal, opts)).map((p) => p.score);
    let cal: Calibration;
    if (opts.anomalous && opts.anomalous.length > 0) {
      const as = (await this.predictBatch(opts.anomalous, opts)).map((p) => p.score);
      cal = f1Threshold(ns, as);
    } else {
      const fpr = opts.targetFpr ?? 0.05;
      if (!(fpr >= 0 && fpr < 1)) throw new ShapeError(`targetFpr must be in [0, 1), not ${fpr}`);
      const sorted = ns.slice().sort((a, b) => a - b);
      // the smallest threshold with at most fpr of the normal scores strictly above it
      const k = Math.min(sorted.length - 1, Math.ceil((1 - fpr) * sorted.length) - 1);
      cal = { threshold: sorted[Math.max(0, k)], rule: "fpr" };
    }
    this.threshold = cal.threshold;
    return cal;
  }

  /**
   * A detector file (safetensors): the memory bank, the text features, the calibration and
   * the preprocessing settings. A deployment loads it with the vision weights and adapters
   * only (`ClipMPCAD.loadDetector`), no text encoder or tokenizer.
   */
  async saveDetector(): Promise<Uint8Array> {
    if (!this.memory) throw new ShapeError("saveDetector needs a memory bank: call fit(normalImages) first");
    const tensors: Record<string, WritableTensor> = {};
    const E = this.model.config.embed;
    for (const [kind, list] of [["seg", this.memory.seg], ["det", this.memory.det]] as const) {
      for (let j = 0; j < list.length; j++) tensors[`memory.${kind}.${j}`] = { shape: [list[j].size / E, E], data: (await list[j].read()) as Float32Array };
    }
    if (this.textFeatures) tensors.text_features = { shape: [E, 2], data: (await this.textFeatures.read()) as Float32Array };
    const meta = {
      format: DETECTOR_FORMAT,
      imageSize: this.imageSize,
      levels: [...this.model.levels],
      normalization: this.normalization,
      threshold: this.threshold,
      className: this.className,
      shots: this.memory.shots,
      views: this.memory.views,
      weights: this.model.weights.fingerprint,
    };
    return encodeSafetensors(tensors, { detector: JSON.stringify(meta) });
  }

  /** A detector saved by saveDetector, with the vision weights and adapters it was made with. */
  static async loadDetector(o: { clip: Source; adapters: Source; detector: Source; device?: GPUDevice; runtime?: Runtime }, platform: Platform = defaultPlatform): Promise<ClipMPCAD> {
    const file = await SafetensorsFile.open(await platform.source(o.detector));
    let meta: { format?: string; imageSize: number; levels: number[]; normalization: Normalization; threshold: number | null; className: string | null; shots: number; views?: number; weights: string };
    try {
      meta = JSON.parse(file.metadata.detector ?? "{}");
    } catch {
      throw new ShapeError(`${file.source.name}: the detector metadata is not valid JSON`);
    }
    if (meta.format !== DETECTOR_FORMAT) throw new ShapeError(`${file.source.name}: not a clipmpcad-gpu detector file (saveDetector writes them)`);
    const det = await ClipMPCAD.load({ clip: o.clip, adapters: o.adapters, imageSize: meta.imageSize, levels: meta.levels, normalize: meta.normalization, device: o.device, runtime: o.runtime }, platform);
    try {
      // the fingerprint covers the vision side, which both loads read
      if (det.model.weights.fingerprint !== meta.weights) {
        throw new ShapeError(`${file.source.name} was built with other CLIP weights than ${String(o.clip)}; load the weights it was made with`);
      }
      const rt = det.runtime;
      const E = det.model.config.embed;
      const load = async (name: string, cols = E) => {
        const info = file.info(name);
        const ok = info.shape.length === 2 && (name === "text_features" ? info.shape[0] === E && info.shape[1] === 2 : info.shape[1] === cols);
        if (!ok) throw new ShapeError(`${file.source.name}: ${name} has shape [${info.shape.join(", ")}], which does not fit the model's embedding width ${E}`);
        return rt.tensor(await file.read(name), info.shape, "f32", name);
      };
      const seg: Tensor<"f32">[] = [];
      const detTokens: Tensor<"f32">[] = [];
      for (let j = 0; j < meta.levels.length; j++) {
        seg.push(await load(`memory.seg.${j}`));
        detTokens.push(await load(`memory.det.${j}`));
      }
      det.memory = { seg, det: detTokens, shots: meta.shots, views: meta.views ?? 11 };
      if (file.has("text_features")) det.textFeatures = await load("text_features");
      det.threshold = meta.threshold;
      det.className = meta.className;
      await file.close();
      return det;
    } catch (e) {
      det.dispose();
      throw e;
    }
  }

  private disposeMemory(): void {
    if (this.memory) for (const t of [...this.memory.seg, ...this.memory.det]) t.dispose();
    this.memory = null;
  }

  dispose(): void {
    this.disposeMemory();
    this.textFeatures?.dispose();
    this.model.dispose();
    if (this.ownsRuntime) this.runtime.dispose();
  }
}

/** The threshold maximising F1 (anomalous = positive), over every distinct score. */
export function f1Threshold(normal: number[], anomalous: number[]): Calibration {
  const all = [...normal.map((s) => [s, 0] as const), ...anomalous.map((s) => [s, 1] as const)].sort((a, b) => b[0] - a[0]);
  let tp = 0;
  let fp = 0;
  let best: Calibration = { threshold: Infinity, rule: "f1", f1: 0 };
  for (let i = 0; i < all.length; i++) {
    if (all[i][1]) tp++;
    else fp++;
    if (i + 1 < all.length && all[i + 1][0] === all[i][0]) continue; // one threshold per distinct score
    const f1 = (2 * tp) / (2 * tp + fp + (anomalous.length - tp));
    // flag scores >= this one: the threshold sits just below it
    const next = i + 1 < all.length ? all[i + 1][0] : -Infinity;
    if (f1 > best.f1!) best = { threshold: Number.isFinite(next) ? (all[i][0] + next) / 2 : all[i][0] - 1, rule: "f1", f1 };
  }
  return best;
}
