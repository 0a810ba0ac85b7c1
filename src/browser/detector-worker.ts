/**
 * The detector in a Web Worker (dist/worker.js): the page stays responsive while the GPU
 * work and its read-backs run here. One ClipMPCAD per worker; see worker-protocol.ts for
 * the messages and worker-client.ts for the page's side.
 */
import { browserPlatform, ClipMPCAD, MODEL_FOLDER_NAMES, type ImageInput } from "../api/clipmpcad.js";
import { SafetensorsFile, blobSource, bytesSource } from "../model/safetensors.js";
import { traceModel, type TracePixels } from "../model/trace-core.js";
import type { LongRunning } from "../runtime/progress.js";
import { createRuntime } from "../runtime/runtime.js";
import { tokenizerFromFile } from "../tokenizer/vocab.js";
import { cachedFile } from "./model-cache.js";
import { storeDetector, storedDetector } from "./private-store.js";
import type { WorkerOp, WorkerOps, WorkerReply, WorkerRequest, WorkerSource } from "./worker-protocol.js";

declare const self: { postMessage(m: WorkerReply, transfer?: Transferable[]): void; onmessage: ((ev: MessageEvent<WorkerRequest>) => void) | null };

let det: ClipMPCAD | null = null;
const controllers = new Map<number, AbortController>();

function need(): ClipMPCAD {
  if (!det) throw new Error("no model in the worker: call load() or random() first");
  return det;
}

/** URLs go through the model cache (progress, Cache API); Blobs and bytes as they are. */
async function resolve(src: WorkerSource, run: LongRunning & { cache?: boolean }): Promise<Blob | Uint8Array | ArrayBuffer> {
  return typeof src === "string" ? cachedFile(new URL(src, location.href).href, run) : src;
}

async function replace(next: ClipMPCAD) {
  det?.dispose();
  det = next;
  return { imageSize: next.imageSize, canZeroShot: next.canZeroShot, adapter: `${next.runtime.adapter.vendor} ${next.runtime.adapter.architecture}`.trim() };
}

const images = (list: ImageInput[]) => list.map((i) => (typeof i === "string" ? new URL(i, location.href).href : i));

type Handlers = { [K in WorkerOp]: (args: WorkerOps[K][0], run: LongRunning) => Promise<WorkerOps[K][1]> };

const handlers: Handlers = {
  async load(a, run) {
    const base = a.model?.replace(/\/+$/, "");
    const clip = a.clip ?? (base && `${base}/${MODEL_FOLDER_NAMES.clip[0]}`);
    const adapters = a.adapters ?? (base && `${base}/${MODEL_FOLDER_NAMES.adapters[0]}`);
    if (!clip || !adapters) throw new Error("load needs clip and adapters, or model (a base URL holding clip.safetensors and adapters.safetensors)");
    const opts = { ...run, cache: a.cache };
    const vocab = a.vocab ?? (base ? `${base}/${MODEL_FOLDER_NAMES.vocab[0]}` : undefined);
    return replace(
      await ClipMPCAD.load({
        clip: await resolve(clip, opts),
        adapters: await resolve(adapters, opts),
        vocab: vocab === undefined ? undefined : await resolve(vocab, opts),
        imageSize: a.imageSize,
        levels: a.levels,
        normalize: a.normalize,
        ...run,
      }),
    );
  },
  async random(a) {
    return replace(await ClipMPCAD.random({ seed: a.seed, imageSize: a.imageSize }));
  },
  async setClass(a, run) {
    await need().setClass(a.name, { prompts: a.prompts, ...run });
  },
  async fit(a, run) {
    await need().fit(images(a.images), { augment: a.augment, ...run });
  },
  async predict(a, run) {
    return need().predict(typeof a.image === "string" ? new URL(a.image, location.href).href : a.image, { explain: a.explain, ...run });
  },
  async heatmap(a) {
    return need().heatmap(images([a.image])[0] as Exclude<ImageInput, { shape: unknown }>, a.map, { range: a.range });
  },
  async calibrate(a, run) {
    return need().calibrate(images(a.normal), { targetFpr: a.targetFpr, anomalous: a.anomalous && images(a.anomalous), ...run });
  },
  async train(a, run) {
    const one = (i: ImageInput) => images([i])[0];
    return need().train({
      ...a,
      abnormal: a.abnormal?.map((s) => ({ image: one(s.image), mask: s.mask === undefined ? undefined : (one(s.mask) as Exclude<ImageInput, { shape: unknown }>) })),
      normal: a.normal && images(a.normal),
      ...run,
    });
  },
  async saveAdapters() {
    return need().saveAdapters();
  },
  async saveDetector(a) {
    const bytes = await need().saveDetector();
    if (a.store) await storeDetector(a.store, bytes);
    return bytes;
  },
  async loadDetector(a, run) {
    const opts = { ...run, cache: a.cache };
    const detector = typeof a.detector === "object" && "stored" in a.detector ? await storedDetector(a.detector.stored) : await resolve(a.detector as WorkerSource, opts);
    const next = await ClipMPCAD.loadDetector({ clip: await resolve(a.clip, opts), adapters: await resolve(a.adapters, opts), detector });
    await replace(next);
    return { imageSize: next.imageSize, threshold: next.threshold, className: next.className };
  },
  async trace(a, run) {
    const open = async (src: WorkerSource) => {
      const r = await resolve(src, run);
      return SafetensorsFile.open(r instanceof Blob ? blobSource(r, typeof src === "string" ? src : "blob") : bytesSource(r));
    };
    const tokenizer = await tokenizerFromFile(await browserPlatform.bytes(await resolve(a.vocab, run)), typeof a.vocab === "string" ? a.vocab : "vocab");
    const decode = async (list: ImageInput[]): Promise<TracePixels[]> => Promise.all(images(list).map((i) => handlers.decode({ image: i }, run)));
    const rt = await createRuntime();
    try {
      const [clip, adapters] = [await open(a.clip), await open(a.adapters)];
      return await traceModel(rt, { clip, adapters, tokenizer, className: a.className, imageSize: a.imageSize, levels: a.levels, normalize: a.normalize, support: await decode(a.support), query: await decode(a.query) });
    } finally {
      rt.dispose();
    }
  },
  async decode(a) {
    return browserPlatform.decode(a.image as Exclude<ImageInput, { shape: unknown }>);
  },
  async dispose() {
    det?.dispose();
    det = null;
  },
};

/** The buffers of typed arrays in a result, to transfer rather than copy. */
function buffersOf(v: unknown, out: Transferable[] = [], depth = 0): Transferable[] {
  if (depth > 4 || v === null || typeof v !== "object") return out;
  if (ArrayBuffer.isView(v)) {
    if (v.buffer instanceof ArrayBuffer && !out.includes(v.buffer)) out.push(v.buffer);
    return out;
  }
  for (const x of Object.values(v)) buffersOf(x, out, depth + 1);
  return out;
}

self.onmessage = async (ev) => {
  const msg = ev.data;
  if (msg.op === "abort") {
    controllers.get(msg.args.id)?.abort(new Error("cancelled"));
    return;
  }
  const ctl = new AbortController();
  controllers.set(msg.id, ctl);
  const run: LongRunning = { signal: ctl.signal, onProgress: (done, total, stage) => self.postMessage({ id: msg.id, progress: { done, total, stage } }) };
  try {
    const result = await (handlers[msg.op] as (a: unknown, r: LongRunning) => Promise<unknown>)(msg.args, run);
    try {
      self.postMessage({ id: msg.id, ok: true, result }, buffersOf(result));
    } catch {
      self.postMessage({ id: msg.id, ok: true, result }); // a buffer that cannot move: copy it
    }
  } catch (e) {
    const err = e as Error;
    self.postMessage({ id: msg.id, ok: false, error: { name: err?.name ?? "Error", message: err?.message ?? String(e) } });
  } finally {
    controllers.delete(msg.id);
  }
};
