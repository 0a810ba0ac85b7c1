/**
 * Reuses GPU buffers so that repeated forwards do not allocate. Sizes are rounded up to a
 * size class (8 classes per power of two, so at most 12.5% is wasted); a released buffer
 * goes back to its class's free list and is handed out again for the next request of that
 * class. Reuse inside one recorded command list is safe: dispatches run in recording order.
 */

export interface PoolStats {
  /** Buffers ever created by this pool (flat across repeated forwards once warm). */
  allocations: number;
  /** Bytes held in buffers, in use or free. */
  bytesAllocated: number;
  /** Bytes in buffers handed out and not yet released. */
  bytesInUse: number;
  /** Highest bytesInUse seen. */
  peakBytesInUse: number;
  /** Buffers sitting in free lists. */
  freeBuffers: number;
}

export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes));
  const step = Math.max(256, 2 ** (Math.floor(Math.log2(b)) - 3));
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  private readonly all = new Set<GPUBuffer>();
  private stats_: PoolStats = {
    allocations: 0,
    bytesAllocated: 0,
    bytesInUse: 0,
    peakBytesInUse: 0,
    freeBuffers: 0,
  };

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly label: string,
  ) {}

  /** Starts the peak over from what is in use now (to measure one phase). */
  resetPeak(): void {
    this.stats_.peakBytesInUse = this.stats_.bytesInUse;
  }

  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.stats_.freeBuffers--;
    } else {
      buffer = this.device.createBuffer({ size, usage: this.usage, label: `${this.label}:${size}` });
      this.sizes.set(buffer, size);
      this.all.add(buffer);
      this.stats_.allocations++;
      this.stats_.bytesAllocated += size;
    }
    this.stats_.bytesInUse += size;
    this.stats_.peakBytesInUse = Math.max(this.stats_.peakBytesInUse, this.stats_.bytesInUse);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const size = this.sizes.get(buffer);
    if (size === undefined || !this.all.has(buffer)) return;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
    this.stats_.freeBuffers++;
    this.stats_.bytesInUse -= size;
  }

  /** Destroys the free buffers (those in use stay valid). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        b.destroy();
        this.all.delete(b);
        this.stats_.bytesAllocated -= this.sizes.get(b) ?? 0;
      }
    }
    this.free.clear();
    this.stats_.freeBuffers = 0;
  }

  stats(): PoolStats {
    return { ...this.stats_ };
  }

  destroy(): void {
    for (const b of this.all) b.destroy();
    this.all.clear();
    this.free.clear();
  }
}
