import { defineConfig } from "tsup";

// Four entries: the Node library (Dawn through the `webgpu` package), the browser-safe
// library (navigator.gpu only, no Node built-ins) with its Web Worker, and the CLI. WGSL
// is embedded as text.
export default defineConfig([
  {
    entry: { index: "src/index.ts", cli: "src/cli.ts" },
    format: ["esm"],
    platform: "node",
    target: "node20",
    dts: { entry: { index: "src/index.ts" } },
    sourcemap: true,
    clean: true,
    loader: { ".wgsl": "text" },
    external: ["webgpu"],
  },
  {
    // the page's library and the detector worker it starts (dist/worker.js beside it)
    entry: { browser: "src/browser.ts", worker: "src/browser/detector-worker.ts" },
    format: ["esm"],
    platform: "browser",
    splitting: false, // each file stands alone: a page loads one, the worker the other
    minify: true,
    target: "es2022",
    dts: true,
    sourcemap: true,
    loader: { ".wgsl": "text" },
    noExternal: [/.*/],
  },
]);
