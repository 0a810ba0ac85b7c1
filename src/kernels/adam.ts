/**
 * Adam (shaders/adam.wgsl) as PyTorch computes it, for training the adapters (spec 9:
 * lr 1e-3, betas 0.5 / 0.999). The step updates param, m and v in place.
 */
import source from "../../shaders/adam.wgsl";
import { ShapeError } from "../runtime/errors.js";
import type { KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt } from "./shape-checks.js";

export const adamKernel: KernelDef = { name: "adam_step", source, entryPoint: "adam_step", offsets: { grad: "offGrad", param: "offParam", m: "offM", v: "offV" } };

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** 1 for the first step (bias corrections 1 - beta^step). */
  step: number;
}

export function adamStep(rt: Runtime, param: Tensor, grad: Tensor, m: Tensor, v: Tensor, o: AdamOptions): void {
  const k = "adam_step";
  for (const [t, role] of [[param, "param"], [grad, "grad"], [m, "m"], [v, "v"]] as const) {
    expectF32(k, t, role);
    if (t.size !== param.size) throw new ShapeError(`${k}: ${role} ${fmt(t)} must have param's size ${fmt(param)}`);
  }
  if (!Number.isInteger(o.step) || o.step < 1) throw new ShapeError(`${k}: step must be a whole number from 1, not ${o.step}`);
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  rt.dispatch(adamKernel, {
    label: `${param.label} step ${o.step}`,
    bindings: { grad, param, m, v },
    params: { n: param.size, lr: o.lr ?? 1e-3, beta2: b2, oneMinusBeta1: 1 - b1, oneMinusBeta2: 1 - b2, eps: o.eps ?? 1e-8, bc1: 1 - b1 ** o.step, bc2Sqrt: Math.sqrt(1 - b2 ** o.step) },
    workgroups: [Math.min(4096, Math.max(1, Math.ceil(param.size / 256)))],
  });
}
