/**
 * The page's side of the detector worker: promise-returning calls that mirror ClipMPCAD,
 * with progress callbacks and AbortSignal cancellation per call.
 *
 *   const w = DetectorWorker.create();               // dist/worker.js beside dist/browser.js
 *   await w.load({ model: "https://example.org/clipmpcad/" }, { onProgress });
 *   await w.fit(files);                               // File/Blob/ImageBitmap/ImageData
 *   const p = await w.predict(query);
 */
import type { Calibration, FloatImage, Prediction, RgbPixels, TrainResult } from "../api/clipmpcad.js";
import type { WritableTensor } from "../model/safetensors.js";
import type { LongRunning } from "../runtime/progress.js";
import type { PromptSet } from "../tokenizer/prompts.js";
import type { WorkerImage, WorkerLoadOptions, WorkerOp, WorkerOps, WorkerReply, WorkerRequest, WorkerSource, WorkerTraceOptions, WorkerTrainOptions } from "./worker-protocol.js";

export class WorkerCallError extends Error {
  constructor(
    readonly op: string,
    readonly remoteName: string,
    message: string,
  ) {
    super(`${op}: ${remoteName === "Error" ? "" : `${remoteName}: `}${message}`);
    this.name = "WorkerCallError";
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?: LongRunning["onProgress"];
}

export class DetectorWorker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(readonly worker: Worker) {
    worker.onmessage = (ev: MessageEvent<WorkerReply>) => {
      const m = ev.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      if ("progress" in m) return p.onProgress?.(m.progress.done, m.progress.total, m.progress.stage);
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new WorkerCallError("worker", m.error.name, m.error.message));
    };
    worker.onerror = (ev) => {
      const err = new Error(`the detector worker failed: ${ev.message || "it could not start (is dist/worker.js served beside dist/browser.js?)"}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  /** A module worker from dist/worker.js (by default the file beside this bundle). */
  static create(url: string | URL = new URL("./worker.js", import.meta.url)): DetectorWorker {
    return new DetectorWorker(new Worker(url, { type: "module", name: "clipmpcad-gpu" }));
  }

  call<K extends WorkerOp>(op: K, args: WorkerOps[K][0], run: LongRunning = {}): Promise<WorkerOps[K][1]> {
    const id = this.nextId++;
    run.signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject: (e) => reject(new WorkerCallError(op, (e as WorkerCallError).remoteName ?? e.name, e.message.replace(/^worker: /, ""))), onProgress: run.onProgress });
      run.signal?.addEventListener("abort", () => this.worker.postMessage({ id: this.nextId++, op: "abort", args: { id } } satisfies WorkerRequest), { once: true });
      this.worker.postMessage({ id, op, args } as WorkerRequest);
    });
  }

  load(o: WorkerLoadOptions, run?: LongRunning) {
    return this.call("load", o, run);
  }
  /** The small random demo model (no weights needed). */
  random(o: { seed?: number; imageSize?: number } = {}, run?: LongRunning) {
    return this.call("random", o, run);
  }
  setClass(name: string, o: { prompts?: PromptSet } = {}, run?: LongRunning): Promise<void> {
    return this.call("setClass", { name, prompts: o.prompts }, run);
  }
  fit(images: WorkerImage[], o: { augment?: boolean } = {}, run?: LongRunning): Promise<void> {
    return this.call("fit", { images, augment: o.augment }, run);
  }
  predict(image: WorkerImage | FloatImage, o: { explain?: boolean } = {}, run?: LongRunning): Promise<Prediction> {
    return this.call("predict", { image, explain: o.explain }, run);
  }
  heatmap(image: WorkerImage, map: Float32Array, o: { range?: [number, number] } = {}) {
    return this.call("heatmap", { image, map, range: o.range });
  }
  calibrate(normal: WorkerImage[], o: { targetFpr?: number; anomalous?: WorkerImage[] } = {}, run?: LongRunning): Promise<Calibration> {
    return this.call("calibrate", { normal, ...o }, run);
  }
  /** Trains the adapters in the worker (ClipMPCAD.train; call fit again afterwards). */
  train(o: WorkerTrainOptions, run?: LongRunning): Promise<TrainResult> {
    return this.call("train", o, run);
  }
  /** The adapters as a safetensors checkpoint. */
  saveAdapters(): Promise<Uint8Array> {
    return this.call("saveAdapters", {});
  }
  /** The detector file's bytes; with store, also kept privately in this origin's file system. */
  saveDetector(o: { store?: string } = {}): Promise<Uint8Array> {
    return this.call("saveDetector", o);
  }
  loadDetector(o: { clip: WorkerSource; adapters: WorkerSource; detector: WorkerSource | { stored: string }; cache?: boolean }, run?: LongRunning) {
    return this.call("loadDetector", o, run);
  }
  trace(o: WorkerTraceOptions, run?: LongRunning): Promise<Record<string, WritableTensor>> {
    return this.call("trace", o, run);
  }
  decode(image: WorkerImage): Promise<RgbPixels> {
    return this.call("decode", { image });
  }
  /** Frees the model's GPU memory; the worker stays. */
  dispose(): Promise<void> {
    return this.call("dispose", {});
  }
  terminate(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error("the detector worker was terminated"));
    this.pending.clear();
  }
}
