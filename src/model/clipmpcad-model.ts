/**
 * ClipMPCAD assembled (spec 5-7): CLIP weights + adapter pairs -> vision tower, text tower,
 * text features, the augmented few-shot memory bank and the M-Decoder maps and scores.
 * Works on preprocessed [3, S, S] image tensors; decoding and files are the callers' (the
 * trace command, the ClipMPCAD API).
 */
import { AUGMENTATIONS, augmentSupport } from "../kernels/resample.js";
import { nearestDistance } from "../kernels/nearest.js";
import { rowMean, rowNormalize } from "../kernels/reduce.js";
import { softmaxMean, upMap, zeroShotLogits } from "../kernels/heads.js";
import type { MadffPairWeights } from "../kernels/madff.js";
import { ShapeError } from "../runtime/errors.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import type { ClipTokenizer } from "../tokenizer/clip-tokenizer.js";
import { ensembleSentences, type PromptSet } from "../tokenizer/prompts.js";
import { adapterCheckpoint, adapterLevels, adapterTensors, checkAdapters, loadAdapterPair } from "./adapter-weights.js";
import { AdapterTrainer, type AdamSettings, type TrainTask } from "./adapter-training.js";
import type { WritableTensor } from "./safetensors.js";
import { clipTensors, inferConfig, loadClipWeights, type ClipWeights, type HfConfig } from "./clip-weights.js";
import type { SafetensorsFile } from "./safetensors.js";
import { TextFeatureCache, textFeatureKey } from "./text-feature-cache.js";
import { TextTower } from "./text-tower.js";
import type { ClipActivation } from "./transformer-block.js";
import { VisionTower, type VisionOutput } from "./vision-tower.js";
import type { LongRunning } from "../runtime/progress.js";

export const DEFAULT_LEVELS = [6, 12, 18, 24] as const;
export const DEFAULT_IMAGE_SIZE = 240;

export interface ModelOptions {
  clip: SafetensorsFile;
  adapters: SafetensorsFile;
  imageSize?: number;
  levels?: readonly number[];
  /** "auto" (spec 3): QuickGELU at the native image size, exact GELU otherwise. */
  activation?: "auto" | ClipActivation;
  /** Load the text tower (default true). */
  text?: boolean;
  hfConfig?: HfConfig;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** The memory bank: per level, normalised seg and det tokens of every augmented shot. */
export interface MemoryBank {
  seg: Tensor<"f32">[];
  det: Tensor<"f32">[];
  /** Support images it was built from (before augmentation). */
  shots: number;
  /** Images per shot in the bank: 11 (spec 7's augmentations) or 1 (fit with augment: false). */
  views: number;
}

export interface HeadOutputs {
  /** Null without text features (few-shot only). */
  segMapZero: Tensor<"f32"> | null;
  segMapFew: Tensor<"f32">;
  detScoreZero: Tensor<"f32"> | null;
  detScoreFew: Tensor<"f32">;
}

export class ClipMPCADModel {
  readonly textCache = new TextFeatureCache();

  private constructor(
    private readonly rt: Runtime,
    readonly weights: ClipWeights,
    private readonly pairs: MadffPairWeights[],
    readonly vision: VisionTower,
    readonly text: TextTower | undefined,
    readonly imageSize: number,
    readonly levels: readonly number[],
    readonly activation: ClipActivation,
  ) {}

  static async load(rt: Runtime, o: ModelOptions): Promise<ClipMPCADModel> {
    // Everything that can be checked from the headers is checked before any weight is read.
    const config = inferConfig(o.clip, o.hfConfig);
    const imageSize = o.imageSize ?? DEFAULT_IMAGE_SIZE;
    const nLevels = adapterLevels(o.adapters);
    checkAdapters(o.adapters, nLevels, config.vision.width, config.embed);
    const levels = o.levels ?? (nLevels === DEFAULT_LEVELS.length && config.vision.layers >= 24 ? DEFAULT_LEVELS : undefined);
    if (!levels) {
      throw new ShapeError(`the adapters have ${nLevels} levels and the vision tower ${config.vision.layers} layers: give levels (the default [6, 12, 18, 24] needs 4 adapter levels and 24 layers)`);
    }
    if (levels.length !== nLevels) throw new ShapeError(`${levels.length} levels [${levels.join(", ")}] given, but ${o.adapters.source.name} has ${nLevels} adapter levels`);
    const owned: Tensor[] = [];
    try {
      const weights = await loadClipWeights(rt, o.clip, { text: o.text, hfConfig: o.hfConfig, onProgress: o.onProgress, signal: o.signal });
      owned.push(...clipTensors(weights));
      const pairs: MadffPairWeights[] = [];
      for (let j = 0; j < nLevels; j++) {
        pairs.push(await loadAdapterPair(rt, o.adapters, j, config.vision.width, config.embed));
        owned.push(...adapterTensors(pairs[j]));
      }
      const activation = !o.activation || o.activation === "auto" ? (imageSize === config.vision.imageSize ? "quickGelu" : "gelu") : o.activation;
      const vision = new VisionTower(rt, config, weights.vision, pairs, levels, imageSize, activation);
      const text = weights.text ? new TextTower(rt, config, weights.text, activation) : undefined;
      return new ClipMPCADModel(rt, weights, pairs, vision, text, imageSize, levels, activation);
    } catch (e) {
      for (const t of owned) t.dispose(); // nothing half-loaded stays on the GPU
      throw e;
    }
  }

  get config() {
    return this.weights.config;
  }

  /**
   * A trainer of this model's adapters for a class's text features [E, 2] (spec 9). It updates
   * the adapters in place: memory banks built before training are stale afterwards.
   */
  trainer(textFeatures: Tensor, task?: TrainTask, adam?: AdamSettings): AdapterTrainer {
    return new AdapterTrainer(this.rt, this.vision, textFeatures, task, adam);
  }

  /** GPU copies of every adapter tensor (to return to with restoreAdapters; dispose them after). */
  snapshotAdapters(): Tensor<"f32">[] {
    return this.pairs.flatMap((p) => adapterTensors(p).map((t) => this.rt.clone(t, `snapshot ${t.label}`)));
  }

  /** Writes a snapshot's values back into the adapters. */
  restoreAdapters(snapshot: Tensor[]): void {
    const live = this.pairs.flatMap((p) => adapterTensors(p));
    if (snapshot.length !== live.length) throw new ShapeError(`a snapshot of ${snapshot.length} tensors does not fit ${live.length} adapter tensors`);
    live.forEach((t, i) => this.rt.copy(snapshot[i], t));
  }

  /** The current adapters under the checkpoint's names and layout (spec 1), read back. */
  adapterCheckpoint(): Promise<Record<string, WritableTensor>> {
    return adapterCheckpoint(this.pairs);
  }

  /** text_features [E, 2] for a class, from the base ensemble plus an optional P-Prompt set; cached. */
  async textFeatures(tokenizer: ClipTokenizer, className: string, promptSet?: PromptSet, opts: LongRunning = {}): Promise<Tensor<"f32">> {
    if (!this.text) throw new ShapeError("this model was loaded without its text tower: load text features from a detector file, or load the text weights");
    const sentences = ensembleSentences(className, promptSet);
    const key = await textFeatureKey(`${this.weights.textFingerprint ?? this.weights.fingerprint}|${this.activation}`, className, sentences);
    const hit = this.textCache.get(key);
    if (hit) return this.rt.tensor(hit.data, hit.shape, "f32", "text_features");
    const tf = await this.text.features(tokenizer, sentences, opts);
    this.textCache.set(key, { className, shape: [this.config.embed, 2], data: await tf.read() });
    return tf;
  }

  /** Vision tower on preprocessed images [B, 3, S, S]. */
  forward(images: Tensor, opts: { pooled?: boolean } = {}): VisionOutput {
    const S = this.imageSize;
    const s = images.shape;
    if (s.length !== 4 || s[1] !== 3 || s[2] !== S || s[3] !== S) throw new ShapeError(`images "${images.label}" [${s.join(", ")}] must be [B, 3, ${S}, ${S}]`);
    return this.vision.forward(images, opts);
  }

  /** The memory bank of spec 6-7 from preprocessed support images [k, 3, S, S]. */
  buildMemory(support: Tensor, augment = true): MemoryBank {
    const bank = this.emptyMemory(support.shape[0], augment);
    for (let i = 0; i < bank.shots; i++) {
      const img = support.at(i);
      this.addShot(bank, i, img);
      img.dispose();
    }
    return bank;
  }

  /** A memory bank of k shots, to be filled by addShot; augmented 11-fold (spec 7) unless augment is false. */
  emptyMemory(k: number, augment = true): MemoryBank {
    const E = this.config.embed;
    const T = this.vision.tokens;
    const views = augment ? AUGMENTATIONS : 1;
    const seg: Tensor<"f32">[] = this.levels.map(() => this.rt.empty([k * views * T, E], "f32", "memory seg"));
    const det: Tensor<"f32">[] = this.levels.map(() => this.rt.empty([k * views * T, E], "f32", "memory det"));
    return { seg, det, shots: k, views };
  }

  /** Writes shot i (a preprocessed image [3, S, S], with its augmentations when the bank has them) into the bank. */
  addShot(bank: MemoryBank, i: number, img: Tensor): void {
    const E = this.config.embed;
    const T = this.vision.tokens;
    const V = bank.views;
    const aug = V === 1 ? img.reshape([1, ...img.shape]) : augmentSupport(this.rt, img); // [V, 3, S, S]
    const out = this.vision.forward(aug);
    this.levels.forEach((_, j) => {
      for (const [src, dstBank] of [[out.seg[j], bank.seg[j]], [out.det[j], bank.det[j]]] as const) {
        const rows = src.reshape([V * T, E]);
        const dst = dstBank.view([V * T, E], i * V * T * E);
        rowNormalize(this.rt, rows, { eps: 1e-8, out: dst });
        for (const t of [rows, dst]) t.dispose();
      }
    });
    for (const t of [aug, ...out.seg, ...out.det]) t.dispose();
  }

  /**
   * The M-Decoder of spec 6 for one image's level tokens (seg[j], det[j]: [T, E] each, or a
   * batch item of them). Without text features only the few-shot outputs are computed.
   */
  heads(seg: Tensor[], det: Tensor[], textFeatures: Tensor | null, memory: MemoryBank): HeadOutputs {
    const rt = this.rt;
    const S = this.imageSize;
    const T = this.vision.tokens;
    const E = this.config.embed;
    const segMapZero = textFeatures ? rt.empty([S, S], "f32", "seg_map_zero") : null;
    const segMapFew = rt.empty([S, S], "f32", "seg_map_few");
    const detMapFew = rt.empty([S, S], "f32", "det_map_few");
    const detScoreZero = textFeatures ? rt.empty([1], "f32", "det_score_zero") : null;
    this.levels.forEach((_, j) => {
      const acc = j > 0;
      for (const [tokens, kind] of [[seg[j], "seg"], [det[j], "det"]] as const) {
        const patches = tokens.view([T - 1, E], E);
        if (textFeatures) {
          const logits = zeroShotLogits(rt, patches, textFeatures);
          if (kind === "seg") upMap(rt, logits, { size: S, softmaxClass1: true, accumulate: acc, out: segMapZero! });
          else softmaxMean(rt, logits, { accumulate: acc, out: detScoreZero! });
          logits.dispose();
        }
        const unit = rowNormalize(rt, patches, { eps: 1e-8 });
        const d = nearestDistance(rt, unit, kind === "seg" ? memory.seg[j] : memory.det[j]);
        upMap(rt, d, { size: S, accumulate: acc, out: kind === "seg" ? segMapFew : detMapFew });
        for (const t of [patches, unit, d]) t.dispose();
      }
    });
    const flat = detMapFew.reshape([1, S * S]);
    const detScoreFew = rowMean(rt, flat, "det_score_few");
    flat.dispose();
    detMapFew.dispose();
    return { segMapZero, segMapFew, detScoreZero, detScoreFew };
  }

  /**
   * Leave-one-out few-shot seg maps of the support shots: each shot (its unaugmented tokens,
   * already in the bank) against the bank of the other shots, summed over levels -> [k, S, S].
   * Their statistics say how far normal images sit from the bank (needs k >= 2).
   */
  leaveOneOutMaps(memory: MemoryBank): Tensor<"f32"> {
    const rt = this.rt;
    const k = memory.shots;
    if (k < 2) throw new ShapeError("leave-one-out statistics need at least 2 support shots");
    const S = this.imageSize;
    const T = this.vision.tokens;
    const E = this.config.embed;
    const per = memory.views * T; // rows a shot holds in the bank
    const maps = rt.empty([k, S, S], "f32", "support maps");
    for (let i = 0; i < k; i++) {
      const out = maps.view([S, S], i * S * S);
      this.levels.forEach((_, j) => {
        const bank = memory.seg[j];
        const queries = bank.view([T - 1, E], (i * per + 1) * E); // shot i itself, no class token
        const rest = [bank.view([i * per, E], 0), bank.view([(k - 1 - i) * per, E], (i + 1) * per * E)];
        const d = nearestDistance(rt, queries, rest);
        upMap(rt, d, { size: S, accumulate: j > 0, out });
        for (const t of [queries, ...rest, d]) t.dispose();
      });
      out.dispose();
    }
    return maps;
  }

  dispose(): void {
    this.vision.dispose();
    for (const t of clipTensors(this.weights)) t.dispose();
    for (const p of this.pairs) for (const t of adapterTensors(p)) t.dispose();
  }
}

