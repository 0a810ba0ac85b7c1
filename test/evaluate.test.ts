import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ClipMPCAD, DatasetError, decodeImageFile, encodePng, evaluateDataset, loadMask, syntheticImage } from "../src/index.js";
import { gpu } from "./helpers/gpu.js";
import { sharedFile, VOCAB_GZ } from "./helpers/shared.js";

/** Writes a small dataset in the MVFA layout: <root>/Toy_AD/{valid,test}/{good,Ungood}/img. */
function makeDataset(size: number): string {
  const root = mkdtempSync(join(tmpdir(), "mvfa-"));
  const base = join(root, "Toy_AD");
  const write = (dir: string, name: string, rgb: Uint8Array) => {
    mkdirSync(dir, { recursive: true });
    const rgba = new Uint8Array(size * size * 4);
    for (let i = 0; i < size * size; i++) rgba.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
    writeFileSync(join(dir, name), encodePng(rgba, size, size));
  };
  for (let i = 0; i < 3; i++) write(join(base, "valid", "good", "img"), `v${i}.png`, syntheticImage(size, false, 50 + i).rgb);
  for (let i = 0; i < 3; i++) {
    write(join(base, "test", "good", "img"), `g${i}.png`, syntheticImage(size, false, 70 + i).rgb);
    const bad = syntheticImage(size, true, 90 + i);
    write(join(base, "test", "Ungood", "img"), `u${i}.png`, bad.rgb);
    write(join(base, "test", "Ungood", "anomaly_mask"), `u${i}.png`, Uint8Array.from(Array.from(bad.mask).flatMap((m) => [m * 255, m * 255, m * 255])));
  }
  return root;
}

/** Mann-Whitney by its definition, O(n^2), for checking. */
function naiveAuroc(scores: number[], labels: number[]): number {
  let s = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++)
    for (let j = 0; j < scores.length; j++)
      if (labels[i] === 1 && labels[j] === 0) {
        pairs++;
        s += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
  return s / pairs;
}

const norm = (a: number[]) => {
  const lo = Math.min(...a);
  const hi = Math.max(...a);
  return a.map((v) => (v - lo) / (hi - lo));
};

describe("evaluate (spec 8)", () => {
  it("equals an independent computation of the protocol on an MVFA-layout set", async () => {
    const rt = await gpu();
    const root = makeDataset(40);
    const DIR = "test/fixtures/model";
    const model = await ClipMPCAD.load({ clip: join(DIR, "clip-b.safetensors"), adapters: join(DIR, "adapters-b.safetensors"), vocab: sharedFile(VOCAB_GZ), imageSize: 28, levels: [2, 4], normalize: "imagenet", runtime: rt });
    await model.setClass("toy with defects");
    const stages = new Set<string>();
    const overlays = join(root, "overlays");
    const r = await model.evaluate(root, { name: "Toy", shots: 2, seed: 3, overlays: { dir: overlays, count: 3 }, onProgress: (d, t, stage) => stage !== "compile shaders" && stages.add(`${stage} ${d}/${t}`) });
    expect(stages).toEqual(new Set(["memory bank 1/2", "memory bank 2/2", ...[1, 2, 3, 4, 5, 6].map((i) => `test images ${i}/6`)]));
    // two anomalous and one normal image, as PNGs of the model's input size
    expect(r.overlays!.map((f) => f.slice(overlays.length + 1).split("_")[0]).sort()).toEqual(["Ungood", "Ungood", "good"]);
    for (const f of r.overlays!) expect(decodeImageFile(f).width).toBe(28);
    expect(r.task).toBe("segmentation");
    expect(r.zeroShot).toBe(true);
    expect(r.images).toHaveLength(6);
    // independent: predict each test image, normalise and combine by hand, pixel and image AUROC
    const files = r.images.map((i) => join(root, "Toy_AD", "test", i.file.split("/")[0], "img", i.file.split("/")[1]));
    const preds = [];
    for (const f of files) preds.push(await model.predict(f));
    const S = 28;
    const z = norm(preds.flatMap((p) => Array.from(p.mapZero!)));
    const f = norm(preds.flatMap((p) => Array.from(p.mapFew)));
    const combined = z.map((v, i) => 0.5 * v + 0.5 * f[i]);
    const masks = r.images.flatMap((im, i) => (im.label ? Array.from(loadMask(join(root, "Toy_AD", "test", "Ungood", "anomaly_mask", files[i].split("/").pop()!), S)) : new Array(S * S).fill(0)));
    const imageScores = r.images.map((_, i) => Math.max(...combined.slice(i * S * S, (i + 1) * S * S)));
    expect(r.imageAuroc).toBeCloseTo(naiveAuroc(imageScores, r.images.map((i) => i.label)), 6);
    // every pixel of every image, by the quadratic definition (4704 pixels: 22M pairs)
    expect(r.pixelAuroc!).toBeCloseTo(naiveAuroc(combined, masks), 6);
    r.images.forEach((im, i) => expect(im.score).toBeCloseTo(imageScores[i], 6));
    model.dispose();
  });

  it("says what is wrong with a bad layout, too few shots, a missing list entry", async () => {
    const rt = await gpu();
    const model = await ClipMPCAD.random({ runtime: rt });
    const root = makeDataset(24);
    await expect(evaluateDataset(model, root, { name: "Brain", shots: 1 })).rejects.toThrow(/Brain_AD does not exist: expected <root>\/Brain_AD\/\{valid,test\}/);
    await expect(evaluateDataset(model, root, { name: "Toy", shots: 5 })).rejects.toThrow(/holds 3 images, fewer than the 5 shots/);
    await expect(evaluateDataset(model, root, { name: "Toy", shots: 0 })).rejects.toThrow(DatasetError);
    const list = join(root, "list.txt");
    writeFileSync(list, "v0.png\nnope.png\n");
    await expect(evaluateDataset(model, root, { name: "Toy", shots: 2, fewShotList: list })).rejects.toThrow(/list.txt: nope.png not in/);
    // cancelled: rejects with the signal's reason, writes nothing
    const ctl = new AbortController();
    ctl.abort(new Error("stop now"));
    await expect(model.evaluate(root, { name: "Toy", shots: 2, overlays: { dir: join(root, "ov") }, signal: ctl.signal })).rejects.toThrow(/stop now/);
    expect(existsSync(join(root, "ov"))).toBe(false);
    model.dispose();
  });

  it("the CLI prints the table, writes the JSON and a sample of overlays", async () => {
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const { copyFileSync, readdirSync, readFileSync } = await import("node:fs");
    const { resolve } = await import("node:path");
    const root = makeDataset(28);
    const model = join(root, "model");
    mkdirSync(model);
    copyFileSync("test/fixtures/model/clip-b.safetensors", join(model, "clip.safetensors"));
    copyFileSync("test/fixtures/model/adapters-b.safetensors", join(model, "adapters.safetensors"));
    const cli = resolve("dist/cli.js");
    const r = await promisify(execFile)(process.execPath, [cli, "evaluate", "--model", model, "--image-size", "28", "--levels", "2,4", "--normalize", "imagenet", "--data", root, "--dataset", "Toy", "--shots", "2", "--json", "out.json", "--overlay-count", "2"], { cwd: root, encoding: "utf8" });
    expect(r.stdout).toMatch(/few-shot maps only \(no vocabulary/);
    expect(r.stdout).toMatch(/\| image AUROC \| image AP \| pixel AUROC \| pixel AP \| PRO \(30% FPR\) \|/);
    const json = JSON.parse(readFileSync(join(root, "out.json"), "utf8"));
    expect(json.images).toHaveLength(6);
    expect(readdirSync(join(root, "evaluate-Toy")).sort()).toEqual(json.overlays.map((f: string) => f.split("/").pop()).sort());
    expect(json.overlays).toHaveLength(2);
  });
});
