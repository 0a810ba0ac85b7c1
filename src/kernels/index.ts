export { ACTIVATIONS, type Activation } from "./activation.js";
export { matmul, linear, matmulKernel, type MatmulOptions } from "./matmul.js";
export { layerNorm, layerNormKernel } from "./layernorm.js";
export { softmax, softmaxKernel } from "./softmax.js";
export { rowMean, rowMax, rowMeanKernel, rowMaxKernel } from "./reduce.js";
export { add, mul, scaledSum, elementwiseKernels } from "./elementwise.js";
export { permute, transpose, permuteKeepLastKernel, permuteTransposeKernel } from "./permute.js";
export { attention, attentionKernel, type AttentionOptions } from "./attention.js";
export { fftMagnitude, fftRadices, fftMagnitudeKernel, MAX_FFT_LENGTH } from "./fft.js";
