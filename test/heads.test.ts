import { describe, expect, it } from "vitest";
import { nearestDistance, rowNormalize, ShapeError, softmaxMean, upMap, zeroShotLogits } from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { randArray } from "./helpers/random.js";
import { bilinearRef, nearestRef, normalizeRef } from "./reference/cpu.js";

/** Spec 6 zero-shot pieces in float64: logits [P, 2] of one level. */
function logitsRef(tokens: Float32Array, T: number, E: number, tf: Float32Array): Float64Array {
  const P = T - 1;
  const pn = normalizeRef(tokens.subarray(E), P, E, 1e-12);
  const out = new Float64Array(P * 2);
  for (let p = 0; p < P; p++)
    for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let e = 0; e < E; e++) s += pn[p * E + e] * tf[e * 2 + c];
      out[p * 2 + c] = 100 * s;
    }
  return out;
}

const class1 = (l0: number, l1: number) => 1 / (1 + Math.exp(l0 - l1));

describe("M-Decoder heads", () => {
  const [G, S, E] = [5, 23, 24];
  const T = 1 + G * G;

  it("zero-shot: seg map summed over levels and det score, against float64", async () => {
    const rt = await gpu();
    const tf = randArray(E * 2, 1);
    const ttf = rt.tensor(tf, [E, 2]);
    const map = rt.tensor(new Float32Array(S * S), [S, S]);
    const score = rt.tensor([0], [1]);
    const wantMap = new Float64Array(S * S);
    let wantScore = 0;
    for (let level = 0; level < 3; level++) {
      const tokens = randArray(T * E, 10 + level);
      const tt = rt.tensor(tokens, [T, E]);
      const patches = tt.view([T - 1, E], E);
      const logits = zeroShotLogits(rt, patches, ttf);
      const lr = logitsRef(tokens, T, E, tf);
      // 100 x a cosine in f32: 1e-4 absolute on logits up to 100
      allclose(await logits.read(), lr, { atol: 1e-4, rtol: 1e-5 }, `logits ${level}`);
      upMap(rt, logits, { size: S, softmaxClass1: true, accumulate: level > 0, out: map });
      softmaxMean(rt, logits, { accumulate: level > 0, out: score });
      const l0 = bilinearRef(Array.from({ length: G * G }, (_, i) => lr[2 * i]), 1, G, G, S, S);
      const l1 = bilinearRef(Array.from({ length: G * G }, (_, i) => lr[2 * i + 1]), 1, G, G, S, S);
      for (let i = 0; i < S * S; i++) wantMap[i] += class1(l0[i], l1[i]);
      let m = 0;
      for (let p = 0; p < G * G; p++) m += class1(lr[2 * p], lr[2 * p + 1]);
      wantScore += m / (G * G);
      for (const t of [tt, patches, logits]) t.dispose();
    }
    // probabilities of logits that carry 1e-5 relative error: 1e-4 after the exp
    allclose(await map.read(), wantMap, { atol: 1e-4, rtol: 1e-4 }, "seg map");
    allclose(await score.read(), [wantScore], { atol: 1e-5, rtol: 1e-5 }, "det score");
    for (const t of [ttf, map, score]) t.dispose();
  });

  it("few-shot: nearest distances up to S x S, summed over levels", async () => {
    const rt = await gpu();
    const map = rt.tensor(new Float32Array(S * S), [S, S]);
    const want = new Float64Array(S * S);
    for (let level = 0; level < 2; level++) {
      const q = randArray((G * G) * E, 20 + level);
      const m = randArray(40 * E, 30 + level);
      const [tq, tm] = [rt.tensor(q, [G * G, E]), rt.tensor(m, [40, E])];
      const [qn, mn] = [rowNormalize(rt, tq, { eps: 1e-8 }), rowNormalize(rt, tm, { eps: 1e-8 })];
      const d = nearestDistance(rt, qn, mn);
      upMap(rt, d, { size: S, accumulate: level > 0, out: map });
      const up = bilinearRef(nearestRef(q, G * G, m, 40, E), 1, G, G, S, S);
      for (let i = 0; i < S * S; i++) want[i] += up[i];
      for (const t of [tq, tm, qn, mn, d]) t.dispose();
    }
    allclose(await map.read(), want, { atol: 2e-6, rtol: 1e-6 });
    map.dispose();
  });

  it("refuses non-square maps and accumulation without an output", async () => {
    const rt = await gpu();
    const v = rt.empty([7], "f32", "cells");
    expect(() => upMap(rt, v, { size: 9 })).toThrow(ShapeError);
    expect(() => upMap(rt, rt.empty([9]), { size: 9, accumulate: true })).toThrow(/accumulate needs an out map/);
    v.dispose();
  });
});
