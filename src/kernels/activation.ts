/** Activation codes shared with shaders/common/activations.wgsl. */
export const ACTIVATIONS = {
  none: 0,
  gelu: 1,
  quickGelu: 2,
  relu: 3,
  leakyRelu: 4,
  sigmoid: 5,
} as const;

export type Activation = keyof typeof ACTIVATIONS;

export function activationCode(act: Activation | undefined, kernel: string): number {
  const code = ACTIVATIONS[act ?? "none"];
  if (code === undefined) {
    throw new RangeError(`${kernel}: unknown activation "${act}"; use one of ${Object.keys(ACTIVATIONS).join(", ")}`);
  }
  return code;
}
