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

/** Distances [Nq] (or into `out`, a view). Both inputs must already be L2-normalised. */
export function nearestDistance(rt: Runtime, queries: Tensor, memory: Tensor, opts: { out?: Tensor<"f32">; label?: string } = {}): Tensor<"f32"> {
  const k = "nearest";
  expectF32(k, queries, "queries");
  expectF32(k, memory, "memory");
  const E = queries.shape[queries.shape.length - 1];
  if (memory.shape[memory.shape.length - 1] !== E || E === 0) {
    throw new ShapeError(`${k}: queries ${fmt(queries)} and memory ${fmt(memory)} must share their last axis`);
  }
  const Nq = queries.size / E;
  const Nm = memory.size / E;
  if (Nm === 0) throw new ShapeError(`${k}: the memory bank ${fmt(memory)} is empty; fit normal images first`);
  const queryTiles = Math.ceil(Nq / TILE);
  const memTiles = Math.ceil(Nm / TILE);
  const chunks = Math.max(1, Math.min(memTiles, Math.ceil(TARGET_WORKGROUPS / queryTiles), rt.maxWorkgroupsPerDimension));
  const tilesPerChunk = Math.ceil(memTiles / chunks);
  const usedChunks = Math.ceil(memTiles / tilesPerChunk);
  const out = opts.out ?? rt.empty(queries.shape.slice(0, -1), "f32", opts.label ?? "nearest distance");
  if (out.size !== Nq) throw new ShapeError(`${k}: out ${fmt(out)} must have ${Nq} elements`);
  const partial = rt.empty([usedChunks, Nq], "f32", "nearest partial");
  const params = { Nq, Nm, E, chunks: usedChunks, tilesPerChunk };
  const label = `${Nq}x${E} vs ${Nm}`;
  rt.dispatch(nearestPartialKernel, { label, bindings: { queries, memory, partial }, params, workgroups: [usedChunks, queryTiles] });
  rt.dispatch(nearestFinalizeKernel, { label, bindings: { partial, out }, params, workgroups: [Math.min(4096, Math.ceil(Nq / 256))] });
  partial.dispose();
  return out;
}
