/** Node's platform for the API: strings are file paths (or http(s) URLs), images decode with pngjs/jpeg-js. */
import { readFile } from "node:fs/promises";
import { decodeImage, decodeImageFile } from "../image/decode-node.js";
import { fileSource } from "../model/safetensors-node.js";
import { browserPlatform, fromRgba, type Platform } from "./clipmpcad.js";

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
    if (typeof img === "string") return decodeImageFile(img);
    if (img instanceof Uint8Array || img instanceof ArrayBuffer) return decodeImage(img instanceof Uint8Array ? img : new Uint8Array(img));
    if ("rgb" in img) return img;
    return fromRgba(img.data, img.width, img.height);
  },
};

/** Writes a detector file (ClipMPCAD.saveDetector) atomically: a temporary file, then a rename. */
export async function saveDetectorFile(det: { saveDetector(): Promise<Uint8Array> }, path: string): Promise<void> {
  const { rename, writeFile } = await import("node:fs/promises");
  await writeFile(`${path}.tmp`, await det.saveDetector());
  await rename(`${path}.tmp`, path);
}
