/**
 * Memory-bank nearest neighbour (shaders/nearest.wgsl): for L2-normalised queries [Nq, E]
 * and memory [Nm, E], d(q) = 1 - max_m q . m = min_m (1 - cos(q, m)). A tiled GEMM fused
 * with a running max, so only [chunks, Nq] partial maxima reach memory, never Nq x Nm.
 */
import gemmTile from "../../shaders/common/gemm-tile.wgsl";
import source from "../../shaders/nearest.wgsl";
import { ShapeError } from "../runtime/errors.js";
import { wgsl, type KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt } from "./shape-checks.js";

const src = wgsl(gemmTile, source);
const offsets = { queries: "offQ", memory: "offM", out: "offOut" };
export const nearestPartialKernel: KernelDef = { name: "nearest_partial", source: src, entryPoint: "nearest_partial", offsets };
export const nearestFinalizeKernel: KernelDef = { name: "nearest_finalize", source: src, entryPoint: "nearest_finalize", offsets };

const TILE = 64;
/** Enough workgroups to fill a large GPU even for one image's queries. */
const TARGET_WORKGROUPS = 512;

/**
 * Distances [Nq] (or into `out`, a view). Both inputs must already be L2-normalised. The
 * memory may be given in parts (views into one bank): the minimum runs over all of them.
 */
export function nearestDistance(rt: Runtime, queries: Tensor, memory: Tensor | Tensor[], opts: { out?: Tensor<"f32">; label?: string } = {}): Tensor<"f32"> {
  const k = "nearest";
  const parts = (Array.isArray(memory) ? memory : [memory]).filter((m) => m.size > 0);
  expectF32(k, queries, "queries");
  const E = queries.shape[queries.shape.length - 1];
  for (const m of parts) {
    expectF32(k, m, "memory");
    if (m.shape[m.shape.length - 1] !== E || E === 0) {
      throw new ShapeError(`${k}: queries ${fmt(queries)} and memory ${fmt(m)} must share their last axis`);
    }
  }
  const Nq = queries.size / E;
  if (parts.length === 0) {
    const first = Array.isArray(memory) ? memory[0] : memory;
    throw new ShapeError(`${k}: the memory bank${first ? ` ${fmt(first)}` : ""} is empty; fit normal images first`);
  }
  const queryTiles = Math.ceil(Nq / TILE);
  const plans = parts.map((m) => {
    const Nm = m.size / E;
    const memTiles = Math.ceil(Nm / TILE);
    const chunks = Math.max(1, Math.min(memTiles, Math.ceil(TARGET_WORKGROUPS / queryTiles / parts.length), rt.maxWorkgroupsPerDimension));
    const tilesPerChunk = Math.ceil(memTiles / chunks);
    return { m, Nm, tilesPerChunk, chunks: Math.ceil(memTiles / tilesPerChunk) };
  });
  const total = plans.reduce((a, p) => a + p.chunks, 0);
  const out = opts.out ?? rt.empty(queries.shape.slice(0, -1), "f32", opts.label ?? "nearest distance");
  if (out.size !== Nq) throw new ShapeError(`${k}: out ${fmt(out)} must have ${Nq} elements`);
  const partial = rt.empty([total, Nq], "f32", "nearest partial");
  let chunkBase = 0;
  for (const p of plans) {
    rt.dispatch(nearestPartialKernel, {
      label: `${Nq}x${E} vs ${p.Nm}`,
      bindings: { queries, memory: p.m, partial },
      params: { Nq, Nm: p.Nm, E, chunks: p.chunks, tilesPerChunk: p.tilesPerChunk, chunkBase },
      workgroups: [p.chunks, queryTiles],
    });
    chunkBase += p.chunks;
  }
  rt.dispatch(nearestFinalizeKernel, {
    label: `${Nq} of ${total} chunks`,
    bindings: { partial, out },
    params: { Nq, Nm: 0, E, chunks: total, tilesPerChunk: 0, chunkBase: 0 },
    workgroups: [Math.min(4096, Math.ceil(Nq / 256))],
  });
  partial.dispose();
  return out;
}
