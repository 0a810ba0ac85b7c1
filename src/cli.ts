#!/usr/bin/env node
/** The clipmpcad-gpu command line. Parsing and --help come from commander. */
import { Command } from "commander";
import { formatAdapterReport } from "./runtime/adapter-report.js";
import { CLIP_FILES, type Progress, ClipMPCAD, classNameFor, downloadModel, createRuntime, evaluateDataset, loadTokenizer, writeTrace } from "./index.js";
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
    const imageSize = Number(o.imageSize);
    if (!Number.isInteger(imageSize) || imageSize < 1) throw new Error(`--image-size must be a positive integer, not ${o.imageSize}`);
    const levels = o.levels?.split(",").map((v) => Number(v.trim()));
    if (levels && levels.some((l) => !Number.isInteger(l) || l < 1)) throw new Error(`--levels must be positive integers separated by commas, not ${o.levels}`);
    if (!["none", "imagenet", "clip"].includes(o.normalize)) throw new Error(`--normalize must be none, imagenet or clip, not ${o.normalize}`);
    const rt = await createRuntime();
    if (rt.adapter.warning) console.error(`note: ${rt.adapter.warning}`);
    const t0 = performance.now();
    const n = await writeTrace(rt, {
      clip: o.clip,
      adapters: o.adapters,
      vocab: o.vocab,
      className: o.className,
      imageSize,
      levels,
      normalize: o.normalize as "none" | "imagenet" | "clip",
      support: o.support,
      query: o.query,
      out: o.out,
      onProgress: (stage) => console.error(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${stage}`),
    });
    console.error(`[${((performance.now() - t0) / 1000).toFixed(1)} s] wrote ${n} tensors to ${o.out}`);
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
  const imageSize = Number(o.imageSize);
  if (!Number.isInteger(imageSize) || imageSize < 1) throw new Error(`--image-size must be a positive integer, not ${o.imageSize}`);
  const levels = o.levels?.split(",").map((v) => Number(v.trim()));
  if (levels && levels.some((l) => !Number.isInteger(l) || l < 1)) throw new Error(`--levels must be positive integers separated by commas, not ${o.levels}`);
  if (!["none", "imagenet", "clip"].includes(o.normalize)) throw new Error(`--normalize must be none, imagenet or clip, not ${o.normalize}`);
  return ClipMPCAD.load({ model: o.model, clip: o.clip, adapters: o.adapters, vocab: o.vocab, imageSize, levels, normalize: o.normalize as "none", ...run });
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
      const { writeFileSync, renameSync } = await import("node:fs");
      writeFileSync(`${o.json}.tmp`, JSON.stringify(r, null, 2));
      renameSync(`${o.json}.tmp`, o.json);
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
      const { writeFileSync, renameSync } = await import("node:fs");
      writeFileSync(`${o.out}.tmp`, (await model.heatmap(o.image, p.map)).png);
      renameSync(`${o.out}.tmp`, o.out);
      console.error(`wrote ${o.out}`);
    }
  } finally {
    model.dispose();
  }
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
