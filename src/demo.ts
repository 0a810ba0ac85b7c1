/**
 * The built-in demo: a small deterministic random CLIP with adapters, built in memory; a
 * synthetic inspection set (textures with drawn defects and masks); few-shot detection from
 * k normal shots through the memory bank; image and pixel AUROC; heatmap overlays. No
 * weights or data are downloaded. With random weights only the memory bank means anything:
 * real CLIP weights and trained adapters add the zero-shot maps and much better features.
 */
import { mkdir } from "node:fs/promises";
import { writeFileAtomic } from "./atomic-write.js";
import { join } from "node:path";
import { ClipMPCAD } from "./api/clipmpcad.js";
import { auroc } from "./eval/metrics.js";
import { syntheticSet } from "./eval/synthetic.js";
import { encodePng } from "./image/decode-node.js";
import { heatmapOverlay } from "./image/heatmap.js";
import type { Runtime } from "./runtime/runtime.js";

export interface DemoOptions {
  /** Where overlays go; none written when omitted. */
  outDir?: string;
  shots?: number;
  /** Test images per class (normal and anomalous). */
  tests?: number;
  size?: number;
  runtime?: Runtime;
  log?: (line: string) => void;
}

export interface DemoResult {
  imageAuroc: number;
  pixelAuroc: number;
  overlays: string[];
  seconds: number;
}

export async function runDemo(o: DemoOptions = {}): Promise<DemoResult> {
  const log = o.log ?? (() => {});
  const size = o.size ?? 64;
  const shots = o.shots ?? 4;
  const t0 = performance.now();
  const { support, test } = syntheticSet(size, shots, o.tests ?? 6);
  const model = await ClipMPCAD.random({ imageSize: size, runtime: o.runtime });
  try {
    log(`model: random CLIP (width ${model.model.config.vision.width}, ${model.model.config.vision.layers} layers, patch ${model.model.config.vision.patch}), adapters at levels ${model.model.levels.join(", ")}, image size ${size}`);
    log(`data: synthetic textures, ${shots} normal shots, ${test.length} test images (${test.filter((t) => t.anomalous).length} with drawn defects)`);
    const px = (s: { rgb: Uint8Array }) => ({ width: size, height: size, rgb: s.rgb });
    await model.fit(support.map(px));
    log(`memory bank: ${shots} shots x 11 augmentations`);
    const preds = await model.predictBatch(test.map(px));
    const pixelScores = new Float32Array(test.length * size * size);
    const pixelLabels = new Uint8Array(test.length * size * size);
    preds.forEach((p, i) => {
      pixelScores.set(p.map, i * size * size);
      pixelLabels.set(test[i].mask, i * size * size);
    });
    const imageAuroc = auroc(preds.map((p) => Math.max(...p.map)), test.map((t) => (t.anomalous ? 1 : 0)));
    const pixelAuroc = auroc(pixelScores, pixelLabels);
    const overlays: string[] = [];
    if (o.outDir) {
      await mkdir(o.outDir, { recursive: true });
      // one colour scale for the whole set: per-image scaling makes good images look anomalous
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of pixelScores) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      for (let i = 0; i < Math.min(test.length, 6); i++) {
        const rgba = heatmapOverlay(test[i].rgb, preds[i].map, size, { range: [lo, hi] });
        const path = join(o.outDir, `${String(i).padStart(2, "0")}-${test[i].anomalous ? "defect" : "good"}.png`);
        writeFileAtomic(path, encodePng(rgba, size, size));
        overlays.push(path);
      }
    }
    return { imageAuroc, pixelAuroc, overlays, seconds: (performance.now() - t0) / 1000 };
  } finally {
    model.dispose();
  }
}
