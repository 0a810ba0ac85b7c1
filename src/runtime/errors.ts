/** Errors thrown by the runtime. Each says what failed and what to do about it. */

/** No usable WebGPU adapter: the message lists what was tried and what to install. */
export class NoAdapterError extends Error {
  override name = "NoAdapterError";
}

/** A kernel was called with tensors of the wrong shape, dtype or size. */
export class ShapeError extends Error {
  override name = "ShapeError";
}

/** A WebGPU validation, out-of-memory or internal error, attributed to the kernel that ran. */
export class KernelError extends Error {
  override name = "KernelError";
  constructor(
    message: string,
    /** Label of the kernel dispatch the error is attributed to ("" when unknown). */
    readonly kernel: string,
    /** "validation" | "out-of-memory" | "internal" | "device-lost". */
    readonly kind: string,
  ) {
    super(message);
  }
}

/** The GPU device was lost (driver reset, `destroy()`, or the runtime was disposed). */
export class DeviceLostError extends KernelError {
  override name = "DeviceLostError";
}

/** A tensor or runtime was used after `dispose()`. */
export class DisposedError extends Error {
  override name = "DisposedError";
}

/** A tensor is larger than one storage binding may be on this adapter. */
export class LimitError extends Error {
  override name = "LimitError";
}
