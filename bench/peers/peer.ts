/** What a peer implementation offers the benchmark; each method prepares a case to time. */
import { create, globals } from "webgpu";

/** A GEMM x [M, K] by a Linear weight [N, K] (+ bias). */
export interface PeerCase {
  M: number;
  K: number;
  N: number;
}

export interface BlockShape {
  T: number;
  W: number;
  heads: number;
}

/** A prepared case: run() does one timed call (through the read-back of its output). */
export interface Prepared {
  run(): Promise<void>;
  dispose(): void;
}

export interface Peer {
  name: string;
  version: string;
  linear?(c: PeerCase): Prepared | Promise<Prepared>;
  attention?(s: BlockShape): Prepared | Promise<Prepared>;
  block?(s: BlockShape): Prepared | Promise<Prepared>;
}

let installed = false;

/** Dawn's WebGPU globals and a navigator.gpu, as browser libraries expect, on the adapter our runtime found. */
export function installDawnGlobals(): void {
  if (installed) return;
  installed = true;
  Object.assign(globalThis, globals);
  const nav = (globalThis as { navigator?: object }).navigator;
  const gpu = create([]);
  if (nav) Object.defineProperty(nav, "gpu", { value: gpu, configurable: true });
  else (globalThis as { navigator?: object }).navigator = { gpu };
}
