/**
 * Messages between the page and the detector worker (detector-worker.ts). Every request has
 * an id; the worker answers with progress messages and then one result or error. Images,
 * maps and bytes travel by structured clone (typed arrays' buffers are transferred back).
 */
import type { Calibration, FloatImage, ImageInput, Prediction, RgbPixels, TrainResult } from "../api/clipmpcad.js";
import type { TrainTask } from "../model/adapter-training.js";
import type { WritableTensor } from "../model/safetensors.js";
import type { PromptSet } from "../tokenizer/prompts.js";

/** A weights file for the worker: a URL (fetched through the model cache), a Blob, or bytes. */
export type WorkerSource = string | Blob | ArrayBuffer | Uint8Array;
/** Images that can cross to a worker: no paths, no ImageData methods needed. */
export type WorkerImage = Exclude<ImageInput, string> | string;

export interface WorkerLoadOptions {
  /** A base URL with clip.safetensors, adapters.safetensors and optionally the vocabulary. */
  model?: string;
  clip?: WorkerSource;
  adapters?: WorkerSource;
  vocab?: WorkerSource;
  imageSize?: number;
  levels?: number[];
  normalize?: "none" | "imagenet" | "clip";
  /** Keep downloaded weights in the Cache API (default true). */
  cache?: boolean;
}

export interface WorkerTraceOptions {
  clip: WorkerSource;
  adapters: WorkerSource;
  vocab: WorkerSource;
  className: string;
  imageSize?: number;
  levels?: number[];
  normalize?: "none" | "imagenet" | "clip";
  support: WorkerImage[];
  query: WorkerImage[];
}

/** ClipMPCAD.train's options that can cross to a worker (per-epoch losses come back in the result). */
export interface WorkerTrainOptions {
  abnormal?: { image: WorkerImage; mask?: WorkerImage }[];
  normal?: WorkerImage[];
  epochs?: number;
  task?: TrainTask;
  augment?: boolean;
  seed?: number;
  lr?: number;
}

export interface WorkerOps {
  load: [WorkerLoadOptions, { imageSize: number; canZeroShot: boolean; adapter: string }];
  random: [{ seed?: number; imageSize?: number }, { imageSize: number; canZeroShot: boolean; adapter: string }];
  setClass: [{ name: string; prompts?: PromptSet }, void];
  fit: [{ images: WorkerImage[]; augment?: boolean }, void];
  predict: [{ image: WorkerImage | FloatImage; explain?: boolean }, Prediction];
  heatmap: [{ image: WorkerImage; map: Float32Array; range?: [number, number] }, { width: number; height: number; rgba: Uint8Array; png: Uint8Array }];
  calibrate: [{ normal: WorkerImage[]; targetFpr?: number; anomalous?: WorkerImage[] }, Calibration];
  /** Trains the adapters in the worker (images never leave the machine); progress stage "train". */
  train: [WorkerTrainOptions, TrainResult];
  /** The adapters as a checkpoint (safetensors bytes, the official key layout). */
  saveAdapters: [Record<string, never>, Uint8Array];
  /** The detector file; with store, also kept in the origin private file system under that name. */
  saveDetector: [{ store?: string }, Uint8Array];
  /** detector: bytes/Blob/URL, or { stored: name } from the private store. */
  loadDetector: [{ clip: WorkerSource; adapters: WorkerSource; detector: WorkerSource | { stored: string }; cache?: boolean }, { imageSize: number; threshold: number | null; className: string | null }];
  trace: [WorkerTraceOptions, Record<string, WritableTensor>];
  /** Decoded pixels of an image as the worker sees them (for drawing). */
  decode: [{ image: WorkerImage }, RgbPixels];
  dispose: [Record<string, never>, void];
}

export type WorkerOp = keyof WorkerOps;

export type WorkerRequest = { [K in WorkerOp]: { id: number; op: K; args: WorkerOps[K][0] } }[WorkerOp] | { id: number; op: "abort"; args: { id: number } };

export type WorkerReply =
  | { id: number; progress: { done: number; total: number; stage: string } }
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string } };
