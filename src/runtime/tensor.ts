/** A tensor: a GPU buffer from the runtime's pool with a shape and dtype. Row-major. */
import { DisposedError } from "./errors.js";
import type { DType } from "./kernel.js";
import type { Runtime } from "./runtime.js";

export type TypedArrayFor<D extends DType> = D extends "f32" ? Float32Array<ArrayBuffer> : D extends "u32" ? Uint32Array<ArrayBuffer> : Int32Array<ArrayBuffer>;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: readonly number[], what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`${what}: shape [${shape.join(", ")}] must hold non-negative integers`);
  }
}

export class Tensor<D extends DType = DType> {
  private buffer_: GPUBuffer | null;
  readonly size: number;

  /** @internal Tensors are made by the runtime (rt.tensor, rt.empty) and by kernels. */
  constructor(
    readonly runtime: Runtime,
    buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: D,
    readonly label: string,
    /** Elements before this tensor's first element in its buffer (views; 0 otherwise). */
    readonly offset = 0,
  ) {
    this.buffer_ = buffer;
    this.size = numel(shape);
  }

  /** Bytes of data (the buffer behind it may be larger, and the data may start at `offset`). */
  get byteSize(): number {
    return this.size * 4;
  }

  get disposed(): boolean {
    return this.buffer_ === null;
  }

  get buffer(): GPUBuffer {
    if (!this.buffer_) {
      throw new DisposedError(`tensor "${this.label}" [${this.shape.join(", ")}] was used after dispose()`);
    }
    return this.buffer_;
  }

  /** Copies the data back to the CPU (runs all recorded work first). */
  read(): Promise<TypedArrayFor<D>> {
    return this.runtime.read(this);
  }

  /** A view with another shape over the same buffer (same element count, not a copy). */
  reshape(shape: readonly number[]): Tensor<D> {
    checkShape(shape, `reshape of "${this.label}"`);
    if (numel(shape) !== this.size) {
      throw new RangeError(`reshape of "${this.label}": [${this.shape.join(", ")}] has ${this.size} elements, [${shape.join(", ")}] has ${numel(shape)}`);
    }
    return this.runtime.view(this, shape, this.offset);
  }

  /** A view of items start..start+count-1 along the first axis (not a copy). */
  slice(start: number, count = 1): Tensor<D> {
    const n = this.shape[0];
    if (this.shape.length === 0 || !Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > n) {
      throw new RangeError(`slice of "${this.label}" [${this.shape.join(", ")}]: items ${start}..${start + count - 1} are out of range`);
    }
    const inner = this.size / (n || 1);
    return this.runtime.view(this, [count, ...this.shape.slice(1)], this.offset + start * inner);
  }

  /** A view of `shape` starting `offset` elements into this tensor (not a copy). */
  view(shape: readonly number[], offset = 0): Tensor<D> {
    checkShape(shape, `view of "${this.label}"`);
    if (!Number.isInteger(offset) || offset < 0 || offset + numel(shape) > this.size) {
      throw new RangeError(`view of "${this.label}" [${this.shape.join(", ")}]: [${shape.join(", ")}] at element ${offset} does not fit`);
    }
    return this.runtime.view(this, shape, this.offset + offset);
  }

  /** Item i along the first axis, without that axis (a view). */
  at(i: number): Tensor<D> {
    const v = this.slice(i, 1);
    const r = this.runtime.view(v, this.shape.slice(1), v.offset);
    v.dispose();
    return r;
  }

  /** Returns the buffer to the pool. Safe to call twice. */
  dispose(): void {
    if (!this.buffer_) return;
    const b = this.buffer_;
    this.buffer_ = null;
    this.runtime.releaseTensor(this, b);
  }
}
