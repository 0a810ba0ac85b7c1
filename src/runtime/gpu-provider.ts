/**
 * Where a `GPU` object comes from. Browsers have `navigator.gpu`; the Node entry registers a
 * provider that loads Dawn through the `webgpu` package (see node-gpu.ts). Keeping this
 * indirection here keeps Node built-ins out of the browser bundle.
 */
import { NoAdapterError } from "./errors.js";

export interface AdapterRequest {
  powerPreference?: GPUPowerPreference;
  /** Ask for the fallback (software) adapter first. */
  forceFallbackAdapter?: boolean;
}

/** Finds an adapter, or throws NoAdapterError that says what to install. */
export type GpuProvider = (request: AdapterRequest) => Promise<GPUAdapter>;

let defaultProvider: GpuProvider | undefined;

export function setDefaultGpuProvider(provider: GpuProvider): void {
  defaultProvider = provider;
}

/** The browser path: navigator.gpu, with a clear error where WebGPU is missing. */
export const navigatorGpuProvider: GpuProvider = async (request) => {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new NoAdapterError(
      "WebGPU is not available here (navigator.gpu is undefined). Use a browser with WebGPU " +
        "(Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows) over https or localhost; " +
        "on Node, import the package's Node entry, which uses Dawn through the `webgpu` package.",
    );
  }
  const adapter = await gpu.requestAdapter(request);
  if (!adapter) {
    throw new NoAdapterError(
      "navigator.gpu.requestAdapter() returned no adapter. WebGPU may be disabled or the GPU " +
        "blocklisted: check chrome://gpu, or start Chromium with --enable-unsafe-webgpu.",
    );
  }
  return adapter;
};

export function resolveGpuProvider(explicit?: GpuProvider): GpuProvider {
  if (explicit) return explicit;
  if ((globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu) return navigatorGpuProvider;
  return defaultProvider ?? navigatorGpuProvider;
}
