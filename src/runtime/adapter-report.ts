/** What adapter we run on, and a warning when it is a software renderer. */

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU renderers (SwiftShader, lavapipe, WARP): correct but slow. */
  software: boolean;
  features: {
    shaderF16: boolean;
    subgroups: boolean;
    timestampQuery: boolean;
  };
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxStorageBuffersPerShaderStage: number;
  };
  /** Set when `software` is: why it will be slow and what to do. */
  warning?: string;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|warp|basic render/i;

export function describeAdapter(adapter: GPUAdapter, device: GPUDevice): AdapterReport {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo ?? adapter.info;
  const text = `${info?.vendor ?? ""} ${info?.architecture ?? ""} ${info?.device ?? ""} ${info?.description ?? ""}`;
  const software = SOFTWARE.test(text) || Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter);
  const report: AdapterReport = {
    vendor: info?.vendor ?? "",
    architecture: info?.architecture ?? "",
    device: info?.device ?? "",
    description: info?.description ?? "",
    software,
    features: {
      shaderF16: device.features.has("shader-f16"),
      subgroups: device.features.has("subgroups"),
      timestampQuery: device.features.has("timestamp-query"),
    },
    limits: {
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
    },
  };
  if (software) {
    report.warning =
      `The WebGPU adapter is a software renderer (${report.description || report.architecture || report.vendor}): ` +
      "kernels run on the CPU, roughly 1000x slower than a GPU. Results are correct; for speed, " +
      "run where a GPU and its Vulkan/Metal/D3D12 driver are available.";
  }
  return report;
}

export function formatAdapterReport(r: AdapterReport): string {
  const feats = Object.entries(r.features)
    .filter(([, v]) => v)
    .map(([k]) => k)
    .join(", ");
  const lines = [
    `adapter: ${r.vendor || "?"} / ${r.architecture || "?"}${r.description ? ` (${r.description})` : ""}`,
    `features: ${feats || "none of shader-f16, subgroups, timestamp-query"}`,
    `max storage binding: ${(r.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, ` +
      `max buffer: ${(r.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB, ` +
      `workgroup storage: ${r.limits.maxComputeWorkgroupStorageSize / 1024} KiB`,
  ];
  if (r.warning) lines.push(`warning: ${r.warning}`);
  return lines.join("\n");
}
