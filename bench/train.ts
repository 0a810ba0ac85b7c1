/**
 * `npm run bench:train [-- --preset tiny|vit-l|smoke] [-- --steps N] [-- --json FILE]`
 *
 * Adapter training (spec 9) on a random model: the time of one training step (forward,
 * head losses, backward through the adapters and the blocks between them, Adam) for one
 * 240 px image with a mask (segmentation task), the epoch time it implies for the paper's
 * 4 abnormal + 4 normal shots in 11 views (88 steps), and the GPU memory training needs
 * beyond the loaded weights (peak during the steps). Random text features stand in for a
 * class's: the step costs the same, and no text tower is loaded (the text features are
 * computed once per class, before training). tiny: fixture case a's shapes (24 layers of
 * width 64) at 64 px; vit-l: ViT-L/14 at 240 px; smoke: 2 layers, to check that it runs.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ClipMPCADModel, createRuntime, formatAdapterReport, randomCheckpoints, SafetensorsFile, bytesSource, type RandomClipShape } from "../src/index.js";
import { rand } from "./random.js";

export interface TrainBenchResult {
  preset: string;
  imageSize: number;
  steps: number;
  /** Mean of the timed steps (after one warm-up step). */
  stepMs: number;
  /** 88 steps: 4 + 4 shots x 11 views. */
  epochSeconds: number;
  weightsMiB: number;
  /** Peak GPU memory in use during the steps, weights included. */
  peakMiB: number;
}

const PRESETS: Record<string, { shape: RandomClipShape; imageSize: number; levels: number[] }> = {
  smoke: { shape: { width: 64, layers: 2, embed: 32, patch: 8, grid: 4, levels: 2 }, imageSize: 32, levels: [1, 2] },
  tiny: { shape: { width: 64, layers: 24, embed: 32, patch: 8, grid: 4, levels: 4 }, imageSize: 64, levels: [6, 12, 18, 24] },
  "vit-l": { shape: { width: 1024, layers: 24, embed: 768, patch: 14, grid: 24, levels: 4 }, imageSize: 240, levels: [6, 12, 18, 24] },
};

export async function trainBench(preset: string, steps: number, log: (l: string) => void = console.log): Promise<TrainBenchResult> {
  const p = PRESETS[preset];
  if (!p) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(", ")}, not ${preset}`);
  const rt = await createRuntime();
  log(formatAdapterReport(rt.adapter));
  const { clip, adapters } = randomCheckpoints(p.shape, 1);
  const model = await ClipMPCADModel.load(rt, {
    clip: await SafetensorsFile.open(bytesSource(clip, "clip")),
    adapters: await SafetensorsFile.open(bytesSource(adapters, "adapters")),
    imageSize: p.imageSize,
    levels: p.levels,
    text: false,
  });
  const S = p.imageSize;
  const E = p.shape.embed;
  const weightsMiB = rt.stats().bytesInUse / 2 ** 20;
  const tf = rt.tensor(rand(E * 2, 3), [E, 2], "f32", "random text features");
  const image = rt.tensor(rand(3 * S * S, 4), [3, S, S], "f32", "image");
  const maskData = new Float32Array(S * S); // a square defect in the upper left quarter
  for (let y = S >> 2; y < S >> 1; y++) for (let x = S >> 2; x < S >> 1; x++) maskData[y * S + x] = 1;
  const mask = rt.tensor(maskData, [S, S], "f32", "mask");
  const trainer = model.trainer(tf, "segmentation");
  rt.resetPeakMemory();
  let t = performance.now();
  await trainer.step(image, mask, 1); // warm-up: compiles the pipelines
  log(`warm-up step (compiles shaders): ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  for (let s = 0; s < steps; s++) {
    const ts = performance.now();
    const loss = await trainer.step(image, mask, s % 2);
    log(`step ${s + 1}/${steps}: loss ${loss.toFixed(4)}, ${((performance.now() - ts) / 1000).toFixed(1)} s`);
  }
  const stepMs = (performance.now() - t) / steps;
  const peakMiB = rt.stats().peakBytesInUse / 2 ** 20;
  for (const x of [tf, image, mask]) x.dispose();
  trainer.dispose();
  model.dispose();
  rt.dispose();
  return { preset, imageSize: S, steps, stepMs, epochSeconds: (88 * stepMs) / 1000, weightsMiB, peakMiB };
}

// run as a script (bench/train.ts, or train.mjs in the GPU payload), not when imported
if (/train\.(ts|mjs)$/.test(process.argv[1] ?? "")) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const preset = flag("--preset") ?? "tiny";
  const steps = Number(flag("--steps") ?? "2");
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be a positive integer, not ${flag("--steps")}`);
  const r = await trainBench(preset, steps);
  console.log(`training step (${preset}, ${r.imageSize} px, segmentation): ${(r.stepMs / 1000).toFixed(2)} s; epoch of 88 images (4 + 4 shots x 11 views): ${r.epochSeconds.toFixed(0)} s`);
  console.log(`GPU memory: weights ${r.weightsMiB.toFixed(0)} MiB, peak while training ${r.peakMiB.toFixed(0)} MiB`);
  const out = flag("--json") ?? `bench/results/train-${preset}.json`;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), ...r }, null, 2));
  console.log(`wrote ${out}`);
  process.exit(0);
}
