// Everything both entries export (the Node entry adds the Dawn provider).
export { createRuntime, Runtime, type RuntimeOptions, type DispatchOptions, type RuntimeStats } from "./runtime/runtime.js";
export { Tensor, numel } from "./runtime/tensor.js";
export type { DType, KernelDef } from "./runtime/kernel.js";
export { formatAdapterReport, type AdapterReport } from "./runtime/adapter-report.js";
export { setDefaultGpuProvider, navigatorGpuProvider, type GpuProvider } from "./runtime/gpu-provider.js";
export * from "./runtime/errors.js";
export * from "./kernels/index.js";
export * from "./tokenizer/index.js";
export { TextFeatureCache, TextFeatureCacheError, textFeatureKey, type TextFeatureEntry } from "./model/text-feature-cache.js";
export { pilBicubicResize, pilResizePlan, pilTaps } from "./image/pil-resize.js";
export { bicubicAntialiasResize, resizePositionalEmbedding } from "./image/bicubic-aa.js";
export { SafetensorsFile, SafetensorsError, bytesSource, blobSource, urlSource, encodeSafetensors, halfToFloat, type ByteSource, type TensorInfo, type WritableTensor } from "./model/safetensors.js";
export { loadClipWeights, inferConfig, detectNaming, type ClipConfig, type ClipWeights, type HfConfig } from "./model/clip-weights.js";
export { adapterLevels, loadAdapterPair } from "./model/adapter-weights.js";
export { ClipMPCADModel, DEFAULT_LEVELS, DEFAULT_IMAGE_SIZE, type ModelOptions, type MemoryBank, type HeadOutputs } from "./model/clipmpcad-model.js";
export { VisionTower, type VisionOutput } from "./model/vision-tower.js";
export { TextTower } from "./model/text-tower.js";
