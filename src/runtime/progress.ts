/**
 * Progress of long work, reported the same way everywhere: `done` of `total` units of the
 * named stage ("weights", "text features", "memory bank", "test images", ...). Units are
 * the stage's own (bytes, sentences, shots, images); a new stage starts from 0.
 */
export type Progress = (done: number, total: number, stage: string) => void;

/** Options of every long-running call: progress, and cancellation through an AbortSignal. */
export interface LongRunning {
  onProgress?: Progress;
  /** Aborting rejects the call with the signal's reason at its next checkpoint; nothing it would have set is kept. */
  signal?: AbortSignal;
}
