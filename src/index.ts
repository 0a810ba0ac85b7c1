/** The Node entry: the library, with Dawn (npm `webgpu`) as the default WebGPU provider. */
import { setDefaultGpuProvider } from "./runtime/gpu-provider.js";
import { nodeGpuProvider } from "./runtime/node-gpu.js";

setDefaultGpuProvider(nodeGpuProvider);

export * from "./common.js";
export { nodeGpuProvider, SWIFTSHADER_ICDS } from "./runtime/node-gpu.js";
export { loadTokenizer, loadPromptSet, savePromptSet } from "./tokenizer/load-node.js";
export { openSafetensors, saveSafetensors, fileSource } from "./model/safetensors-node.js";
export { decodeImage, decodeImageFile, ImageDecodeError, type RgbImage } from "./image/decode-node.js";
export { runTrace, writeTrace, loadImages, type TraceOptions } from "./model/trace.js";
export { runTrainTrace, writeTrainTrace, type TrainTraceOptions } from "./model/train-trace.js";
export { encodePng } from "./image/decode-node.js";
export { nodePlatform, saveDetectorFile } from "./api/platform-node.js";
import { setDefaultPlatform } from "./api/clipmpcad.js";
import { nodePlatform } from "./api/platform-node.js";
setDefaultPlatform(nodePlatform);
export { trainingShots, type TrainingShots } from "./eval/train-data.js";
export { writeSyntheticDataset, type SyntheticDatasetOptions } from "./eval/synthetic-dataset.js";
export { evaluateDataset, loadMask, DatasetError, CLASSIFICATION_SETS, type EvaluateOptions, type EvaluateResult, type ImageResult } from "./eval/evaluate.js";
export { downloadFile, downloadModel, DownloadError, CLIP_FILES, type DownloadProgress, type DownloadModelOptions } from "./hub/download-node.js";
