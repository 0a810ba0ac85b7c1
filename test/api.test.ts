import { describe, expect, it } from "vitest";
import { ClipMPCAD, f1Threshold, randomCheckpoints, syntheticSet } from "../src/index.js";
import { gpu } from "./helpers/gpu.js";

const SIZE = 32;
const shape = { width: 64, layers: 2, embed: 32, patch: 8, grid: 4, levels: 2 };

describe("ClipMPCAD API", () => {
  it("fit, predict, calibrate (FPR and F1), save and load a detector that predicts the same", async () => {
    const rt = await gpu();
    const { clip, adapters } = randomCheckpoints(shape, 5);
    const det = await ClipMPCAD.load({ clip, adapters, imageSize: SIZE, levels: [1, 2], runtime: rt });
    const set = syntheticSet(SIZE, 3, 4, 9);
    const px = (s: { rgb: Uint8Array }) => ({ width: SIZE, height: SIZE, rgb: s.rgb });
    await expect(det.predict(px(set.test[0]))).rejects.toThrow(/call fit\(normalImages\) before predict/);
    await det.fit(set.support.map(px));
    const normals = set.test.filter((t) => !t.anomalous).map(px);
    const bad = set.test.filter((t) => t.anomalous).map(px);
    const fpr = await det.calibrate(normals, { targetFpr: 0.25 });
    const nScores = (await det.predictBatch(normals)).map((p) => p.score);
    expect(nScores.filter((s) => s > fpr.threshold).length).toBeLessThanOrEqual(1); // 25% of 4
    const f1 = await det.calibrate(normals, { anomalous: bad });
    expect(f1.rule).toBe("f1");
    const preds = await det.predictBatch([...normals, ...bad]);
    expect(preds.every((p) => typeof p.isAnomalous === "boolean")).toBe(true);
    // 3 shots: leave-one-out statistics give z-scored maps; defects stand out more than normals
    expect(det.supportStats!.std).toBeGreaterThan(0);
    const z = preds.map((p) => p.scoreScaled!);
    expect(Math.max(...z.slice(0, 4))).toBeLessThan(Math.max(...z.slice(4)));
    const bytes = await det.saveDetector();
    const again = await ClipMPCAD.loadDetector({ clip, adapters, detector: bytes, runtime: rt });
    expect(again.threshold).toBe(det.threshold);
    const p2 = await again.predictBatch([...normals, ...bad]);
    p2.forEach((p, i) => {
      expect(p.score).toBe(preds[i].score);
      expect(p.isAnomalous).toBe(preds[i].isAnomalous);
    });
    const other = randomCheckpoints(shape, 6);
    await expect(ClipMPCAD.loadDetector({ clip: other.clip, adapters, detector: bytes, runtime: rt })).rejects.toThrow(/was built with other CLIP weights/);
    again.dispose();
    det.dispose();
  });

  it("leave-one-out support maps equal predicting each shot against the other shots' bank", async () => {
    const rt = await gpu();
    const { clip, adapters } = randomCheckpoints(shape, 7);
    const det = await ClipMPCAD.load({ clip, adapters, imageSize: SIZE, levels: [1, 2], runtime: rt });
    const set = syntheticSet(SIZE, 2, 1, 11);
    const imgs = await det.images(set.support.map((s) => ({ width: SIZE, height: SIZE, rgb: s.rgb })));
    const both = det.model.buildMemory(imgs);
    const loo = await det.model.leaveOneOutMaps(both).read();
    const shot1 = imgs.slice(1, 1);
    const onlyOne = det.model.buildMemory(shot1);
    const shot0 = imgs.slice(0, 1);
    const v = det.model.forward(shot0);
    const seg = v.seg.map((t) => t.at(0));
    const detT = v.det.map((t) => t.at(0));
    const h = det.model.heads(seg, detT, null, onlyOne);
    expect(Array.from(await h.segMapFew.read())).toEqual(Array.from(loo.subarray(0, SIZE * SIZE)));
    for (const t of [imgs, shot1, shot0, ...seg, ...detT, ...v.seg, ...v.det, ...both.seg, ...both.det, ...onlyOne.seg, ...onlyOne.det, h.segMapFew, h.detScoreFew]) t.dispose();
    det.dispose();
  });

  it("F1-max picks the threshold that separates best", () => {
    const t = f1Threshold([0.1, 0.2, 0.3], [0.25, 0.8, 0.9]);
    expect(t.f1).toBeCloseTo(2 * 3 / (2 * 3 + 1), 10); // flag >= 0.25: tp 3, fp 1 (0.3)
    expect(t.threshold).toBeGreaterThan(0.2);
    expect(t.threshold).toBeLessThan(0.25);
  });
});

describe("ClipMPCAD.load from a model folder", () => {
  it("takes a downloaded Hugging Face folder (model.safetensors, vocab.json + merges.txt) with adapters beside", async () => {
    const { mkdtempSync, copyFileSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { tokenizerFromBpe } = await import("../src/index.js");
    const { gunzipSync } = await import("node:zlib");
    const { readFileSync } = await import("node:fs");
    const { sharedFile, VOCAB_GZ } = await import("./helpers/shared.js");
    const rt = await gpu();
    const dir = mkdtempSync(join(tmpdir(), "model-"));
    copyFileSync("test/fixtures/model/clip-b.safetensors", join(dir, "model.safetensors")); // case b: HF names
    await expect(ClipMPCAD.load({ model: dir, runtime: rt })).rejects.toThrow(/holds no adapters.safetensors/);
    copyFileSync("test/fixtures/model/adapters-b.safetensors", join(dir, "adapters.safetensors"));
    const noVocab = await ClipMPCAD.load({ model: dir, imageSize: 28, levels: [2, 4], runtime: rt });
    expect(noVocab.canZeroShot).toBe(false);
    noVocab.dispose();
    // the HF tokenizer files, written from the OpenAI vocabulary
    const text = gunzipSync(readFileSync(sharedFile(VOCAB_GZ))).toString("utf8");
    const tok = await tokenizerFromBpe(text);
    const vocab: Record<string, number> = {};
    for (let id = 0; id < tok.vocabSize; id++) vocab[tok.decodeToken(id)] = id;
    writeFileSync(join(dir, "vocab.json"), JSON.stringify(vocab));
    writeFileSync(join(dir, "merges.txt"), `#version: 0.2\n${text.split("\n").slice(1, 1 + 48894).join("\n")}\n`);
    const det = await ClipMPCAD.load({ model: dir, imageSize: 28, levels: [2, 4], runtime: rt });
    expect(det.canZeroShot).toBe(true);
    // progress in sentences, in chunks; a cancelled setClass keeps the class it had
    const seen: string[] = [];
    await det.setClass("Brain", { onProgress: (d, t, stage) => seen.push(`${stage} ${d}/${t}`) });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen[seen.length - 1]).toMatch(/^text features (\d+)\/\1$/);
    const ctl = new AbortController();
    ctl.abort(new Error("stop"));
    await expect(det.setClass("Liver", { signal: ctl.signal })).rejects.toThrow("stop");
    expect(det.className).toBe("Brain");
    det.dispose();
    await expect(ClipMPCAD.load({ model: join(dir, "nope"), runtime: rt })).rejects.toThrow(/model folder .*nope does not exist/);
  });
});

describe("random checkpoints with a text tower", () => {
  it("load with the CLIP vocabulary and give zero-shot maps", async () => {
    const { sharedFile, VOCAB_GZ } = await import("./helpers/shared.js");
    const rt = await gpu();
    const { clip, adapters } = randomCheckpoints({ ...shape, text: { width: 64, layers: 1 } }, 3);
    const det = await ClipMPCAD.load({ clip, adapters, vocab: sharedFile(VOCAB_GZ), imageSize: SIZE, levels: [1, 2], runtime: rt });
    expect(det.canZeroShot).toBe(true);
    await det.setClass("bottle");
    const set = syntheticSet(SIZE, 1, 1, 5);
    await det.fit([{ width: SIZE, height: SIZE, rgb: set.support[0].rgb }]);
    const p = await det.predict({ width: SIZE, height: SIZE, rgb: set.test[0].rgb });
    expect(p.mapZero).not.toBeNull();
    expect(Number.isFinite(p.scoreZero!)).toBe(true);
    det.dispose();
  });
});

describe("explanations", () => {
  it("names the nearest normal patch and each level's share at the hottest pixel", async () => {
    const { AUGMENTATION_NAMES, SafetensorsFile, bytesSource } = await import("../src/index.js");
    const rt = await gpu();
    const { clip, adapters } = randomCheckpoints(shape, 9);
    const det = await ClipMPCAD.load({ clip, adapters, imageSize: SIZE, levels: [1, 2], runtime: rt });
    const set = syntheticSet(SIZE, 3, 2, 21);
    const px = (s: { rgb: Uint8Array }) => ({ width: SIZE, height: SIZE, rgb: s.rgb });
    await det.fit(set.support.map(px));
    // a query that is support shot 1 itself: every patch finds itself, unaugmented
    const self = (await det.predict(px(set.support[1]), { explain: true })).explanation!;
    for (const l of self.levels) {
      expect(l.nearest).toMatchObject({ shot: 1, augmentation: "original", row: self.patch.row, col: self.patch.col });
      expect(l.fewShot).toBeLessThan(1e-5);
      expect(l.zeroShot).toBeNull();
    }
    // an anomalous query: the hottest pixel is the map's maximum; the nearest patch is the
    // most similar row of the bank (checked on the CPU against the detector file's bank)
    const bad = set.test.find((t) => t.anomalous)!;
    const p = await det.predict(px(bad), { explain: true });
    const e = p.explanation!;
    expect(p.map[e.y * SIZE + e.x]).toBe(Math.max(...p.map));
    expect(e.drivingLevel).toBe(e.levels.reduce((a, b) => (b.contribution > a.contribution ? b : a)).level);
    const file = await SafetensorsFile.open(bytesSource(await det.saveDetector()));
    const T = shape.grid * shape.grid + 1;
    const E = shape.embed;
    const img = await det.images([px(bad)]);
    const v = det.model.forward(img);
    for (let j = 0; j < 2; j++) {
      const bank = await file.read(`memory.seg.${j}`);
      const tokens = await v.seg[j].read();
      const q = tokens.subarray((1 + e.patch.row * shape.grid + e.patch.col) * E, (2 + e.patch.row * shape.grid + e.patch.col) * E);
      const qn = Math.hypot(...q);
      let best = -Infinity;
      let arg = -1;
      for (let r = 0; r < bank.length / E; r++) {
        let dot = 0;
        for (let c = 0; c < E; c++) dot += q[c] * bank[r * E + c];
        if (dot / qn > best) [best, arg] = [dot / qn, r];
      }
      const n = e.levels[j].nearest;
      const tok = n.row === null ? 0 : 1 + n.row * shape.grid + n.col!;
      expect(n.augmentation).toBe(AUGMENTATION_NAMES[Math.floor((arg % (11 * T)) / T)]);
      expect(arg % T).toBe(tok);
      expect(Math.floor(arg / (11 * T))).toBe(n.shot);
      expect(n.similarity).toBeCloseTo(best, 5);
      expect(e.levels[j].fewShot).toBeCloseTo(1 - best, 5);
    }
    for (const t of [img, ...v.seg, ...v.det]) t.dispose();
    det.dispose();
  });
});

describe("inputs, banks and heatmaps", () => {
  it("takes float model inputs as given, builds an unaugmented bank on request, draws heatmaps", async () => {
    const { decodeImage } = await import("../src/index.js");
    const rt = await gpu();
    const { clip, adapters } = randomCheckpoints(shape, 12);
    const det = await ClipMPCAD.load({ clip, adapters, imageSize: SIZE, levels: [1, 2], runtime: rt });
    const set = syntheticSet(SIZE, 2, 2, 4);
    const px = (s: { rgb: Uint8Array }) => ({ width: SIZE, height: SIZE, rgb: s.rgb });
    await det.fit(set.support.map(px), { augment: false });
    const bad = set.test.find((t) => t.anomalous)!;
    const asPixels = await det.predict(px(bad), { explain: true });
    expect(asPixels.explanation!.levels.every((l) => l.nearest.augmentation === "original")).toBe(true);
    const input = await det.images([px(bad)]);
    const floats = { data: (await input.read()) as Float32Array, shape: [3, SIZE, SIZE] as const };
    input.dispose();
    const asFloats = await det.predict(floats);
    expect(asFloats.score).toBe(asPixels.score);
    await expect(det.predict({ data: new Float32Array(3 * 8 * 8), shape: [3, 8, 8] })).rejects.toThrow(/must be \[3, 32, 32\]/);
    // 2 shots x 1 view x 17 tokens per level, against 11 views when augmented
    expect((await det.saveDetector()).length).toBeLessThan(2 * 17 * 32 * 4 * 4 + 4096); // augmented: 11x that
    const h = await det.heatmap(px(bad), asPixels.map);
    expect(h.rgba.length).toBe(SIZE * SIZE * 4);
    const back = decodeImage(h.png);
    expect([back.width, back.height]).toEqual([SIZE, SIZE]);
    expect(Array.from(back.rgb.subarray(0, 3))).toEqual(Array.from(h.rgba.subarray(0, 3)));
    det.dispose();
  });
});
