import { defineConfig } from "tsup";

// Three entries: the Node library (Dawn through the `webgpu` package), the browser-safe
// library (navigator.gpu only, no Node built-ins), and the CLI. WGSL is embedded as text.
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
    entry: { browser: "src/browser.ts" },
    format: ["esm"],
    platform: "browser",
    target: "es2022",
    dts: true,
    sourcemap: true,
    loader: { ".wgsl": "text" },
    noExternal: [/.*/],
  },
]);
