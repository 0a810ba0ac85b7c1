#!/usr/bin/env node
/** The clipmpcad-gpu command line. Parsing and --help come from commander. */
import { Command } from "commander";
import { formatAdapterReport } from "./runtime/adapter-report.js";
import { createRuntime, loadTokenizer, writeTrace } from "./index.js";
import { runDemo } from "./demo.js";
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

program.parseAsync().catch((e: Error) => {
  console.error(`clipmpcad-gpu: ${e.name === "Error" ? "" : `${e.name}: `}${e.message}`);
  process.exitCode = 1;
});
