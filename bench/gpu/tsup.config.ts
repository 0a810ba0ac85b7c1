import { defineConfig } from "tsup";

// The benchmarks (bench.mjs, train.mjs), each one file, for the GPU machine (bench/gpu/prepare.sh): everything bundled
// but Dawn (a native addon) and onnxruntime-web (it loads its WASM beside itself).
export default defineConfig({
  entry: { bench: "bench/run.ts", train: "bench/train.ts" },
  outDir: "bench/gpu/payload",
  format: ["esm"],
  platform: "node",
  target: "node20",
  splitting: false,
  loader: { ".wgsl": "text" },
  external: ["webgpu", "onnxruntime-web/webgpu"],
  noExternal: [/^(?!webgpu$|onnxruntime-web).*/],
  outExtension: () => ({ js: ".mjs" }),
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
