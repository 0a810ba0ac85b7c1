/**
 * The backward pass of one MADFF adapter (spec 5.1) for training: given a pair's saved
 * forward (madffPair with { save: true }), the gradients of the adapter's mid tokens and of
 * its out, it writes the adapter's weight gradients and returns the gradient of its input x.
 * Chain, from the output back (a = this adapter, c = 0.4/0.2/0.2/0.2):
 *   gu2 = 0.3 gout leaky'(u2);  dfc2 = gu2^T mid;  gmid += gu2 fc2
 *   gu = c_b gmid leaky'(u_b) per block b of [x; ca; sa; fa];  dfc1 = gu^T stack;  gv = gu fc1
 *   gsa = gv_sa + 0.2 gout, gfa = gv_fa + 0.3 gout, gca = gv_ca + 0.2 gout, gx = gv_x
 *   spatial gate: gca += ..., d(w0, w1, b) = column sums of the per-token shares
 *   frequency gate: gx += gfa gf; gz -> dfc_f2, dfc_f0 through relu, gx += d|DFT|^T (gz fc_f2 ...)
 *   channel gate: gx += gca gc; gz -> dfc_c2, dfc_c0 through relu, gx += ghc fc_c0
 * Weight gradients land in `grads` (tensors shaped like the pair's weights: [2, ...]) at item a.
 */
import activations from "../../shaders/common/activations.wgsl";
import reduce from "../../shaders/common/workgroup-reduce.wgsl";
import source from "../../shaders/madff-backward.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { activationCode, type Activation } from "./activation.js";
import { activationBackward } from "./backward.js";
import { scaledSum } from "./elementwise.js";
import { fftMagnitudeBackward } from "./fft.js";
import type { MadffPairSaved, MadffPairWeights, PairTensorKey } from "./madff.js";
import { matmul } from "./matmul.js";
import { expectShape, fmt, rowLayout } from "./shape-checks.js";

const src = wgsl(activations, reduce, source);
const offsets = { x: "offX", gate: "offS", gy: "offGy", gx: "offGx", gz: "offGz" };
export const gateBackwardKernel: KernelDef = { name: "gate_backward", source: src, entryPoint: "gate_backward", offsets };
export const spatialGateBackwardKernel: KernelDef = { name: "spatial_gate_backward", source: src, entryPoint: "spatial_gate_backward", offsets };
export const scaledActBackwardKernel: KernelDef = { name: "scaled_act_backward", source: src, entryPoint: "scaled_act_backward", offsets };

/** Gradients shaped like a pair's weights ([2, ...], seg then det). */
export type MadffPairGrads = Record<PairTensorKey, Tensor<"f32">>;

const NO_PARAMS = { n: 0, rows: 0, cols: 0, blocks: 0, gateOff: 0, k: 0, c0: 0, c1: 0, c2: 0, c3: 0 };

function flat(n: number): [number] {
  return [Math.max(1, Math.min(4096, Math.ceil(n / 256)))];
}

function sameSize(k: string, ref: Tensor, ...ts: [Tensor, string][]): void {
  for (const [t, name] of ts) if (t.size !== ref.size) throw new ShapeError(`${k}: ${name} ${fmt(t)} must have ${ref.size} elements like ${fmt(ref)}`);
}

/**
 * y = x * s, s = sigmoid(k z): gx (+)= gy * s and returns gz = gy * x * k s (1 - s).
 * `accumulate` adds into gx instead of overwriting it.
 */
export function gateBackward(rt: Runtime, x: Tensor, s: Tensor, gy: Tensor, gx: Tensor<"f32">, o: { k: number; accumulate: boolean }): Tensor<"f32"> {
  sameSize("gate_backward", x, [s, "s"], [gy, "gy"], [gx, "gx"]);
  const gz = rt.empty(x.shape, "f32", "d gate pre-activation");
  rt.dispatch(gateBackwardKernel, {
    label: `${x.size}`,
    bindings: { x, gate: s, gy, gx, gz },
    params: { ...NO_PARAMS, n: x.size, k: o.k },
    constants: { ACCUMULATE: o.accumulate ? 1 : 0 },
    workgroups: flat(x.size),
  });
  return gz;
}

/**
 * sa = ca * sigmoid(w0 mean(ca) + w1 max(ca) + b) per row of ca [R, W]; gates [2, 3] of the
 * pair, this adapter's at item `adapter`. gca (+)= the input gradient; returns the per-row
 * shares [R, 3] of d(w0, w1, b).
 */
export function spatialGateBackward(rt: Runtime, ca: Tensor, gsa: Tensor, gates: Tensor, gca: Tensor<"f32">, o: { adapter: number; accumulate: boolean }): Tensor<"f32"> {
  const k = "spatial_gate_backward";
  sameSize(k, ca, [gsa, "gsa"], [gca, "gca"]);
  const [R, W] = [ca.size / ca.shape[ca.shape.length - 1], ca.shape[ca.shape.length - 1]];
  const partial = rt.empty([R, 3], "f32", "d spatial gate per token");
  const layout = rowLayout(rt, R, W);
  rt.dispatch(spatialGateBackwardKernel, {
    label: `${R}x${W}`,
    bindings: { x: ca, gy: gsa, gx: gca, gz: partial, gates },
    params: { ...NO_PARAMS, rows: R, cols: W, gateOff: 3 * o.adapter },
    constants: { ...layout.constants, ACCUMULATE: o.accumulate ? 1 : 0 },
    workgroups: layout.workgroups,
  });
  return partial;
}

/** gu[b] = c[b] * g * act'(u[b]) for the blocks b of u (u: [blocks * g.size]). */
export function scaledActBackward(rt: Runtime, u: Tensor, g: Tensor, coefs: number[], act: Activation): Tensor<"f32"> {
  const k = "scaled_act_backward";
  if (coefs.length < 1 || coefs.length > 4 || u.size !== coefs.length * g.size) {
    throw new ShapeError(`${k}: u ${fmt(u)} must hold ${coefs.length} blocks the size of g ${fmt(g)} (1 to 4 coefficients)`);
  }
  const c = [...coefs, 0, 0, 0];
  const gu = rt.empty(u.shape, "f32", "d pre-activation");
  rt.dispatch(scaledActBackwardKernel, {
    label: `${coefs.length}x${g.size}`,
    bindings: { x: u, gy: g, gx: gu },
    params: { ...NO_PARAMS, n: g.size, blocks: coefs.length, c0: c[0], c1: c[1], c2: c[2], c3: c[3] },
    constants: { ACT: activationCode(act, k) },
    workgroups: flat(u.size),
  });
  return gu;
}

/**
 * Backward of adapter `a` (0 seg, 1 det) of a pair. gmid [R, E] and gout [R, W] may be null
 * (no loss reaches them: the classification task's seg mids, the last level's out); the
 * gradient of the adapter's out is outScale * gout (0.1 in the tower's mix). Returns
 * d loss / d x [R, W] of this adapter alone.
 */
export function madffBackward(
  rt: Runtime,
  saved: MadffPairSaved,
  w: MadffPairWeights,
  grads: MadffPairGrads,
  a: number,
  gmid: Tensor | null,
  gout: Tensor | null,
  outScale = 1,
): Tensor<"f32"> {
  const k = "madff_backward";
  const [, R4, W] = saved.stack.shape;
  const R = R4 / 4;
  const E = w.fc1.shape[1];
  const n = R * W;
  if (gmid) expectShape(k, gmid, [R, E], "gmid");
  if (gout) expectShape(k, gout, [R, W], "gout");
  const item = (t: Tensor) => t.at(a);
  const views: Tensor[] = [];
  const v = <T extends Tensor>(t: T): T => {
    const view = item(t) as T;
    views.push(view);
    return view;
  };
  const temps: Tensor[] = [];
  const tmp = <T extends Tensor>(t: T) => (temps.push(t), t);
  const stack = v(saved.stack);
  const x = stack.view([R, W], 0);
  const ca = stack.view([R, W], n);
  views.push(x, ca);

  // fc2
  let gmidT: Tensor | null = gmid;
  const dfc2 = v(grads.fc2);
  if (gout) {
    const gu2 = tmp(scaledActBackward(rt, v(saved.o2), gout, [0.3 * outScale], "leakyRelu"));
    matmul(rt, gu2, v(saved.mid), { transA: true, out: dfc2 });
    gmidT = tmp(matmul(rt, gu2, v(w.fc2), gmid ? { residual: gmid } : {}));
  } else {
    rt.clear(dfc2);
  }
  // fc1 on the four inputs
  const dfc1 = v(grads.fc1);
  const gv = tmp(rt.empty([4 * R, W], "f32", "d madff stack"));
  if (gmidT) {
    const gu = tmp(scaledActBackward(rt, v(saved.f1), gmidT, [0.4, 0.2, 0.2, 0.2], "leakyRelu"));
    matmul(rt, gu, stack, { transA: true, out: dfc1 });
    matmul(rt, gu, v(w.fc1), { out: gv });
  } else {
    rt.clear(dfc1);
    rt.clear(gv);
  }
  const block = (b: number) => (views.push(gv.view([R, W], b * n)), views[views.length - 1]);
  // gx and gca are accumulated into, so they get buffers of their own (a buffer may not be
  // bound writable beside a read-only view of itself)
  const own = (t: Tensor) => tmp(rt.clone(t));
  const [gx0, gca0, gsa0, gfa0] = [block(0), block(1), block(2), block(3)];
  const gx = own(gx0);
  const gca = gout ? tmp(scaledSum(rt, [gca0, gout], [1, 0.2 * outScale])) : own(gca0);
  const gsa = gout ? tmp(scaledSum(rt, [gsa0, gout], [1, 0.2 * outScale])) : gsa0;
  const gfa = gout ? tmp(scaledSum(rt, [gfa0, gout], [1, 0.3 * outScale])) : gfa0;

  // spatial gate: its three numbers' gradients are column sums of the per-token shares
  const shares = tmp(spatialGateBackward(rt, ca, gsa, w.spatial, gca, { adapter: a, accumulate: true }));
  const ones = tmp(rt.tensor(new Float32Array(R).fill(1), [R, 1], "f32", "ones"));
  const dsp = grads.spatial.view([3, 1], grads.spatial.offset + 3 * a);
  views.push(dsp);
  matmul(rt, shares, ones, { transA: true, out: dsp });

  // frequency gate: fa = x * gf, gf = sigmoid(hf fc_f2^T), hf = relu(|DFT(x)| fc_f0^T)
  const gzf = tmp(gateBackward(rt, x, v(saved.gf), gfa, gx, { k: 1, accumulate: true }));
  const hf = v(saved.hf);
  matmul(rt, gzf, hf, { transA: true, out: v(grads.frequency2) });
  const ghf = tmp(activationBackward(rt, hf, tmp(matmul(rt, gzf, v(w.frequency2))), "relu"));
  matmul(rt, ghf, saved.mag, { transA: true, out: v(grads.frequency0) });
  const gmag = tmp(matmul(rt, ghf, v(w.frequency0)));
  const gxf = tmp(fftMagnitudeBackward(rt, x, gmag));

  // channel gate: ca = x * gc, gc = sigmoid(2 hc fc_c2^T), hc = relu(x fc_c0^T)
  const gzc = tmp(gateBackward(rt, x, v(saved.gc), gca, gx, { k: 2, accumulate: true }));
  const hc = v(saved.hc);
  matmul(rt, gzc, hc, { transA: true, out: v(grads.channel2) });
  const ghc = tmp(activationBackward(rt, hc, tmp(matmul(rt, gzc, v(w.channel2))), "relu"));
  matmul(rt, ghc, x, { transA: true, out: v(grads.channel0) });
  matmul(rt, ghc, v(w.channel0), { residual: gx, out: gx });
  const dx = scaledSum(rt, [gx, gxf], [1, 1]);
  for (const t of [...temps, ...views]) t.dispose();
  return dx;
}
