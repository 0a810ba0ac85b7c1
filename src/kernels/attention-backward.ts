/**
 * The input gradient of the fused attention (shaders/attention-backward.wgsl): given the
 * packed qkv [T, 3W] or [B, T, 3W], the forward's output o and its gradient dout ([.., T, W]),
 * returns dqkv in qkv's layout. Scores are recomputed (two passes over the keys for dq, one
 * over the queries for dk, dv), so nothing of size T x T is stored; a [B, heads, T, 2]
 * scratch carries each query's softmax statistics from the first kernel to the second.
 */
import source from "../../shaders/attention-backward.wgsl";
import { ShapeError } from "../runtime/errors.js";
import type { KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, expectRank, fmt } from "./shape-checks.js";

const offsets = { qkv: "offQkv", o: "offO", dout: "offDout", dqkv: "offDqkv" };
export const attentionBackwardQKernel: KernelDef = { name: "attention_backward_q", source, entryPoint: "attention_backward_q", offsets };
export const attentionBackwardKvKernel: KernelDef = { name: "attention_backward_kv", source, entryPoint: "attention_backward_kv", offsets };

const ROWS = 16;

export function attentionBackward(rt: Runtime, qkv: Tensor, o: Tensor, dout: Tensor, opts: { heads: number; label?: string }): Tensor<"f32"> {
  const k = "attention_backward";
  expectRank(k, qkv, [2, 3], "qkv");
  for (const [t, name] of [[qkv, "qkv"], [o, "o"], [dout, "dout"]] as const) expectF32(k, t, name);
  const [T, W3] = qkv.shape.slice(-2);
  const batch = qkv.shape.length === 3 ? qkv.shape[0] : 1;
  if (W3 % 3 !== 0) throw new ShapeError(`${k}: qkv ${fmt(qkv)} must have 3W columns (q, k, v)`);
  const W = W3 / 3;
  const { heads } = opts;
  if (!Number.isInteger(heads) || heads < 1 || W % heads !== 0) throw new ShapeError(`${k}: width ${W} of qkv ${fmt(qkv)} does not split into ${heads} heads`);
  const d = W / heads;
  if (d % 4 !== 0 || d > 128) throw new ShapeError(`${k}: head dim ${d} (width ${W} / ${heads} heads) must be a multiple of 4 up to 128`);
  for (const [t, name] of [[o, "o"], [dout, "dout"]] as const) {
    if (t.size !== batch * T * W) throw new ShapeError(`${k}: ${name} ${fmt(t)} must have ${batch * T * W} elements ([${batch > 1 ? `${batch}, ` : ""}${T}, ${W}])`);
  }
  const stats = rt.empty([batch, heads, T, 2], "f32", "attention softmax stats");
  const dqkv = rt.empty(qkv.shape, "f32", opts.label ?? "d qkv");
  const call = {
    label: `${batch > 1 ? `${batch}x` : ""}T${T} ${heads}x${d}`,
    bindings: { qkv, o, dout, stats, dqkv },
    params: { T, W, strideQkv: T * W3, strideOut: T * W, scale: 1 / Math.sqrt(d) },
    constants: { HEAD_DIM: d },
    workgroups: [Math.ceil(T / ROWS), heads, batch] as [number, number, number],
  };
  rt.dispatch(attentionBackwardQKernel, call);
  rt.dispatch(attentionBackwardKvKernel, { ...call, bindings: { qkv, dout, stats, dqkv } }); // o only gave D
  stats.dispose();
  return dqkv;
}
