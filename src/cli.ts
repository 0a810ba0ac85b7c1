#!/usr/bin/env node
/** The clipmpcad-gpu command line. Parsing and --help come from commander. */
import { Command } from "commander";
import { formatAdapterReport } from "./runtime/adapter-report.js";
import { createRuntime } from "./index.js";
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
    "run the built-in demo. For now: a self-check that prints the adapter and runs a Linear+GELU, " +
      "LayerNorm and softmax on the GPU against a float64 CPU computation (the ClipMPCAD demo comes with the model)",
  )
  .action(async () => {
    const rt = await createRuntime();
    console.log(formatAdapterReport(rt.adapter));
    const r = await selfCheck(rt);
    console.log(`self-check: linear+gelu -> layernorm -> softmax on [50, 96]: max |gpu - cpu| = ${r.maxAbsError.toExponential(2)} ` +
      `(limit 1e-4), ${r.milliseconds.toFixed(0)} ms including shader compilation: ${r.ok ? "OK" : "FAILED"}`);
    rt.dispose();
    if (!r.ok) process.exitCode = 1;
  });

program.parseAsync().catch((e: Error) => {
  console.error(`clipmpcad-gpu: ${e.name === "Error" ? "" : `${e.name}: `}${e.message}`);
  process.exitCode = 1;
});
