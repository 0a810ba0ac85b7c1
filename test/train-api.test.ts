// Training through the API (spec 9) on the synthetic inspection set: it must raise the
// zero-shot pixel AUROC of the untrained adapters (the direction is what is guarded), keep
// nothing on abort, and save a checkpoint this library loads back.
import { describe, expect, it } from "vitest";
import { auroc, ClipMPCAD, syntheticImage, type RgbPixels } from "../src/index.js";
import { gpu } from "./helpers/gpu.js";
import { sharedFile, VOCAB_GZ } from "./helpers/shared.js";

const DIR = "test/fixtures/model";
const SIZE = 56;
const pixels = (rgb: Uint8Array): RgbPixels => ({ width: SIZE, height: SIZE, rgb });
const maskPixels = (m: Uint8Array): RgbPixels => pixels(Uint8Array.from(Array.from(m).flatMap((v) => [v * 255, v * 255, v * 255])));

async function load() {
  // fixture case b: 4 layers, levels 2 and 4, S = 28, ImageNet normalisation, with a text tower
  const model = await ClipMPCAD.load({ clip: `${DIR}/clip-b.safetensors`, adapters: `${DIR}/adapters-b.safetensors`, vocab: sharedFile(VOCAB_GZ), imageSize: 28, levels: [2, 4], normalize: "imagenet", runtime: await gpu() });
  await model.setClass("fabric with defects");
  return model;
}

/** Zero-shot and combined pixel AUROC over test images (maps at the model's size, masks resized by nearest). */
async function pixelAuroc(model: ClipMPCAD, tests: { rgb: Uint8Array; mask: Uint8Array }[]) {
  const S = model.imageSize;
  const zero: number[] = [];
  const labels: number[] = [];
  for (const t of tests) {
    const p = await model.predict(pixels(t.rgb));
    zero.push(...p.mapZero!);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) labels.push(t.mask[Math.floor(((y + 0.5) * SIZE) / S) * SIZE + Math.floor(((x + 0.5) * SIZE) / S)]);
  }
  return auroc(zero, labels);
}

describe("ClipMPCAD.train", () => {
  it("raises the zero-shot pixel AUROC on the synthetic set", async () => {
    const model = await load();
    const abnormal = [0, 1].map((i) => syntheticImage(SIZE, true, 300 + i));
    const normal = [0, 1].map((i) => syntheticImage(SIZE, false, 400 + i));
    const tests = [...[0, 1, 2].map((i) => syntheticImage(SIZE, true, 500 + i)), ...[0, 1].map((i) => syntheticImage(SIZE, false, 600 + i))];
    await model.fit(normal.map((n) => pixels(n.rgb)));
    const before = await pixelAuroc(model, tests);
    const epochs: number[] = [];
    const r = await model.train({
      abnormal: abnormal.map((a) => ({ image: pixels(a.rgb), mask: maskPixels(a.mask) })),
      normal: normal.map((n) => pixels(n.rgb)),
      epochs: 4,
      augment: false,
      lr: 1e-2,
      onEpoch: (e) => void epochs.push(e.loss),
    });
    await model.fit(normal.map((n) => pixels(n.rgb)));
    const after = await pixelAuroc(model, tests);
    console.log(`zero-shot pixel AUROC ${before.toFixed(4)} -> ${after.toFixed(4)}; losses ${r.losses.map((l) => l.toFixed(4)).join(", ")}; ${r.seconds.toFixed(1)} s`);
    expect(r.task).toBe("segmentation");
    expect(r.images).toBe(4);
    expect(epochs).toEqual(r.losses);
    expect(after).toBeGreaterThan(before + 0.05);
    model.dispose();
  });

  it("an abort mid-training leaves the adapters and the memory bank as they were", async () => {
    const model = await load();
    const normal = [0, 1].map((i) => pixels(syntheticImage(SIZE, false, 410 + i).rgb));
    await model.fit(normal);
    const before = await model.saveAdapters();
    const ctrl = new AbortController();
    const steps: number[] = [];
    const run = model.train({
      normal,
      epochs: 2,
      augment: false,
      signal: ctrl.signal,
      onProgress: (d, t, stage) => {
        if (stage !== "train") return;
        steps.push(d);
        expect(t).toBe(4);
        if (d === 3) ctrl.abort(new Error("stop here"));
      },
    });
    await expect(run).rejects.toThrow(/stop here/);
    expect(steps).toEqual([1, 2, 3]);
    expect(await model.saveAdapters()).toEqual(before);
    expect((await model.predict(normal[0])).mapFew.length).toBe(28 * 28); // the bank is still there
    model.dispose();
  });

  it("classification without masks, on augmented shots; the saved checkpoint loads back", async () => {
    const model = await load();
    const bad = syntheticImage(SIZE, true, 320);
    await expect(model.train({ abnormal: [{ image: pixels(bad.rgb) }], task: "segmentation" })).rejects.toThrow(/abnormal shot 0 has no mask/);
    const r = await model.train({ abnormal: [{ image: pixels(bad.rgb) }], normal: [pixels(syntheticImage(SIZE, false, 420).rgb)], epochs: 1 });
    expect(r.task).toBe("classification");
    expect(r.images).toBe(22); // 2 shots x spec 7's 11 views
    expect(r.losses).toHaveLength(1);
    await expect(model.predict(pixels(bad.rgb))).rejects.toThrow(/fit/); // the old bank is gone
    const bytes = await model.saveAdapters();
    const again = await ClipMPCAD.load({ clip: `${DIR}/clip-b.safetensors`, adapters: bytes, imageSize: 28, levels: [2, 4], runtime: model.runtime });
    expect(await again.saveAdapters()).toEqual(bytes);
    again.dispose();
    model.dispose();
  });
});
