export { ACTIVATIONS, type Activation } from "./activation.js";
export { matmul, linear, matmulKernel, type MatmulOptions } from "./matmul.js";
