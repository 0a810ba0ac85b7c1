/**
 * CLIP weights from safetensors, in OpenAI/open_clip names or Hugging Face CLIPModel names
 * (spec 1), uploaded tensor by tensor. The configuration is read from the weights: widths,
 * patch size, native grid, layer counts; heads are width div 64 unless a Hugging Face
 * config.json says otherwise. Nothing is specific to ViT-L.
 */
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { SafetensorsError, type SafetensorsFile } from "./safetensors.js";

export interface TowerConfig {
  width: number;
  layers: number;
  heads: number;
  /** MLP hidden width (4 x width in CLIP). */
  hidden: number;
}

export interface ClipConfig {
  vision: TowerConfig & { patch: number; /** native grid side g */ grid: number; imageSize: number };
  text: TowerConfig & { context: number; vocab: number };
  /** Joint embedding width E. */
  embed: number;
  naming: "openai" | "huggingface";
}

export interface BlockWeights {
  ln1: [Tensor, Tensor];
  /** [3W, W] rows q, k, v, and [3W] */
  inProj: [Tensor, Tensor];
  outProj: [Tensor, Tensor];
  ln2: [Tensor, Tensor];
  fc: [Tensor, Tensor];
  proj: [Tensor, Tensor];
}

export interface VisionWeights {
  conv: Tensor;
  classEmbedding: Tensor;
  /** [1 + g*g, W] as stored (resized by the model for its image size) */
  positional: Float32Array;
  lnPre: [Tensor, Tensor];
  blocks: BlockWeights[];
  lnPost: [Tensor, Tensor];
  /** [W, E], used as x @ proj */
  proj: Tensor;
}

export interface TextWeights {
  tokenEmbedding: Tensor;
  positional: Tensor;
  blocks: BlockWeights[];
  lnFinal: [Tensor, Tensor];
  /** [Wt, E] */
  projection: Tensor;
}

export interface ClipWeights {
  config: ClipConfig;
  vision: VisionWeights;
  /** Absent when loaded with `text: false` (a deployment that has its text features). */
  text?: TextWeights;
  /** SHA-256 of the file's size, header and a sample of the vision weights' values. */
  fingerprint: string;
  /** The same with a sample of the text weights too (keys the text-feature cache). */
  textFingerprint?: string;
}

/** Optional Hugging Face config.json values. */
export interface HfConfig {
  vision_config?: { num_attention_heads?: number };
  text_config?: { num_attention_heads?: number };
}

function countLayers(file: SafetensorsFile, pattern: RegExp): number {
  let n = 0;
  for (const name of file.tensors.keys()) {
    const m = pattern.exec(name);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** Reads tensors of one file, checking shapes, and uploads them. */
class Uploader {
  /** Every 997th value of every tensor read: with the header, the weights' fingerprint. */
  readonly samples: number[] = [];

  constructor(
    private readonly rt: Runtime,
    readonly file: SafetensorsFile,
  ) {}

  private sample(a: Float32Array): Float32Array {
    for (let i = 0; i < a.length; i += 997) this.samples.push(a[i]);
    return a;
  }

  shape(name: string): number[] {
    return this.file.info(name).shape;
  }

  async cpu(name: string, shape?: number[]): Promise<Float32Array> {
    return this.sample(await this.file.read(name, shape));
  }

  async gpu(name: string, shape: number[]): Promise<Tensor> {
    return this.rt.tensor(await this.cpu(name, shape), shape, "f32", name);
  }

  upload(data: Float32Array, shape: number[], label: string): Tensor {
    return this.rt.tensor(data, shape, "f32", label);
  }
}

const DEFAULT_HEAD_DIM = 64;

function heads(width: number, given: number | undefined, what: string): number {
  const h = given ?? Math.floor(width / DEFAULT_HEAD_DIM);
  if (h < 1 || width % h !== 0) throw new SafetensorsError(`${what}: width ${width} does not split into ${h} heads`);
  return h;
}

export function detectNaming(file: SafetensorsFile): "openai" | "huggingface" {
  if (file.has("visual.conv1.weight")) return "openai";
  if (file.has("vision_model.embeddings.patch_embedding.weight")) return "huggingface";
  throw new SafetensorsError(
    `${file.source.name}: neither "visual.conv1.weight" (OpenAI/open_clip names) nor ` +
      `"vision_model.embeddings.patch_embedding.weight" (Hugging Face CLIPModel names) is there; is it a CLIP checkpoint?`,
  );
}

export function inferConfig(file: SafetensorsFile, hf?: HfConfig): ClipConfig {
  const naming = detectNaming(file);
  const oa = naming === "openai";
  const conv = file.info(oa ? "visual.conv1.weight" : "vision_model.embeddings.patch_embedding.weight").shape;
  if (conv.length !== 4 || conv[1] !== 3 || conv[2] !== conv[3]) throw new SafetensorsError(`${file.source.name}: the patch convolution has shape [${conv.join(", ")}], expected [W, 3, P, P]`);
  const [W, , P] = conv;
  const posRows = file.info(oa ? "visual.positional_embedding" : "vision_model.embeddings.position_embedding.weight").shape[0];
  const g = Math.round(Math.sqrt(posRows - 1));
  if (g * g + 1 !== posRows) throw new SafetensorsError(`${file.source.name}: the vision positional embedding has ${posRows} rows, not 1 + g*g`);
  const vLayers = countLayers(file, oa ? /^visual\.transformer\.resblocks\.(\d+)\.attn\.in_proj_weight$/ : /^vision_model\.encoder\.layers\.(\d+)\.self_attn\.q_proj\.weight$/);
  const tLayers = countLayers(file, oa ? /^transformer\.resblocks\.(\d+)\.attn\.in_proj_weight$/ : /^text_model\.encoder\.layers\.(\d+)\.self_attn\.q_proj\.weight$/);
  if (vLayers === 0) throw new SafetensorsError(`${file.source.name}: no vision transformer layers found`);
  const vHidden = file.info(oa ? "visual.transformer.resblocks.0.mlp.c_fc.weight" : "vision_model.encoder.layers.0.mlp.fc1.weight").shape[0];
  const E = oa ? file.info("visual.proj").shape[1] : file.info("visual_projection.weight").shape[0];
  const hasText = file.has(oa ? "ln_final.weight" : "text_model.final_layer_norm.weight");
  let text: ClipConfig["text"] = { width: 0, layers: 0, heads: 0, hidden: 0, context: 0, vocab: 0 };
  if (hasText) {
    const Wt = file.info(oa ? "ln_final.weight" : "text_model.final_layer_norm.weight").shape[0];
    const [V] = file.info(oa ? "token_embedding.weight" : "text_model.embeddings.token_embedding.weight").shape;
    const [C] = file.info(oa ? "positional_embedding" : "text_model.embeddings.position_embedding.weight").shape;
    const tHidden = tLayers ? file.info(oa ? "transformer.resblocks.0.mlp.c_fc.weight" : "text_model.encoder.layers.0.mlp.fc1.weight").shape[0] : 0;
    text = { width: Wt, layers: tLayers, heads: heads(Wt, hf?.text_config?.num_attention_heads, `${file.source.name} text tower`), hidden: tHidden, context: C, vocab: V };
  }
  return {
    vision: { width: W, layers: vLayers, heads: heads(W, hf?.vision_config?.num_attention_heads, `${file.source.name} vision tower`), hidden: vHidden, patch: P, grid: g, imageSize: g * P },
    text,
    embed: E,
    naming,
  };
}

async function openaiBlock(u: Uploader, prefix: string, t: TowerConfig): Promise<BlockWeights> {
  const { width: W, hidden: H } = t;
  const g = (n: string, s: number[]) => u.gpu(`${prefix}${n}`, s);
  return {
    ln1: [await g("ln_1.weight", [W]), await g("ln_1.bias", [W])],
    inProj: [await g("attn.in_proj_weight", [3 * W, W]), await g("attn.in_proj_bias", [3 * W])],
    outProj: [await g("attn.out_proj.weight", [W, W]), await g("attn.out_proj.bias", [W])],
    ln2: [await g("ln_2.weight", [W]), await g("ln_2.bias", [W])],
    fc: [await g("mlp.c_fc.weight", [H, W]), await g("mlp.c_fc.bias", [H])],
    proj: [await g("mlp.c_proj.weight", [W, H]), await g("mlp.c_proj.bias", [W])],
  };
}

async function hfBlock(u: Uploader, prefix: string, t: TowerConfig): Promise<BlockWeights> {
  const { width: W, hidden: H } = t;
  const g = (n: string, s: number[]) => u.gpu(`${prefix}${n}`, s);
  // q, k, v projections concatenated into CLIP's packed in_proj (rows q, k, v)
  const w = new Float32Array(3 * W * W);
  const b = new Float32Array(3 * W);
  for (const [i, n] of ["q_proj", "k_proj", "v_proj"].entries()) {
    w.set(await u.cpu(`${prefix}self_attn.${n}.weight`, [W, W]), i * W * W);
    b.set(await u.cpu(`${prefix}self_attn.${n}.bias`, [W]), i * W);
  }
  return {
    ln1: [await g("layer_norm1.weight", [W]), await g("layer_norm1.bias", [W])],
    inProj: [u.upload(w, [3 * W, W], `${prefix}in_proj`), u.upload(b, [3 * W], `${prefix}in_proj_bias`)],
    outProj: [await g("self_attn.out_proj.weight", [W, W]), await g("self_attn.out_proj.bias", [W])],
    ln2: [await g("layer_norm2.weight", [W]), await g("layer_norm2.bias", [W])],
    fc: [await g("mlp.fc1.weight", [H, W]), await g("mlp.fc1.bias", [H])],
    proj: [await g("mlp.fc2.weight", [W, H]), await g("mlp.fc2.bias", [W])],
  };
}

export interface LoadClipOptions {
  /** Load the text tower (default true). */
  text?: boolean;
  hfConfig?: HfConfig;
  /** Called after each tensor group with (done, total) layers. */
  onProgress?: (done: number, total: number) => void;
  /** Checked after each tensor group. */
  signal?: AbortSignal;
}

export async function loadClipWeights(rt: Runtime, file: SafetensorsFile, opts: LoadClipOptions = {}): Promise<ClipWeights> {
  const config = inferConfig(file, opts.hfConfig);
  const u = new Uploader(rt, file);
  const oa = config.naming === "openai";
  const v = config.vision;
  const { width: W, patch: P, grid: g } = v;
  const E = config.embed;
  const wantText = (opts.text ?? true) && config.text.layers > 0;
  const total = v.layers + (wantText ? config.text.layers : 0) + 2;
  let done = 0;
  const tick = () => {
    opts.signal?.throwIfAborted();
    opts.onProgress?.(++done, total);
  };

  const vb = oa ? "visual." : "vision_model.";
  const vision: VisionWeights = {
    conv: await u.gpu(oa ? "visual.conv1.weight" : "vision_model.embeddings.patch_embedding.weight", [W, 3, P, P]),
    classEmbedding: await u.gpu(oa ? "visual.class_embedding" : "vision_model.embeddings.class_embedding", [W]),
    positional: await u.cpu(oa ? "visual.positional_embedding" : "vision_model.embeddings.position_embedding.weight", [1 + g * g, W]),
    lnPre: [await u.gpu(oa ? "visual.ln_pre.weight" : "vision_model.pre_layrnorm.weight", [W]), await u.gpu(oa ? "visual.ln_pre.bias" : "vision_model.pre_layrnorm.bias", [W])],
    blocks: [],
    lnPost: [await u.gpu(oa ? "visual.ln_post.weight" : "vision_model.post_layernorm.weight", [W]), await u.gpu(oa ? "visual.ln_post.bias" : "vision_model.post_layernorm.bias", [W])],
    proj: oa ? await u.gpu("visual.proj", [W, E]) : u.upload(transpose(await u.cpu("visual_projection.weight", [E, W]), E, W), [W, E], "visual_projection"),
  };
  tick();
  for (let i = 0; i < v.layers; i++) {
    vision.blocks.push(oa ? await openaiBlock(u, `${vb}transformer.resblocks.${i}.`, v) : await hfBlock(u, `${vb}encoder.layers.${i}.`, v));
    tick();
  }
  const header = [...file.tensors.values()].map((t) => `${t.name}:${t.dtype}:${t.shape}:${t.offset}`).join(";");
  const fingerprint = await digest(`${file.source.size}|${header}|${u.samples.join(",")}`);
  let text: TextWeights | undefined;
  let textFingerprint: string | undefined;
  if (wantText) {
    const t = config.text;
    text = {
      tokenEmbedding: await u.gpu(oa ? "token_embedding.weight" : "text_model.embeddings.token_embedding.weight", [t.vocab, t.width]),
      positional: await u.gpu(oa ? "positional_embedding" : "text_model.embeddings.position_embedding.weight", [t.context, t.width]),
      blocks: [],
      lnFinal: [await u.gpu(oa ? "ln_final.weight" : "text_model.final_layer_norm.weight", [t.width]), await u.gpu(oa ? "ln_final.bias" : "text_model.final_layer_norm.bias", [t.width])],
      projection: oa ? await u.gpu("text_projection", [t.width, E]) : u.upload(transpose(await u.cpu("text_projection.weight", [E, t.width]), E, t.width), [t.width, E], "text_projection"),
    };
    tick();
    for (let i = 0; i < t.layers; i++) {
      text.blocks.push(oa ? await openaiBlock(u, `transformer.resblocks.${i}.`, t) : await hfBlock(u, `text_model.encoder.layers.${i}.`, t));
      tick();
    }
    textFingerprint = await digest(`${fingerprint}|${u.samples.join(",")}`);
  }
  return { config, vision, text, fingerprint, textFingerprint };
}

/** Every GPU tensor of the weights, for dispose(). */
export function clipTensors(w: ClipWeights): Tensor[] {
  const block = (b: BlockWeights) => [...b.ln1, ...b.inProj, ...b.outProj, ...b.ln2, ...b.fc, ...b.proj];
  const v = w.vision;
  const out = [v.conv, v.classEmbedding, ...v.lnPre, ...v.blocks.flatMap(block), ...v.lnPost, v.proj];
  if (w.text) out.push(w.text.tokenEmbedding, w.text.positional, ...w.text.blocks.flatMap(block), ...w.text.lnFinal, w.text.projection);
  return out;
}

async function digest(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}
