/**
 * The Node provider: Dawn through the npm package `webgpu`. When Dawn finds no adapter on
 * Linux (no GPU, or only drivers Dawn refuses, such as Debian 12's lavapipe), it retries with a
 * known software Vulkan driver: SwiftShader as shipped by Debian's chromium package.
 */
import { existsSync } from "node:fs";
import { NoAdapterError } from "./errors.js";
import type { AdapterRequest, GpuProvider } from "./gpu-provider.js";

/** Vulkan ICD manifests of SwiftShader, in the order they are tried. */
export const SWIFTSHADER_ICDS = [
  "/usr/lib/chromium/vk_swiftshader_icd.json",
  "/usr/lib64/chromium/vk_swiftshader_icd.json",
  "/usr/lib/chromium-browser/vk_swiftshader_icd.json",
  "/opt/google/chrome/vk_swiftshader_icd.json",
];

type WebGpuModule = { create: (flags: string[]) => GPU; globals: Record<string, unknown> };

let webgpuModule: Promise<WebGpuModule> | undefined;

async function loadDawn(): Promise<WebGpuModule> {
  webgpuModule ??= import("webgpu").then((m) => {
    const mod = m as unknown as WebGpuModule;
    // GPUBufferUsage, GPUMapMode, ... are read as globals by code written for browsers.
    for (const [k, v] of Object.entries(mod.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
    return mod;
  });
  return webgpuModule;
}

/** Dawn instance flags; kept alive for the process (Dawn instances are cheap to keep). */
const instances: GPU[] = [];

async function tryAdapter(request: AdapterRequest): Promise<GPUAdapter | null> {
  const { create } = await loadDawn();
  const gpu = create([]);
  instances.push(gpu);
  return gpu.requestAdapter(request);
}

export const nodeGpuProvider: GpuProvider = async (request) => {
  if (process.platform === "linux" && !process.env.XDG_RUNTIME_DIR) {
    // Silences a harmless "XDG_RUNTIME_DIR is invalid" line some Vulkan layers print.
    process.env.XDG_RUNTIME_DIR = "/tmp";
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await tryAdapter(request);
  } catch (e) {
    throw new NoAdapterError(
      `Could not load Dawn from the npm package \`webgpu\` (${(e as Error).message}). ` +
        "Install it with `npm install webgpu` (a dependency of clipmpcad-gpu; a missing file " +
        "means the install was incomplete or the platform has no prebuilt dawn.node).",
    );
  }
  if (adapter) return adapter;
  const tried: string[] = ["the system Vulkan drivers"];
  if (process.platform === "linux" && !process.env.VK_ICD_FILENAMES) {
    for (const icd of SWIFTSHADER_ICDS) {
      if (!existsSync(icd)) continue;
      // The Vulkan loader reads this when Dawn creates its next instance.
      process.env.VK_ICD_FILENAMES = icd;
      tried.push(`SwiftShader (${icd})`);
      adapter = await tryAdapter(request);
      if (adapter) return adapter;
      delete process.env.VK_ICD_FILENAMES;
    }
  } else if (process.env.VK_ICD_FILENAMES) {
    tried.push(`VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}`);
  }
  throw new NoAdapterError(
    `No WebGPU adapter found (tried ${tried.join(", ")}). ` +
      (process.platform === "linux"
        ? "On Debian/Ubuntu without a GPU, install the Vulkan loader and a software driver: " +
          "`sudo apt-get install -y libvulkan1 chromium` (chromium brings SwiftShader); with a GPU, " +
          "install its Vulkan driver (e.g. NVIDIA's, or mesa-vulkan-drivers) and libvulkan1."
        : "Install or update the GPU driver (Dawn uses Metal on macOS and D3D12 on Windows)."),
  );
};
