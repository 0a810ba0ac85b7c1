/**
 * The runtime: one GPUDevice, a buffer pool, a pipeline cache and a command recorder.
 *
 * Kernel calls are recorded synchronously into a command list; `sync()`, `read()` and
 * `flush()` turn the list into one command encoder (one compute pass per dispatch, labelled
 * with the kernel) and submit it once. Pipelines compile asynchronously in the meantime, so
 * recording never blocks on the shader compiler. WebGPU errors raised by the submission are
 * thrown from the next `sync()`/`read()` as KernelError naming the kernel.
 */
import { BufferPool, type PoolStats } from "./buffer-pool.js";
import { describeAdapter, type AdapterReport } from "./adapter-report.js";
import { DeviceLostError, DisposedError, KernelError, LimitError, ShapeError } from "./errors.js";
import { resolveGpuProvider, type GpuProvider } from "./gpu-provider.js";
import {
  dtypeMatchesElement,
  packParams,
  reflectKernel,
  type DType,
  type KernelDef,
  type KernelLayout,
} from "./kernel.js";
import { checkShape, numel, Tensor, type TypedArrayFor } from "./tensor.js";

export interface RuntimeOptions {
  /** A device the caller already owns; the runtime then never destroys it. */
  device?: GPUDevice;
  /** Where to find an adapter; defaults to navigator.gpu, or Dawn on Node. */
  gpu?: GpuProvider;
  powerPreference?: GPUPowerPreference;
  /** Called once when the device is lost for a reason other than dispose(); rebuild from here. */
  onDeviceLost?: (info: { reason: string; message: string }) => void;
  /**
   * Workgroups per grid dimension before kernels fold work into a second dimension; defaults
   * to the device limit (65535). Lower it only to exercise that folding in tests.
   */
  maxWorkgroupsPerDimension?: number;
}

export interface DispatchOptions {
  /** Buffers by their WGSL variable names; every storage binding of the entry point. */
  bindings: Record<string, Tensor>;
  /** Values of the `params` uniform's fields, by name. */
  params?: Record<string, number>;
  /** Pipeline-overridable constants (`override` declarations). */
  constants?: Record<string, number>;
  /** Workgroup counts. */
  workgroups: [number, number?, number?];
  /** Extra text for labels and errors (shapes, usually). */
  label?: string;
}

export interface RuntimeStats extends PoolStats {
  pipelines: number;
  dispatches: number;
  submits: number;
}

type Command =
  | { kind: "dispatch"; label: string; pipelineKey: string; def: KernelDef; layout: KernelLayout; entries: GPUBindGroupEntry[]; paramsAt: number; workgroups: [number, number, number] }
  | { kind: "copy"; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number; label: string }
  | { kind: "clear"; dst: GPUBuffer; dstOffset: number; size: number; label: string };

interface PipelineEntry {
  promise: Promise<GPUComputePipeline>;
  pipeline?: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

const UNIFORM_ALIGN = 256;

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  if (options.device) return new Runtime(options.device, null, options, false);
  const adapter = await resolveGpuProvider(options.gpu)({ powerPreference: options.powerPreference ?? "high-performance" });
  // Ask for the largest buffers the adapter allows: ViT-L weights and memory banks need more
  // than the 128/256 MiB defaults.
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: adapter.limits.maxComputeWorkgroupSizeY,
  };
  const wanted: GPUFeatureName[] = ["shader-f16", "subgroups", "timestamp-query"];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: "clipmpcad-gpu" });
  return new Runtime(device, adapter, options, true);
}

export class Runtime {
  readonly adapter: AdapterReport;
  private readonly pool: BufferPool;
  private readonly readPool: BufferPool;
  private readonly refs = new Map<GPUBuffer, number>();
  private readonly pipelines = new Map<string, PipelineEntry>();
  private commands: Command[] = [];
  private paramBytes = new ArrayBuffer(64 * 1024);
  private paramUsed = 0;
  private uniformBuffer: GPUBuffer | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** GPU time per kernel name while profiling (timestamp-query), in ns; reads still in flight. */
  private profiling = false;
  private gpuNs = new Map<string, { calls: number; ns: number }>();
  private profileReads: Promise<void>[] = [];
  private pendingError: KernelError | null = null;
  private lostInfo: { reason: string; message: string } | null = null;
  private disposed_ = false;
  private seq = 0;
  private placeholder_: Tensor<"f32"> | null = null;
  private counters = { dispatches: 0, submits: 0 };
  /** Labels of the last submitted command list, for errors that arrive later. */
  private lastSubmitted: string[] = [];

  /** @internal use createRuntime() */
  constructor(
    readonly device: GPUDevice,
    adapter: GPUAdapter | null,
    private readonly options: RuntimeOptions,
    private readonly ownsDevice: boolean,
  ) {
    this.adapter = adapter ? describeAdapter(adapter, device) : describeDeviceOnly(device);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.pool = new BufferPool(device, usage, "tensor");
    this.readPool = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, "readback");
    device.lost.then((info) => {
      this.lostInfo = { reason: info.reason, message: info.message };
      if (!this.disposed_) this.options.onDeviceLost?.(this.lostInfo);
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.pendingError ??= this.toKernelError(ev.error, this.lastSubmitted);
    };
  }

  /** Workgroup count per dimension above which kernels use a 2-D grid. */
  get maxWorkgroupsPerDimension(): number {
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    return Math.min(max, this.options.maxWorkgroupsPerDimension ?? max);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  get disposed(): boolean {
    return this.disposed_;
  }

  // ---------------------------------------------------------------- tensors

  /** Uploads data as a new tensor. */
  tensor<D extends DType = "f32">(data: ArrayLike<number> | TypedArrayFor<D>, shape: readonly number[], dtype?: D, label = "tensor"): Tensor<D> {
    const dt = (dtype ?? "f32") as D;
    const t = this.empty(shape, dt, label);
    if (data.length !== t.size) {
      t.dispose();
      throw new ShapeError(`tensor "${label}": ${data.length} values given for shape [${shape.join(", ")}] (${t.size} elements)`);
    }
    this.write(t, data);
    return t;
  }

  /** A new tensor with undefined contents (every kernel writes all of its output). */
  empty<D extends DType = "f32">(shape: readonly number[], dtype?: D, label = "tensor"): Tensor<D> {
    this.checkAlive();
    checkShape(shape, `tensor "${label}"`);
    const dt = (dtype ?? "f32") as D;
    const bytes = Math.max(4, numel(shape) * 4);
    if (bytes > this.device.limits.maxBufferSize) {
      throw new LimitError(
        `tensor "${label}" [${shape.join(", ")}] needs ${bytes} bytes, more than this adapter's maxBufferSize ` +
          `(${this.device.limits.maxBufferSize}); split it or use a smaller batch or image size`,
      );
    }
    const buffer = this.pool.acquire(bytes);
    this.refs.set(buffer, 1);
    return new Tensor(this, buffer, shape, dt, label);
  }

  /** Overwrites a tensor's contents, in order with the recorded work. */
  write(t: Tensor, data: ArrayLike<number>): void {
    this.checkAlive();
    if (data.length !== t.size) throw new ShapeError(`write to "${t.label}": ${data.length} values for ${t.size} elements`);
    const Ctor = t.dtype === "f32" ? Float32Array : t.dtype === "u32" ? Uint32Array : Int32Array;
    const typed = data instanceof Ctor ? data : Ctor.from(data as ArrayLike<number>);
    if (typed.byteLength === 0) return;
    if (this.commands.length === 0) {
      // Nothing recorded reads this buffer yet, so a queue write is in order.
      this.device.queue.writeBuffer(t.buffer, t.offset * 4, typed.buffer, typed.byteOffset, typed.byteLength);
      return;
    }
    // A queue write would land before the recorded commands: stage it and copy in order.
    const staging = this.device.createBuffer({ size: typed.byteLength, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true, label: `upload:${t.label}` });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength));
    staging.unmap();
    this.commands.push({ kind: "copy", src: staging, srcOffset: 0, dst: t.buffer, dstOffset: t.offset * 4, size: staging.size, label: `upload ${t.label}` });
  }

  /** A new tensor of zeros, cleared on the GPU in order with the recorded work (no upload). */
  zeros(shape: readonly number[], label = "zeros"): Tensor<"f32"> {
    const t = this.empty(shape, "f32", label);
    this.clear(t);
    return t;
  }

  /** Sets a tensor (or view) to zero, in order with the recorded work. */
  clear(t: Tensor): void {
    this.checkAlive();
    if (t.size === 0) return;
    this.commands.push({ kind: "clear", dst: t.buffer, dstOffset: t.offset * 4, size: t.byteSize, label: `clear ${t.label}` });
  }

  /** A new tensor holding a copy of t's elements (t may be a view), in order with the recorded work. */
  clone(t: Tensor, label = `copy of ${t.label}`): Tensor<"f32"> {
    const c = this.empty(t.shape, "f32", label);
    this.copy(t, c);
    return c;
  }

  /** Copies src's elements into dst (same element count; either may be a view), in order. */
  copy(src: Tensor, dst: Tensor): void {
    this.checkAlive();
    if (src.size !== dst.size) throw new ShapeError(`copy "${src.label}" -> "${dst.label}": ${src.size} elements into ${dst.size}`);
    if (src.size === 0) return;
    this.commands.push({ kind: "copy", src: src.buffer, srcOffset: src.offset * 4, dst: dst.buffer, dstOffset: dst.offset * 4, size: src.byteSize, label: `copy ${src.label}` });
  }

  /**
   * A small tensor for bindings a kernel variant does not read (an absent bias, say): WebGPU
   * needs every declared binding bound, and binding the output twice would be a usage conflict.
   */
  placeholder(): Tensor<"f32"> {
    this.checkAlive();
    this.placeholder_ ??= this.tensor([0, 0, 0, 0], [4], "f32", "placeholder");
    return this.placeholder_;
  }

  /** @internal shares a buffer under another shape (Tensor.reshape). */
  view<D extends DType>(t: Tensor<D>, shape: readonly number[], offset: number): Tensor<D> {
    const b = t.buffer;
    this.refs.set(b, (this.refs.get(b) ?? 0) + 1);
    return new Tensor(this, b, shape, t.dtype, t.label, offset);
  }

  /** @internal Tensor.dispose */
  releaseTensor(_t: Tensor, buffer: GPUBuffer): void {
    const n = (this.refs.get(buffer) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(buffer, n);
      return;
    }
    this.refs.delete(buffer);
    if (!this.disposed_) this.pool.release(buffer);
  }

  /** Copies a tensor to the CPU, after all recorded work. */
  async read<D extends DType>(t: Tensor<D>): Promise<TypedArrayFor<D>> {
    this.checkAlive();
    const bytes = Math.max(4, t.byteSize);
    const staging = this.readPool.acquire(bytes);
    this.commands.push({ kind: "copy", src: t.buffer, srcOffset: t.offset * 4, dst: staging, dstOffset: 0, size: Math.ceil(bytes / 4) * 4, label: `read ${t.label}` });
    try {
      await this.flush();
      try {
        await staging.mapAsync(GPUMapMode.READ, 0, Math.ceil(bytes / 4) * 4);
      } catch (e) {
        throw this.lostError(`reading "${t.label}"`) ?? e;
      }
      this.throwPending();
      const copy = staging.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0, t.byteSize);
      staging.unmap();
      const Ctor = t.dtype === "f32" ? Float32Array : t.dtype === "u32" ? Uint32Array : Int32Array;
      return new Ctor(copy) as TypedArrayFor<D>;
    } finally {
      if (!this.disposed_) this.readPool.release(staging);
    }
  }

  // ---------------------------------------------------------------- kernels

  /** Records one dispatch of a kernel. Checks bindings, dtypes, sizes and params first. */
  dispatch(def: KernelDef, opts: DispatchOptions): void {
    this.checkAlive();
    const layout = reflectKernel(def);
    const label = `${def.name}${opts.label ? ` ${opts.label}` : ""}#${++this.seq}`;
    const given = new Set(Object.keys(opts.bindings));
    const entries: GPUBindGroupEntry[] = [];
    // Offset params of bindings this entry point does not use are 0.
    const offsets: Record<string, number> = Object.fromEntries(Object.values(def.offsets ?? {}).map((p) => [p, 0]));
    const maxBinding = this.device.limits.maxStorageBufferBindingSize;
    for (const b of layout.bindings) {
      if (b.kind === "uniform") continue;
      const t = opts.bindings[b.name];
      if (!t) throw new ShapeError(`kernel ${def.name}: binding "${b.name}" was not given (it needs ${layout.bindings.filter((x) => x.kind !== "uniform").map((x) => x.name).join(", ")})`);
      given.delete(b.name);
      if (t.disposed) throw new DisposedError(`kernel ${def.name}: tensor "${t.label}" bound as ${b.name} was used after dispose()`);
      if (!dtypeMatchesElement(t.dtype, b.element)) {
        throw new ShapeError(`kernel ${def.name}: binding ${b.name} holds ${b.element}, but tensor "${t.label}" is ${t.dtype}`);
      }
      if ((t.offset + t.size) * 4 > maxBinding) {
        throw new LimitError(
          `kernel ${def.name}: tensor "${t.label}" [${t.shape.join(", ")}] is ${t.byteSize} bytes, over this adapter's ` +
            `maxStorageBufferBindingSize (${maxBinding}); use a smaller batch or split the tensor`,
        );
      }
      const offsetParam = def.offsets?.[b.name];
      if (t.offset !== 0 && !offsetParam) {
        throw new ShapeError(`kernel ${def.name}: tensor "${t.label}" bound as ${b.name} is a view at element ${t.offset}, and this kernel reads ${b.name} from its start; pass a tensor of its own`);
      }
      if (offsetParam) offsets[offsetParam] = t.offset;
      // The whole buffer is bound (up to the binding limit): kernels with batch strides reach
      // past the view's own extent, and a clamped out-of-range write would corrupt data.
      entries.push({ binding: b.binding, resource: { buffer: t.buffer, offset: 0, size: Math.min(t.buffer.size, maxBinding) } });
    }
    if (given.size) throw new ShapeError(`kernel ${def.name}: unknown binding(s) ${[...given].join(", ")}`);
    // WebGPU refuses one buffer bound as writable and as anything else in the same dispatch.
    for (const w of layout.bindings) {
      if (w.kind !== "storage") continue;
      const wb = opts.bindings[w.name].buffer;
      for (const r of layout.bindings) {
        if (r === w || r.kind === "uniform" || opts.bindings[r.name].buffer !== wb) continue;
        throw new ShapeError(`kernel ${def.name}: ${w.name} and ${r.name} share one buffer ("${opts.bindings[w.name].label}"); the kernel writes ${w.name}, so give them separate tensors`);
      }
    }
    const wg: [number, number, number] = [opts.workgroups[0], opts.workgroups[1] ?? 1, opts.workgroups[2] ?? 1];
    const maxWg = this.device.limits.maxComputeWorkgroupsPerDimension;
    for (const n of wg) {
      if (!Number.isInteger(n) || n < 0 || n > maxWg) {
        throw new LimitError(`kernel ${label}: workgroup count ${wg.join("x")} exceeds ${maxWg} per dimension; split the work`);
      }
    }
    let paramsAt = -1;
    if (layout.paramsBinding >= 0) {
      paramsAt = this.reserveParams(layout.paramsSize);
      packParams(def, layout, { ...opts.params, ...offsets }, new DataView(this.paramBytes), paramsAt);
    } else if (opts.params && Object.keys(opts.params).length) {
      throw new ShapeError(`kernel ${def.name}: has no params uniform, but params were given`);
    }
    const pipelineKey = this.ensurePipeline(def, layout, opts.constants ?? {});
    if (wg[0] * wg[1] * wg[2] === 0) return;
    this.commands.push({ kind: "dispatch", label, pipelineKey, def, layout, entries, paramsAt, workgroups: wg });
  }

  /**
   * Waits until every pipeline created so far (by recording or warmup) has compiled,
   * reporting (ready, total) as they finish; compile errors still surface at the next
   * read/sync. Long work calls it after recording its first pass so that progress shows a
   * "compile shaders" stage.
   */
  async pipelinesReady(onProgress?: (done: number, total: number) => void): Promise<void> {
    const entries = [...this.pipelines.values()];
    let done = entries.filter((e) => e.pipeline).length;
    if (done === entries.length) return;
    onProgress?.(done, entries.length);
    await Promise.all(entries.filter((e) => !e.pipeline).map((e) => e.promise.then(() => onProgress?.(++done, entries.length), () => undefined)));
  }

  /** Compiles the pipelines of these kernels ahead of their first use. */
  async warmup(kernels: { def: KernelDef; constants?: Record<string, number> }[]): Promise<void> {
    const keys = kernels.map((k) => this.ensurePipeline(k.def, reflectKernel(k.def), k.constants ?? {}));
    await Promise.all(keys.map((k) => this.pipelines.get(k)!.promise));
  }

  private ensurePipeline(def: KernelDef, layout: KernelLayout, constants: Record<string, number>): string {
    for (const k of Object.keys(constants)) {
      if (!layout.overrides.includes(k)) throw new ShapeError(`kernel ${def.name}: unknown override constant ${k}`);
    }
    const key = `${def.name}:${def.entryPoint ?? "main"}:${JSON.stringify(constants)}`;
    if (this.pipelines.has(key)) return key;
    const bindGroupLayout = this.device.createBindGroupLayout({
      label: def.name,
      entries: layout.bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.kind },
      })),
    });
    // A shader that does not compile is reported by the pipeline's rejection (with the
    // compiler's messages); keep the module's own error out of the uncaptured-error path.
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ code: def.source, label: def.name });
    void this.device.popErrorScope();
    const promise = this.device
      .createComputePipelineAsync({
        label: key,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
        compute: { module, entryPoint: def.entryPoint ?? "main", constants },
      })
      .then(
        (p) => {
          entry.pipeline = p;
          return p;
        },
        async (e: Error) => {
          const info = await module.getCompilationInfo().catch(() => null);
          const msgs = info?.messages.map((m) => `${m.type} at line ${m.lineNum}:${m.linePos}: ${m.message}`).join("\n") ?? "";
          throw new KernelError(`kernel ${def.name}: pipeline creation failed: ${e.message}${msgs ? `\n${msgs}` : ""}`, def.name, "validation");
        },
      );
    promise.catch(() => {}); // surfaced by flush()
    const entry: PipelineEntry = { promise, layout: bindGroupLayout };
    this.pipelines.set(key, entry);
    return key;
  }

  private reserveParams(size: number): number {
    const at = this.paramUsed;
    const next = at + Math.ceil(size / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    if (next > this.paramBytes.byteLength) {
      const grown = new ArrayBuffer(Math.max(next, this.paramBytes.byteLength * 2));
      new Uint8Array(grown).set(new Uint8Array(this.paramBytes));
      this.paramBytes = grown;
    }
    this.paramUsed = next;
    return at;
  }

  // ---------------------------------------------------------------- submission

  /** Submits everything recorded so far as one command buffer. */
  flush(): Promise<void> {
    const commands = this.commands;
    const paramBytes = this.paramBytes.slice(0, this.paramUsed);
    this.commands = [];
    this.paramUsed = 0;
    const run = this.flushing.then(() => this.submit(commands, paramBytes));
    this.flushing = run.catch(() => {});
    return run;
  }

  /** Submits and waits until the GPU has finished; throws the first WebGPU error. */
  async sync(): Promise<void> {
    this.checkAlive();
    await this.flush();
    await this.device.queue.onSubmittedWorkDone();
    const lost = this.lostError("waiting for the GPU");
    if (lost) throw lost;
    this.throwPending();
  }

  private async submit(commands: Command[], paramBytes: ArrayBuffer): Promise<void> {
    if (commands.length === 0) return;
    this.checkAlive();
    const labels = commands.map((c) => c.label);
    const pipelines = new Map<string, GPUComputePipeline>();
    for (const c of commands) {
      if (c.kind === "dispatch" && !pipelines.has(c.pipelineKey)) {
        pipelines.set(c.pipelineKey, await this.pipelines.get(c.pipelineKey)!.promise);
      }
    }
    const device = this.device;
    device.pushErrorScope("internal");
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    if (paramBytes.byteLength > 0) {
      if (!this.uniformBuffer || this.uniformBuffer.size < paramBytes.byteLength) {
        this.uniformBuffer?.destroy();
        const size = Math.max(paramBytes.byteLength, (this.uniformBuffer?.size ?? 0) * 2, 64 * 1024);
        this.uniformBuffer = device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: "params" });
      }
      device.queue.writeBuffer(this.uniformBuffer, 0, paramBytes);
    }
    const encoder = device.createCommandEncoder({ label: "clipmpcad-gpu" });
    const staged: GPUBuffer[] = [];
    const timing = this.profiling ? this.timestamps(commands) : null;
    let passIndex = 0;
    for (const c of commands) {
      if (c.kind === "clear") {
        encoder.clearBuffer(c.dst, c.dstOffset, c.size);
        continue;
      }
      if (c.kind === "copy") {
        encoder.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.size);
        if (c.label.startsWith("upload ")) staged.push(c.src);
        continue;
      }
      const entries = c.entries.slice();
      if (c.paramsAt >= 0) {
        entries.push({ binding: c.layout.paramsBinding, resource: { buffer: this.uniformBuffer!, offset: c.paramsAt, size: c.layout.paramsSize } });
      }
      const bindGroup = device.createBindGroup({ label: c.label, layout: this.pipelines.get(c.pipelineKey)!.layout, entries });
      const slot = timing && passIndex < timing.names.length ? passIndex : -1;
      passIndex++;
      const pass = encoder.beginComputePass(
        slot >= 0 ? { label: c.label, timestampWrites: { querySet: timing!.set, beginningOfPassWriteIndex: 2 * slot, endOfPassWriteIndex: 2 * slot + 1 } } : { label: c.label },
      );
      pass.setPipeline(pipelines.get(c.pipelineKey)!);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(...c.workgroups);
      pass.end();
      this.counters.dispatches++;
    }
    if (timing) {
      encoder.resolveQuerySet(timing.set, 0, 2 * timing.names.length, timing.resolve, 0);
      encoder.copyBufferToBuffer(timing.resolve, 0, timing.read, 0, timing.read.size);
    }
    device.queue.submit([encoder.finish()]);
    this.counters.submits++;
    if (timing) this.profileReads.push(this.collectTimestamps(timing));
    this.lastSubmitted = labels;
    for (const s of staged) s.destroy();
    const errors = await Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]);
    const err = errors.find((e) => e);
    if (err) throw this.toKernelError(err, labels);
  }

  /**
   * Profiling: while on, every compute pass records GPU begin/end timestamps (when the
   * adapter has timestamp-query) and gpuTimes() sums them per kernel. Turning it on clears
   * what was collected.
   */
  profile(on: boolean): boolean {
    const can = this.device.features.has("timestamp-query");
    this.profiling = on && can;
    if (on) this.gpuNs.clear();
    return this.profiling;
  }

  /** GPU milliseconds per kernel name since profile(true), once the submitted work has finished. */
  async gpuTimes(): Promise<Map<string, { calls: number; ms: number }>> {
    await this.sync();
    const reads = this.profileReads;
    this.profileReads = [];
    await Promise.all(reads);
    return new Map([...this.gpuNs].map(([k, v]) => [k, { calls: v.calls, ms: v.ns / 1e6 }]));
  }

  private timestamps(commands: Command[]) {
    const names = commands.filter((c) => c.kind === "dispatch").map((c) => (c as { def: KernelDef }).def.name).slice(0, 2048);
    if (names.length === 0) return null;
    const bytes = 16 * names.length;
    return {
      names,
      set: this.device.createQuerySet({ type: "timestamp", count: 2 * names.length, label: "kernel times" }),
      resolve: this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: "kernel times" }),
      read: this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: "kernel times read" }),
    };
  }

  private async collectTimestamps(t: NonNullable<ReturnType<Runtime["timestamps"]>>): Promise<void> {
    try {
      await t.read.mapAsync(GPUMapMode.READ);
      const ticks = new BigInt64Array(t.read.getMappedRange().slice(0));
      t.read.unmap();
      t.names.forEach((name, i) => {
        const ns = Number(ticks[2 * i + 1] - ticks[2 * i]);
        const e = this.gpuNs.get(name) ?? { calls: 0, ns: 0 };
        e.calls++;
        e.ns += Math.max(0, ns);
        this.gpuNs.set(name, e);
      });
    } finally {
      t.set.destroy();
      t.resolve.destroy();
      t.read.destroy();
    }
  }

  private toKernelError(err: GPUError, labels: string[]): KernelError {
    // By constructor name: on Node the GPU*Error classes are not globals unless installed.
    const cls = err.constructor?.name ?? "";
    const kind = /OutOfMemory/.test(cls) ? "out-of-memory" : /Validation/.test(cls) ? "validation" : "internal";
    const named = labels.find((l) => err.message.includes(l)) ?? "";
    const where = named ? `kernel "${named}"` : `one of the kernels [${labels.slice(0, 8).join(", ")}${labels.length > 8 ? ", ..." : ""}]`;
    const hint = kind === "out-of-memory" ? " (GPU memory is exhausted: use a smaller batch or image size, or dispose unused tensors)" : "";
    return new KernelError(`WebGPU ${kind} error in ${where}${hint}: ${err.message}`, named, kind);
  }

  private lostError(doing: string): DeviceLostError | null {
    if (!this.lostInfo) return null;
    const last = this.lastSubmitted.length ? ` The last submitted kernels were: ${this.lastSubmitted.slice(-4).join(", ")}.` : "";
    return new DeviceLostError(
      `The GPU device was lost while ${doing} (${this.lostInfo.reason}: ${this.lostInfo.message}).${last} ` +
        "Create a new runtime (the onDeviceLost option is called when this happens).",
      this.lastSubmitted[this.lastSubmitted.length - 1] ?? "",
      "device-lost",
    );
  }

  private throwPending(): void {
    const e = this.pendingError;
    if (e) {
      this.pendingError = null;
      throw e;
    }
  }

  private checkAlive(): void {
    if (this.disposed_) throw new DisposedError("the runtime was used after dispose(); create a new one with createRuntime()");
    const lost = this.lostError("recording work");
    if (lost) throw lost;
  }

  // ---------------------------------------------------------------- lifetime

  /** Starts stats().peakBytesInUse over from the bytes in use now. */
  resetPeakMemory(): void {
    this.pool.resetPeak();
  }

  stats(): RuntimeStats {
    return { ...this.pool.stats(), pipelines: this.pipelines.size, ...this.counters };
  }

  /** Frees every buffer and, unless the caller passed its own device, destroys the device. */
  dispose(): void {
    if (this.disposed_) return;
    this.disposed_ = true;
    this.commands = [];
    this.pool.destroy();
    this.readPool.destroy();
    this.uniformBuffer?.destroy();
    this.pipelines.clear();
    this.device.onuncapturederror = null;
    if (this.ownsDevice) this.device.destroy();
  }
}

function describeDeviceOnly(device: GPUDevice): AdapterReport {
  return describeAdapter({ info: (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo } as GPUAdapter, device);
}
