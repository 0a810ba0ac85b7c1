/** Row gather (shaders/gather.wgsl): table [R, C], index u32 [n] -> [n, C]. */
import source from "../../shaders/gather.wgsl";
import { ShapeError } from "../runtime/errors.js";
import type { KernelDef } from "../runtime/kernel.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";
import { expectF32, fmt } from "./shape-checks.js";

export const gatherKernel: KernelDef = { name: "gather_rows", source, offsets: { table: "offTable" } };

export function gatherRows(rt: Runtime, table: Tensor, index: Tensor, label = "gathered"): Tensor<"f32"> {
  const k = "gather_rows";
  expectF32(k, table, "table");
  if (table.shape.length !== 2) throw new ShapeError(`${k}: table ${fmt(table)} must be [rows, cols]`);
  if (index.dtype !== "u32") throw new ShapeError(`${k}: index ${fmt(index)} must be u32`);
  const [R, C] = table.shape;
  const out = rt.empty([index.size, C], "f32", label);
  rt.dispatch(gatherKernel, {
    label: `${index.size}x${C} of ${R}`,
    bindings: { table, index, out },
    params: { rows: index.size, cols: C, tableRows: R },
    workgroups: [Math.max(1, Math.min(4096, Math.ceil((index.size * C) / 256)))],
  });
  return out;
}
