/** Seeded random numbers so that a failing case can be replayed (the library's xorshift32). */
import { rng } from "../../src/eval/synthetic.js";

export { rng };

/** Uniform values in [lo, hi). */
export function randArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}
