/** Shape guards shared by the kernel wrappers; errors name the kernel and the shapes. */
import { ShapeError } from "../runtime/errors.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Tensor } from "../runtime/tensor.js";

export function fmt(t: Tensor): string {
  return `"${t.label}" [${t.shape.join(", ")}]`;
}

export function expectRank(kernel: string, t: Tensor, ranks: number[], role: string): void {
  if (!ranks.includes(t.shape.length)) {
    throw new ShapeError(`${kernel}: ${role} ${fmt(t)} must have rank ${ranks.join(" or ")}`);
  }
}

export function expectShape(kernel: string, t: Tensor, shape: readonly number[], role: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${kernel}: ${role} ${fmt(t)} must have shape [${shape.join(", ")}]`);
  }
}

export function expectF32(kernel: string, t: Tensor, role: string): void {
  if (t.dtype !== "f32") throw new ShapeError(`${kernel}: ${role} ${fmt(t)} must be f32, not ${t.dtype}`);
}

/** Splits a count of workgroups over x and y when it exceeds the per-dimension limit. */
export function grid2d(rt: Runtime, count: number): [number, number] {
  const max = rt.maxWorkgroupsPerDimension;
  if (count <= max) return [count, 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}

/**
 * Threads per row for the row kernels (a power of two, about 4 values a thread, at most a
 * 256-thread workgroup) and the 2-D grid that covers `rows` rows with 256 / tpr rows a group.
 */
export function rowLayout(rt: Runtime, rows: number, cols: number): { constants: { TPR: number }; workgroups: [number, number] } {
  let tpr = 1;
  while (tpr < 256 && tpr * 4 < cols) tpr *= 2;
  return { constants: { TPR: tpr }, workgroups: grid2d(rt, Math.ceil(rows / (256 / tpr))) };
}
