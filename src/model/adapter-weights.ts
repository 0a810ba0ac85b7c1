/**
 * The trained part of ClipMPCAD: seg and det MADFF adapters per level (spec 1, "Adapter
 * checkpoint"), keys `seg_adapters.{j}.*` and `det_adapters.{j}.*`, stacked per level into
 * the [2, ...] tensors the madff kernel takes (item 0 seg, item 1 det). Of each spatial
 * attention's 7-tap conv only the centre taps meet data (spec 5.1).
 */
import type { MadffPairWeights, PairTensorKey } from "../kernels/madff.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { SafetensorsError, type SafetensorsFile, type WritableTensor } from "./safetensors.js";

/** Number of adapter levels in a checkpoint (seg and det must agree). */
export function adapterLevels(file: SafetensorsFile): number {
  const count = (kind: string) => {
    let n = 0;
    for (const name of file.tensors.keys()) {
      const m = new RegExp(`^${kind}_adapters\\.(\\d+)\\.fc1\\.0\\.weight$`).exec(name);
      if (m) n = Math.max(n, Number(m[1]) + 1);
    }
    return n;
  };
  const seg = count("seg");
  const det = count("det");
  if (seg === 0 && det === 0) {
    throw new SafetensorsError(`${file.source.name}: no "seg_adapters.0.fc1.0.weight" or "det_adapters.0.fc1.0.weight": not a ClipMPCAD adapter checkpoint`);
  }
  if (seg !== det) throw new SafetensorsError(`${file.source.name}: ${seg} seg adapters but ${det} det adapters`);
  return seg;
}

/** The shapes of one adapter's tensors for vision width W and embedding width E. */
export function adapterShapes(W: number, E: number): Record<string, number[]> {
  const H = Math.floor(W / 16);
  return {
    "fc1.0.weight": [E, W],
    "fc2.0.weight": [W, E],
    "channel_attention.fc.0.weight": [H, W],
    "channel_attention.fc.2.weight": [W, H],
    "frequency_attention.fc.0.weight": [H, W],
    "frequency_attention.fc.2.weight": [W, H],
    "spatial_attention.conv.weight": [1, 2, 7],
    "spatial_attention.conv.bias": [1],
  };
}

/** Checks every adapter tensor's presence and shape from the header, before anything is read. */
export function checkAdapters(file: SafetensorsFile, levels: number, W: number, E: number): void {
  for (let j = 0; j < levels; j++) {
    for (const kind of ["seg", "det"]) {
      for (const [suffix, shape] of Object.entries(adapterShapes(W, E))) {
        const name = `${kind}_adapters.${j}.${suffix}`;
        const got = file.info(name).shape;
        if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
          throw new SafetensorsError(`${file.source.name}: tensor "${name}" has shape [${got.join(", ")}], expected [${shape.join(", ")}] for a CLIP of width ${W} and embedding ${E}`);
        }
      }
    }
  }
}

/** Loads level j of both adapters for vision width W and embedding width E. */
export async function loadAdapterPair(rt: Runtime, file: SafetensorsFile, j: number, W: number, E: number): Promise<MadffPairWeights> {
  const H = Math.floor(W / 16);
  const both = async (suffix: string, shape: number[]): Promise<Tensor> => {
    const seg = await file.read(`seg_adapters.${j}.${suffix}`, shape);
    const det = await file.read(`det_adapters.${j}.${suffix}`, shape);
    const data = new Float32Array(2 * seg.length);
    data.set(seg);
    data.set(det, seg.length);
    return rt.tensor(data, [2, ...shape], "f32", `adapters.${j}.${suffix}`);
  };
  const spatial = new Float32Array(6);
  const spatialConv = new Float32Array(28);
  for (const [a, kind] of ["seg", "det"].entries()) {
    const w = await file.read(`${kind}_adapters.${j}.spatial_attention.conv.weight`, [1, 2, 7]);
    const b = await file.read(`${kind}_adapters.${j}.spatial_attention.conv.bias`, [1]);
    spatial.set([w[3], w[7 + 3], b[0]], a * 3);
    spatialConv.set(w, a * 14);
  }
  return {
    fc1: await both("fc1.0.weight", [E, W]),
    fc2: await both("fc2.0.weight", [W, E]),
    channel0: await both("channel_attention.fc.0.weight", [H, W]),
    channel2: await both("channel_attention.fc.2.weight", [W, H]),
    frequency0: await both("frequency_attention.fc.0.weight", [H, W]),
    frequency2: await both("frequency_attention.fc.2.weight", [W, H]),
    spatial: rt.tensor(spatial, [2, 3], "f32", `adapters.${j}.spatial`),
    spatialConv,
  };
}

const PAIR_NAMES: [Exclude<PairTensorKey, "spatial">, string][] = [
  ["fc1", "fc1.0.weight"],
  ["fc2", "fc2.0.weight"],
  ["channel0", "channel_attention.fc.0.weight"],
  ["channel2", "channel_attention.fc.2.weight"],
  ["frequency0", "frequency_attention.fc.0.weight"],
  ["frequency2", "frequency_attention.fc.2.weight"],
];

/**
 * The adapters (or tensors shaped like them: gradients, with `gradient` true) under the
 * checkpoint's names and layout (spec 1), read back from the GPU. The spatial conv's
 * off-centre taps are the loaded ones for weights (they never meet data, so never train) and
 * zero for gradients.
 */
export async function adapterCheckpoint(pairs: MadffPairWeights[], tensors: Record<PairTensorKey, Tensor>[] = pairs, o: { gradient?: boolean } = {}): Promise<Record<string, WritableTensor>> {
  const out: Record<string, WritableTensor> = {};
  for (let j = 0; j < pairs.length; j++) {
    const t = tensors[j];
    for (const [key, suffix] of PAIR_NAMES) {
      const data = (await t[key].read()) as Float32Array;
      const shape = t[key].shape.slice(1);
      const n = data.length / 2;
      out[`seg_adapters.${j}.${suffix}`] = { shape, data: data.slice(0, n) };
      out[`det_adapters.${j}.${suffix}`] = { shape, data: data.slice(n) };
    }
    const sp = (await t.spatial.read()) as Float32Array;
    for (const [a, kind] of ["seg", "det"].entries()) {
      const conv = o.gradient || !pairs[j].spatialConv ? new Float32Array(14) : pairs[j].spatialConv!.slice(a * 14, a * 14 + 14);
      conv[3] = sp[a * 3];
      conv[10] = sp[a * 3 + 1];
      out[`${kind}_adapters.${j}.spatial_attention.conv.weight`] = { shape: [1, 2, 7], data: conv };
      out[`${kind}_adapters.${j}.spatial_attention.conv.bias`] = { shape: [1], data: Float32Array.of(sp[a * 3 + 2]) };
    }
  }
  return out;
}

export function adapterTensors(p: MadffPairWeights): Tensor[] {
  return [p.fc1, p.fc2, p.channel0, p.channel2, p.frequency0, p.frequency2, p.spatial];
}
