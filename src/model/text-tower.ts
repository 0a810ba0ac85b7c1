/**
 * The CLIP text tower and the prompt-ensemble text features (spec 5.2). Sentences are
 * encoded in one batch, only up to the longest <|endoftext|> position: with the causal mask
 * later positions cannot change earlier ones, so the result is what the full 77 would give.
 */
import { add } from "../kernels/elementwise.js";
import { gatherRows } from "../kernels/gather.js";
import { layerNorm } from "../kernels/layernorm.js";
import { matmul } from "../kernels/matmul.js";
import { transpose } from "../kernels/permute.js";
import { rowNormalize } from "../kernels/reduce.js";
import { ShapeError } from "../runtime/errors.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import type { ClipTokenizer } from "../tokenizer/clip-tokenizer.js";
import type { ClipConfig, TextWeights } from "./clip-weights.js";
import { transformerBlock, type ClipActivation } from "./transformer-block.js";
import type { Progress } from "../runtime/progress.js";

export class TextTower {
  constructor(
    private readonly rt: Runtime,
    readonly config: ClipConfig,
    private readonly w: TextWeights,
    readonly activation: ClipActivation,
  ) {}

  /** Embeddings [n, E] (not normalised) of token ids [n, context] (Int32Array, row-major). */
  encode(ids: Int32Array, n: number): Tensor<"f32"> {
    const rt = this.rt;
    const { width: Wt, heads, context: C } = this.config.text;
    if (ids.length !== n * C) throw new ShapeError(`text encode: ${ids.length} ids for ${n} texts of context ${C}`);
    // <|endoftext|> is the highest id of each row; encode up to the last of them.
    const eot = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let t = 1; t < C; t++) if (ids[i * C + t] > ids[i * C + best]) best = t;
      eot[i] = best;
    }
    const L = Math.max(...eot) + 1;
    const cut = new Uint32Array(n * L);
    for (let i = 0; i < n; i++) cut.set(ids.subarray(i * C, i * C + L), i * L);
    const idT = rt.tensor(cut, [n * L], "u32", "token ids");
    const emb = gatherRows(rt, this.w.tokenEmbedding, idT, "token embeddings");
    const emb3 = emb.reshape([n, L, Wt]);
    const pos = this.w.positional.view([L, Wt]);
    const x3 = add(rt, emb3, pos);
    const x = x3.reshape([n * L, Wt]);
    for (const t of [idT, emb, emb3, pos, x3]) t.dispose();
    for (const b of this.w.blocks) transformerBlock(rt, x, b, { batch: n, tokens: L, heads, activation: this.activation, causal: true });
    const rows = rt.tensor(Uint32Array.from(eot, (e, i) => i * L + e), [n], "u32", "eot rows");
    const last = gatherRows(rt, x, rows, "eot tokens");
    const normed = layerNorm(rt, last, this.w.lnFinal[0], this.w.lnFinal[1], { label: "ln_final" });
    const out = matmul(rt, normed, this.w.projection, { label: "text embeddings" });
    for (const t of [x, rows, last, normed]) t.dispose();
    return out;
  }

  /**
   * text_features [E, 2]: for each state, the mean of its normalised sentence embeddings,
   * normalised (column 0 normal, column 1 abnormal). Sentences are encoded in chunks
   * (rows are independent, so chunking changes no number); between chunks the work is
   * submitted, progress reported and the signal checked.
   */
  async features(
    tokenizer: ClipTokenizer,
    sentences: { normal: string[]; abnormal: string[] },
    opts: { chunk?: number; signal?: AbortSignal; onProgress?: Progress } = {},
  ): Promise<Tensor<"f32">> {
    const rt = this.rt;
    const all = [...sentences.normal, ...sentences.abnormal];
    const n = all.length;
    const E = this.config.embed;
    const C = this.config.text.context;
    const ids = tokenizer.encodeBatch(all, { contextLength: C });
    const chunk = Math.max(1, opts.chunk ?? 128);
    const unit = rt.empty([n, E], "f32", "sentence embeddings");
    try {
      for (let at = 0; at < n; at += chunk) {
        opts.signal?.throwIfAborted();
        const m = Math.min(chunk, n - at);
        const emb = this.encode(ids.subarray(at * C, (at + m) * C), m);
        const dst = unit.view([m, E], at * E);
        rowNormalize(rt, emb, { eps: 1e-12, out: dst });
        emb.dispose();
        dst.dispose();
        if (opts.onProgress || opts.signal) {
          if (opts.onProgress) await rt.pipelinesReady((d, t) => opts.onProgress!(d, t, "compile shaders"));
          await rt.sync();
          opts.onProgress?.(at + m, n, "text features");
        }
      }
    } catch (e) {
      unit.dispose();
      throw e;
    }
    const nn = sentences.normal.length;
    const avg = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) avg[(i < nn ? 0 : 1) * n + i] = 1 / (i < nn ? nn : n - nn);
    const avgT = rt.tensor(avg, [2, n], "f32", "state means");
    const mean = matmul(rt, avgT, unit, { label: "state means" });
    const states = rowNormalize(rt, mean, { eps: 1e-12 });
    const out = transpose(rt, states, "text_features");
    for (const t of [unit, avgT, mean, states]) t.dispose();
    return out;
  }
}
