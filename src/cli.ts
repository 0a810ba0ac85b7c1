#!/usr/bin/env node
/** The clipmpcad-gpu command line. Parsing and --help come from commander. */
import { Command } from "commander";
import { formatAdapterReport } from "./runtime/adapter-report.js";
import { CLIP_FILES, type Progress, ClipMPCAD, classNameFor, downloadModel, createRuntime, evaluateDataset, loadTokenizer, randomCheckpoints, trainingShots, writeSyntheticDataset, writeTrace, writeTrainTrace, CLASSIFICATION_SETS, MODEL_FOLDER_NAMES } from "./index.js";
import { writeFileAtomic } from "./atomic-write.js";
import { runDemo } from "./demo.js";
import { cancelOnInterrupt, progressBar } from "./progress-bar.js";
import { selfCheck } from "./selfcheck.js";

const program = new Command()
  .name("clipmpcad-gpu")
  .description("ClipMPCAD few-shot anomaly detection on WebGPU (Node: Dawn through the `webgpu` package).")
  .version("0.1.0");

program
  .command("info")
  .description("print the WebGPU adapter this machine gives: vendor, architecture, features, limits")
  .option("--json", "print JSON instead of text")
  .action(async (opts: { json?: boolean }) => {
    const rt = await createRuntime();
    console.log(opts.json ? JSON.stringify(rt.adapter, null, 2) : formatAdapterReport(rt.adapter));
    rt.dispose();
  });

program
  .command("demo")
  .description(
    "the built-in demo: a small random CLIP with adapters made in memory, a synthetic inspection set " +
      "(textures with drawn defects), few-shot detection from 4 normal shots, image and pixel AUROC, heatmap overlays",
  )
  .option("--out <dir>", "folder for the heatmap overlays", "clipmpcad-demo")
  .option("--shots <k>", "normal support images", "4")
  .action(async (o: { out: string; shots: string }) => {
    const shots = Number(o.shots);
    if (!Number.isInteger(shots) || shots < 1) throw new Error(`--shots must be a positive integer, not ${o.shots}`);
    const rt = await createRuntime();
    console.log(formatAdapterReport(rt.adapter));
    const r = await runDemo({ runtime: rt, outDir: o.out, shots, log: (l) => console.log(l) });
    console.log(`few-shot image AUROC ${r.imageAuroc.toFixed(4)}, pixel AUROC ${r.pixelAuroc.toFixed(4)} (${r.seconds.toFixed(0)} s)`);
    console.log(`overlays: ${r.overlays.join(", ")}`);
    console.log(
      "The weights are random: only the memory bank of normal shots finds these defects. For real use, convert " +
        "CLIP ViT-L/14-336 and trained ClipMPCAD adapters (weights/convert.py) and run `clipmpcad-gpu trace --help`.",
    );
    rt.dispose();
  });

program
  .command("selfcheck")
  .description("print the adapter and run a Linear+GELU, LayerNorm and softmax on the GPU against a float64 CPU computation")
  .action(async () => {
    const rt = await createRuntime();
    console.log(formatAdapterReport(rt.adapter));
    const r = await selfCheck(rt);
    console.log(`self-check: linear+gelu -> layernorm -> softmax on [50, 96]: max |gpu - cpu| = ${r.maxAbsError.toExponential(2)} ` +
      `(limit 1e-4), ${r.milliseconds.toFixed(0)} ms including shader compilation: ${r.ok ? "OK" : "FAILED"}`);
    rt.dispose();
    if (!r.ok) process.exitCode = 1;
  });

program
  .command("tokenize")
  .description("print CLIP token ids: a JSON array with one 77-long id array per input text, in order")
  .requiredOption("--vocab <file>", "bpe_simple_vocab_16e6.txt(.gz), tokenizer.json, or a folder with vocab.json + merges.txt")
  .requiredOption("--json <file>", "a JSON file holding an array of strings")
  .option("--strict", "fail on text longer than the context instead of truncating it (<|endoftext|> kept last)")
  .option("--context-length <n>", "context length", "77")
  .action(async (opts: { vocab: string; json: string; strict?: boolean; contextLength: string }) => {
    const { readFileSync } = await import("node:fs");
    let texts: unknown;
    try {
      texts = JSON.parse(readFileSync(opts.json, "utf8"));
    } catch (e) {
      throw new Error(`${opts.json}: ${(e as Error).message}`);
    }
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== "string")) {
      throw new Error(`${opts.json}: expected a JSON array of strings`);
    }
    const C = Number(opts.contextLength);
    if (!Number.isInteger(C) || C < 2) throw new Error(`--context-length must be an integer >= 2, not ${opts.contextLength}`);
    const tok = await loadTokenizer(opts.vocab);
    const ids = tok.encodeBatch(texts as string[], { contextLength: C, truncate: !opts.strict });
    const rows = (texts as string[]).map((_, i) => `[${Array.from(ids.subarray(i * C, (i + 1) * C)).join(",")}]`);
    process.stdout.write(`[\n${rows.join(",\n")}\n]\n`);
  });

/** --image-size, --levels and --normalize, checked. */
function parseShape(o: { imageSize: string; levels?: string; normalize: string }) {
  const imageSize = Number(o.imageSize);
  if (!Number.isInteger(imageSize) || imageSize < 1) throw new Error(`--image-size must be a positive integer, not ${o.imageSize}`);
  const levels = o.levels?.split(",").map((v) => Number(v.trim()));
  if (levels && levels.some((l) => !Number.isInteger(l) || l < 1)) throw new Error(`--levels must be positive integers separated by commas, not ${o.levels}`);
  if (o.normalize !== "none" && o.normalize !== "imagenet" && o.normalize !== "clip") throw new Error(`--normalize must be none, imagenet or clip, not ${o.normalize}`);
  return { imageSize, levels, normalize: o.normalize as "none" | "imagenet" | "clip" };
}

/** The trace commands' files and settings, with stages logged to stderr with the seconds since now. */
function traceFiles(o: { clip: string; adapters: string; vocab: string; className: string; imageSize: string; levels?: string; normalize: string }) {
  const t0 = performance.now();
  const log = (stage: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${stage}`);
  return { files: { clip: o.clip, adapters: o.adapters, vocab: o.vocab, className: o.className, ...parseShape(o), onProgress: log }, log };
}

async function traceRuntime() {
  const rt = await createRuntime();
  if (rt.adapter.warning) console.error(`note: ${rt.adapter.warning}`);
  return rt;
}

program
  .command("trace")
  .description("run ClipMPCAD on support and query images and write every intermediate (text features, tokens per level, maps, scores) as F32 safetensors")
  .requiredOption("--clip <file>", "CLIP weights (safetensors, OpenAI or Hugging Face names)")
  .requiredOption("--adapters <file>", "ClipMPCAD adapters (safetensors: seg_adapters.{j}.*, det_adapters.{j}.*)")
  .requiredOption("--vocab <file>", "bpe_simple_vocab_16e6.txt.gz, tokenizer.json, or a folder with vocab.json + merges.txt")
  .requiredOption("--class-name <name>", 'the class name filled into the prompts, e.g. "Brain"')
  .option("--image-size <n>", "input image size S", "240")
  .option("--levels <list>", "adapter levels, comma-separated (default 6,12,18,24)")
  .option("--normalize <kind>", "none | imagenet | clip", "none")
  .requiredOption("--support <files...>", "normal support images (each augmented 11-fold into the memory bank)")
  .requiredOption("--query <files...>", "query images")
  .requiredOption("--out <file>", "the trace to write (safetensors)")
  .action(async (o: { clip: string; adapters: string; vocab: string; className: string; imageSize: string; levels?: string; normalize: string; support: string[]; query: string[]; out: string }) => {
    const { files, log } = traceFiles(o);
    const rt = await traceRuntime();
    const n = await writeTrace(rt, { ...files, support: o.support, query: o.query, out: o.out });
    log(`wrote ${n} tensors to ${o.out}`);
    rt.dispose();
  });

/** "image.png:mask.png" (split at the last colon, so Windows drive letters survive). */
function imageMaskPair(v: string): { image: string; mask: string } {
  const i = v.lastIndexOf(":");
  if (i <= 0 || i === v.length - 1) throw new Error(`--abnormal takes IMAGE:MASK pairs, not ${v}`);
  return { image: v.slice(0, i), mask: v.slice(i + 1) };
}

program
  .command("train-trace")
  .description("K adapter-training steps (spec 9: batch 1, no shuffling, no augmentation, images abnormal..., normal..., cycling) writing the loss, every adapter gradient and the adapters after each step as F32 safetensors")
  .requiredOption("--clip <file>", "CLIP weights (safetensors, OpenAI or Hugging Face names)")
  .requiredOption("--adapters <file>", "the adapters to start from (safetensors: seg_adapters.{j}.*, det_adapters.{j}.*)")
  .requiredOption("--vocab <file>", "bpe_simple_vocab_16e6.txt.gz, tokenizer.json, or a folder with vocab.json + merges.txt")
  .requiredOption("--class-name <name>", 'the class name filled into the prompts, e.g. "Brain"')
  .option("--image-size <n>", "input image size S", "240")
  .option("--levels <list>", "adapter levels, comma-separated (default 6,12,18,24)")
  .option("--normalize <kind>", "none | imagenet | clip", "none")
  .option("--task <task>", "segmentation (BCE + focal + dice) | classification (BCE only)", "segmentation")
  .option("--abnormal <pairs...>", "abnormal images with their masks, IMAGE:MASK", [])
  .option("--normal <files...>", "normal images", [])
  .requiredOption("--steps <k>", "optimisation steps")
  .requiredOption("--out <file>", "the trace to write (safetensors)")
  .action(async (o: { clip: string; adapters: string; vocab: string; className: string; imageSize: string; levels?: string; normalize: string; task: string; abnormal: string[]; normal: string[]; steps: string; out: string }) => {
    const { files, log } = traceFiles(o);
    if (o.task !== "segmentation" && o.task !== "classification") throw new Error(`--task must be segmentation or classification, not ${o.task}`);
    const steps = Number(o.steps);
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be a positive integer, not ${o.steps}`);
    if (o.abnormal.length + o.normal.length === 0) throw new Error("give at least one --abnormal IMAGE:MASK or --normal IMAGE");
    const abnormal = o.abnormal.map(imageMaskPair);
    const rt = await traceRuntime();
    const n = await writeTrainTrace(rt, { ...files, task: o.task, abnormal, normal: o.normal, steps, out: o.out });
    log(`wrote ${n} tensors to ${o.out}`);
    rt.dispose();
  });

interface ModelFlags {
  model?: string;
  clip?: string;
  adapters?: string;
  vocab?: string;
  imageSize: string;
  levels?: string;
  normalize: string;
}

/** --model DIR (clip.safetensors or model.safetensors, adapters.safetensors, optional vocabulary) or the files one by one. */
async function openModel(o: ModelFlags, run: { signal?: AbortSignal; onProgress?: Progress } = {}) {
  if (!o.model && (!o.clip || !o.adapters)) throw new Error("give --model DIR holding clip.safetensors and adapters.safetensors, or --clip and --adapters");
  const { imageSize, levels, normalize } = parseShape(o);
  return ClipMPCAD.load({ model: o.model, clip: o.clip, adapters: o.adapters, vocab: o.vocab, imageSize, levels, normalize, ...run });
}

function modelOptions(cmd: Command): Command {
  return cmd
    .option("--model <dir>", "folder with clip.safetensors (or a downloaded model.safetensors), adapters.safetensors and, for zero-shot maps, the vocabulary (bpe_simple_vocab_16e6.txt.gz, tokenizer.json, or vocab.json + merges.txt)")
    .option("--clip <file>", "CLIP weights (instead of --model)")
    .option("--adapters <file>", "ClipMPCAD adapters (instead of --model)")
    .option("--vocab <file>", "CLIP vocabulary: .txt.gz, tokenizer.json or a folder (instead of --model); without it only few-shot maps are made")
    .option("--image-size <n>", "input image size S", "240")
    .option("--levels <list>", "adapter levels, comma-separated (default 6,12,18,24)")
    .option("--normalize <kind>", "none (medical) | imagenet (industrial sets) | clip", "none");
}

modelOptions(
  program
    .command("evaluate")
    .description("the paper's protocol (spec 8) on a dataset in the MVFA layout: <data>/<dataset>_AD/{valid,test}/{good,Ungood}/img")
    .requiredOption("--data <root>", "the folder holding <dataset>_AD")
    .requiredOption("--dataset <name>", "e.g. Brain, Liver, Retina_RESC, Chest, or an MVTec object")
    .option("--shots <k>", "normal shots from valid/good", "4")
    .option("--seed <n>", "seed of the shot draw", "0")
    .option("--few-shot-list <file>", "names of the shots, one per line (instead of a seeded draw)")
    .option("--class-name <name>", "class name for the prompts (default: the reference's name for the dataset)")
    .option("--json <file>", "write the metrics and per-image scores as JSON")
    .option("--overlays <dir>", "folder for heatmap overlays of a sample of test images, maps normalised across the dataset as the metrics see them (default: evaluate-<dataset>)")
    .option("--no-overlays", "write no overlays")
    .option("--overlay-count <n>", "how many overlays, spread over normal and anomalous images", "8"),
).action(async (o: ModelFlags & { data: string; dataset: string; shots: string; seed: string; fewShotList?: string; className?: string; json?: string; overlays: string | boolean; overlayCount: string }) => {
  const overlayDir = o.overlays === false ? undefined : typeof o.overlays === "string" ? o.overlays : `evaluate-${o.dataset}`;
  const shots = Number(o.shots);
  const signal = cancelOnInterrupt();
  const bar = progressBar();
  const model = await openModel(o, { signal, onProgress: bar.update });
  try {
    if (model.canZeroShot) await model.setClass(o.className ?? classNameFor(o.dataset), { signal, onProgress: bar.update });
    const r = await evaluateDataset(model, o.data, {
      name: o.dataset,
      shots,
      seed: Number(o.seed),
      fewShotList: o.fewShotList,
      overlays: overlayDir ? { dir: overlayDir, count: Number(o.overlayCount) } : undefined,
      signal,
      onProgress: bar.update,
    });
    bar.end();
    const pct = (v?: number) => (v === undefined ? "-" : (100 * v).toFixed(2));
    console.log(`dataset ${r.dataset} (${r.task}), ${r.shots} shots${r.zeroShot ? "" : ", few-shot maps only (no vocabulary: no zero-shot half)"}`);
    console.log("| image AUROC | image AP | pixel AUROC | pixel AP | PRO (30% FPR) |");
    console.log("| --- | --- | --- | --- | --- |");
    console.log(`| ${pct(r.imageAuroc)} | ${pct(r.imageAp)} | ${pct(r.pixelAuroc)} | ${pct(r.pixelAp)} | ${pct(r.pro)} |`);
    if (r.task === "classification") console.log("(no masks: image metrics only)");
    if (r.overlays?.length) console.log(`overlays: ${r.overlays.length} in ${overlayDir}`);
    if (o.json) {
      writeFileAtomic(o.json, JSON.stringify(r, null, 2));
    }
  } finally {
    model.dispose();
  }
});

modelOptions(
  program
    .command("detect")
    .description("few-shot anomaly detection for one image: score and heatmap overlay")
    .option("--class <name>", "class name for the zero-shot prompts (needs the vocabulary)")
    .requiredOption("--normal <files...>", "normal images of the class (the few shots)")
    .requiredOption("--image <file>", "the image to judge")
    .option("--out <file>", "heatmap overlay PNG")
    .option("--explain", "explain the hottest pixel: each level's share there and the nearest normal patch (JSON field explanation, summary on stderr)"),
).action(async (o: ModelFlags & { class?: string; normal: string[]; image: string; out?: string; explain?: boolean }) => {
  const signal = cancelOnInterrupt();
  const bar = progressBar();
  const model = await openModel(o, { signal, onProgress: bar.update });
  try {
    if (o.class) await model.setClass(o.class, { signal, onProgress: bar.update });
    await model.fit(o.normal, { signal, onProgress: bar.update });
    const p = await model.predict(o.image, { explain: o.explain });
    bar.end();
    console.log(JSON.stringify({ score: p.score, scoreZero: p.scoreZero, scoreFew: p.scoreFew, scoreScaled: p.scoreScaled, explanation: p.explanation }));
    const e = p.explanation;
    if (e) {
      const f = (v: number) => v.toFixed(3);
      console.error(`hottest pixel (${e.x}, ${e.y}) = ${f(e.value)}, patch row ${e.patch.row}, column ${e.patch.col}`);
      for (const l of e.levels) {
        const n = l.nearest;
        const where = n.row === null ? "its class token" : `patch row ${n.row}, column ${n.col}`;
        const zero = l.zeroShot === null ? "" : `zero-shot ${f(l.zeroShot)}, `;
        console.error(`  level ${l.level}: share ${f(l.contribution)} (${zero}few-shot ${f(l.fewShot)}); nearest normal: ${o.normal[n.shot]} (${n.augmentation}), ${where}, cosine ${f(n.similarity)}`);
      }
      console.error(`  driven by level ${e.drivingLevel}`);
    }
    if (o.out) {
      writeFileAtomic(o.out, (await model.heatmap(o.image, p.map)).png);
      console.error(`wrote ${o.out}`);
    }
  } finally {
    model.dispose();
  }
});

modelOptions(
  program
    .command("train")
    .description("train the adapters on few shots of a dataset in the MVFA layout (spec 9), on this machine: k abnormal shots with masks from valid/Ungood, k normal ones from valid/good (evaluate's draw for the same --seed), each in spec 7's 11 views")
    .requiredOption("--data <root>", "the folder holding <dataset>_AD")
    .requiredOption("--dataset <name>", "e.g. Brain, Liver, Retina_RESC, Chest, or an MVTec object")
    .option("--shots <k>", "shots of each kind", "4")
    .option("--epochs <n>", "epochs over the augmented shots", "50")
    .option("--seed <n>", "seed of the shot draw and of the shuffle", "0")
    .option("--task <task>", "segmentation (BCE + focal + dice) | classification (BCE only); default: classification for Retina_OCT2017, Chest, Histopathology and sets without masks")
    .option("--lr <x>", "Adam learning rate", "0.001")
    .option("--no-augment", "train on the shots alone, not their 11 views (not the paper's)")
    .option("--class-name <name>", "class name for the prompts (default: the reference's name for the dataset)")
    .option("--select-on-test", "the reference's protocol: evaluate on the test set after every epoch and keep the best epoch (the test set picks the weights, so its metrics are optimistic)")
    .requiredOption("--out <file>", "the trained adapters (safetensors, the official key layout)"),
).action(async (o: ModelFlags & { data: string; dataset: string; shots: string; epochs: string; seed: string; task?: string; lr: string; augment: boolean; className?: string; selectOnTest?: boolean; out: string }) => {
  const shots = Number(o.shots);
  const epochs = Number(o.epochs);
  const seed = Number(o.seed);
  const lr = Number(o.lr);
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`--epochs must be a positive integer, not ${o.epochs}`);
  if (!(lr > 0)) throw new Error(`--lr must be a positive number, not ${o.lr}`);
  if (o.task && o.task !== "segmentation" && o.task !== "classification") throw new Error(`--task must be segmentation or classification, not ${o.task}`);
  const data = trainingShots(o.data, o.dataset, shots, seed);
  const task = (o.task ?? (CLASSIFICATION_SETS.has(o.dataset) || !data.masks ? "classification" : "segmentation")) as "segmentation" | "classification";
  if (task === "segmentation" && !data.masks) throw new Error(`${o.data}/${o.dataset}_AD/valid/Ungood/anomaly_mask lacks masks of the drawn shots: the segmentation task needs them (or --task classification)`);
  const signal = cancelOnInterrupt();
  const bar = progressBar();
  const model = await openModel(o, { signal, onProgress: bar.update });
  try {
    if (!model.canZeroShot) throw new Error("train needs the CLIP vocabulary and text tower (the losses compare tokens with the class's prompts): give --vocab or a --model folder holding one");
    await model.setClass(o.className ?? classNameFor(o.dataset), { signal, onProgress: bar.update });
    console.error(`training on ${data.abnormal.length} abnormal + ${data.normal.length} normal shots of ${o.dataset} (${task}), ${epochs} epochs${o.augment ? ", 11 views each" : ""}`);
    const r = await model.train({
      abnormal: data.abnormal.map((a) => ({ image: a.image, mask: task === "segmentation" ? a.mask : undefined })),
      normal: data.normal,
      epochs,
      task,
      augment: o.augment,
      seed,
      lr,
      signal,
      onProgress: bar.update,
      onEpoch: async (e) => {
        let line = `epoch ${e.epoch}/${e.epochs}: loss ${e.loss.toFixed(4)} (${e.seconds.toFixed(1)} s)`;
        let score: number | undefined;
        if (o.selectOnTest) {
          const ev = await evaluateDataset(model, o.data, { name: o.dataset, shots, seed, signal });
          score = ev.task === "segmentation" ? ev.pixelAuroc! : ev.imageAuroc;
          line += `, test image AUROC ${(100 * ev.imageAuroc).toFixed(2)}${ev.pixelAuroc === undefined ? "" : `, pixel AUROC ${(100 * ev.pixelAuroc).toFixed(2)}`}`;
        }
        bar.end();
        console.log(line);
        return score;
      },
    });
    bar.end();
    writeFileAtomic(o.out, await model.saveAdapters({ dataset: o.dataset, task, epochs: String(epochs), keptEpoch: String(r.keptEpoch), shots: String(shots), seed: String(seed) }));
    const kept = o.selectOnTest ? `epoch ${r.keptEpoch} (best on the test set: its metrics are optimistic)` : `epoch ${r.keptEpoch} (the last)`;
    console.log(`wrote ${o.out}: adapters of ${kept}, ${r.seconds.toFixed(0)} s, ${(r.seconds / epochs).toFixed(1)} s per epoch of ${r.images} images`);
  } finally {
    model.dispose();
  }
});

program
  .command("synthetic-set")
  .description("write the synthetic inspection set (textures with drawn defects and their masks) in the MVFA layout, to try train and evaluate without data")
  .requiredOption("--out <root>", "folder to write <name>_AD into")
  .option("--name <name>", "dataset name", "Toy")
  .option("--size <px>", "image side", "64")
  .option("--valid <n>", "images of each kind in valid/ (the shots come from there)", "4")
  .option("--test <n>", "images of each kind in test/", "8")
  .option("--seed <n>", "seed", "1")
  .action((o: { out: string; name: string; size: string; valid: string; test: string; seed: string }) => {
    const num = (v: string, flag: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, not ${v}`);
      return n;
    };
    const dir = writeSyntheticDataset(o.out, { name: o.name, size: num(o.size, "--size"), valid: num(o.valid, "--valid"), test: num(o.test, "--test"), seed: num(o.seed, "--seed") });
    console.log(`wrote ${dir}`);
  });

program
  .command("random-model")
  .description("write a small random CLIP (with a text tower) and adapters as a model folder: shapes of the real model, numbers that mean nothing; for trying train and evaluate")
  .requiredOption("--out <dir>", "the model folder (clip.safetensors, adapters.safetensors)")
  .option("--width <n>", "vision width", "64")
  .option("--seed <n>", "seed", "0")
  .option("--vocab <file>", "a CLIP vocabulary to copy into the folder (bpe_simple_vocab_16e6.txt.gz or tokenizer.json), so --model DIR alone gives text features")
  .action(async (o: { out: string; width: string; seed: string; vocab?: string }) => {
    const width = Number(o.width);
    if (!Number.isInteger(width) || width < 64 || width % 64 !== 0) throw new Error(`--width must be a multiple of 64 (heads of 64), not ${o.width}`);
    const { mkdirSync, readFileSync } = await import("node:fs");
    const { basename, join } = await import("node:path");
    const vocabName = o.vocab ? basename(o.vocab) : undefined;
    if (vocabName && !(MODEL_FOLDER_NAMES.vocab as readonly string[]).includes(vocabName)) throw new Error(`--vocab: a model folder's vocabulary is named ${MODEL_FOLDER_NAMES.vocab.join(", ")}, not ${vocabName}`);
    // 24 layers and 4 adapter levels: the default levels 6, 12, 18, 24 apply
    const { clip, adapters } = randomCheckpoints({ width, layers: 24, embed: width / 2, patch: 8, grid: 8, levels: 4, text: { width: 64, layers: 2 } }, Number(o.seed));
    mkdirSync(o.out, { recursive: true });
    const files: [string, Uint8Array][] = [[MODEL_FOLDER_NAMES.clip[0], clip], [MODEL_FOLDER_NAMES.adapters[0], adapters]];
    if (o.vocab && vocabName) files.push([vocabName, readFileSync(o.vocab)]);
    for (const [name, bytes] of files) writeFileAtomic(join(o.out, name), bytes);
    console.log(`wrote ${o.out}: ${files.map((f) => f[0]).join(", ")} (native image size 64${o.vocab ? "" : "; add a CLIP vocabulary for text features"})`);
  });

program
  .command("download")
  .description("fetch a model's files from a hub over HTTPS, resumable (<file>.part), checked by size and sha256 when the hub states it")
  .requiredOption("--model <id>", "repository id, e.g. openai/clip-vit-large-patch14-336")
  .option("--to <dir>", "destination folder (default: models/<id>)")
  .option("--hub <url>", "hub base URL; files are <hub>/<id>/resolve/<revision>/<file>", process.env.CLIPMPCAD_HUB ?? "https://huggingface.co")
  .option("--revision <rev>", "branch, tag or commit", "main")
  .option("--files <list>", "comma-separated file names", CLIP_FILES.join(","))
  .action(async (o: { model: string; to?: string; hub: string; revision: string; files: string }) => {
    const to = o.to ?? `models/${o.model}`;
    const bar = progressBar();
    const files = await downloadModel({
      model: o.model,
      to,
      hub: o.hub,
      revision: o.revision,
      files: o.files.split(",").map((f) => f.trim()).filter(Boolean),
      signal: cancelOnInterrupt(),
      onProgress: (p) => bar.update(p.received, p.total ?? p.received, p.file.split("/").pop()!),
    });
    bar.end();
    for (const f of files) console.log(f);
  });

program.parseAsync().catch((e: Error) => {
  console.error(`clipmpcad-gpu: ${e.name === "Error" ? "" : `${e.name}: `}${e.message}`);
  process.exitCode = 1;
});
