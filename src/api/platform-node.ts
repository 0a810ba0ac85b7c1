/** Node's platform for the API: strings are file paths (or http(s) URLs), images decode with pngjs/jpeg-js. */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { evaluateDataset } from "../eval/evaluate.js";
import { loadTokenizer } from "../tokenizer/load-node.js";
import { decodeImage, decodeImageFile, encodePng } from "../image/decode-node.js";
import { fileSource } from "../model/safetensors-node.js";
import { writeFileAtomic } from "../atomic-write.js";
import { browserPlatform, fromRgba, MODEL_FOLDER_NAMES, type Platform } from "./clipmpcad.js";

const isUrl = (s: string) => /^https?:\/\//i.test(s);

export const nodePlatform: Platform = {
  async source(src) {
    if (typeof src === "string" && !isUrl(src)) return fileSource(src);
    return browserPlatform.source(src);
  },
  async bytes(src) {
    if (typeof src === "string" && !isUrl(src)) return new Uint8Array(await readFile(src));
    return browserPlatform.bytes(src);
  },
  async decode(img) {
    if (typeof img === "string" && !isUrl(img)) return decodeImageFile(img);
    if (img instanceof Uint8Array || img instanceof ArrayBuffer) return decodeImage(img instanceof Uint8Array ? img : new Uint8Array(img));
    if (typeof img === "string" || img instanceof URL || img instanceof Blob) return decodeImage(await browserPlatform.bytes(img), String(img instanceof Blob ? "blob" : img));
    if ("rgb" in img) return img;
    if ("data" in img) return fromRgba(img.data, img.width, img.height);
    throw new Error("ImageBitmap inputs exist only in browsers: on Node give a path, bytes or RGB pixels");
  },
  async encodePng(rgba, width, height) {
    return encodePng(rgba, width, height);
  },
  async tokenizer(src) {
    if (typeof src === "string" && !isUrl(src)) return loadTokenizer(src);
    return browserPlatform.tokenizer(src);
  },
  evaluate: evaluateDataset,
  async modelFolder(dir) {
    if (isUrl(dir)) return browserPlatform.modelFolder(dir);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`model folder ${dir} does not exist`);
    const find = (names: readonly string[]) => names.map((n) => join(dir, n)).find((p) => existsSync(p));
    const clip = find(MODEL_FOLDER_NAMES.clip);
    const adapters = find(MODEL_FOLDER_NAMES.adapters);
    if (!clip) throw new Error(`model folder ${dir} holds no CLIP weights (${MODEL_FOLDER_NAMES.clip.join(" or ")}); \`clipmpcad-gpu download\` fetches them`);
    if (!adapters) throw new Error(`model folder ${dir} holds no ${MODEL_FOLDER_NAMES.adapters[0]} (ClipMPCAD adapters: convert a checkpoint with weights/convert.py, or pass adapters)`);
    const hasVocab = find(MODEL_FOLDER_NAMES.vocab) ?? (existsSync(join(dir, "vocab.json")) && existsSync(join(dir, "merges.txt")) ? dir : undefined);
    return { clip, adapters, vocab: hasVocab };
  },
};

/** Writes a detector file (ClipMPCAD.saveDetector) atomically: a temporary file, then a rename. */
export async function saveDetectorFile(det: { saveDetector(): Promise<Uint8Array> }, path: string): Promise<void> {
  writeFileAtomic(path, await det.saveDetector());
}
