// The MADFF adapter pair's backward pass (training, spec 9) against float64 central
// differences of the float64 forward (reference/cpu.ts madffPairRef): the loss
//   sum(Gs * segMid) + sum(Gd * detMid) + sum(G * x'),  x' = 0.8 x + 0.1 out_seg + 0.1 out_det
// is what one level sees in training, so d/dx = 0.8 G + backward(seg, Gs, 0.1 G) +
// backward(det, Gd, 0.1 G), and each adapter's weight gradients come from its own call.
import { describe, expect, it } from "vitest";
import { disposeSaved, madffBackward, madffPair, scaledSum, type MadffPairGrads, type MadffPairWeights } from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { centralDifferences } from "./helpers/gradcheck.js";
import { randArray } from "./helpers/random.js";
import { madffPairRef, type MadffRefWeights } from "./reference/cpu.js";

const KEYS = ["fc1", "fc2", "c0", "c2", "f0", "f2", "spatial"] as const;
const GPU_NAME = { fc1: "fc1", fc2: "fc2", c0: "channel0", c2: "channel2", f0: "frequency0", f2: "frequency2", spatial: "spatial" } as const;

describe("MADFF pair backward", () => {
  for (const [R, W, E, withGout, withSeg] of [
    [3, 32, 12, true, true],
    [2, 48, 10, false, true], // the last level: out reaches no loss, fc2 gets zero
    [2, 32, 8, true, false], // classification: no loss on the seg mids
  ] as const) {
    it(`${R} tokens, W=${W}, E=${E}${withGout ? "" : ", no gradient on out"}${withSeg ? "" : ", none on the seg mids"}`, async () => {
      const rt = await gpu();
      const H = Math.floor(W / 16);
      const s = 1 / Math.sqrt(W);
      const w: Record<(typeof KEYS)[number], Float64Array> = {
        fc1: Float64Array.from(randArray(2 * E * W, 1, -s, s)),
        fc2: Float64Array.from(randArray(2 * W * E, 2, -1 / Math.sqrt(E), 1 / Math.sqrt(E))),
        c0: Float64Array.from(randArray(2 * H * W, 3, -s, s)),
        c2: Float64Array.from(randArray(2 * W * H, 4, -1, 1)),
        f0: Float64Array.from(randArray(2 * H * W, 5, -s / 4, s / 4)),
        f2: Float64Array.from(randArray(2 * W * H, 6, -1, 1)),
        spatial: Float64Array.from([0.7, -0.3, 0.1, -0.5, 0.9, -0.2]),
      };
      const x = Float64Array.from(randArray(R * W, R + W, -2, 2));
      const Gs = withSeg ? Float64Array.from(randArray(R * E, 7)) : new Float64Array(R * E);
      const Gd = Float64Array.from(randArray(R * E, 8));
      const G = withGout ? Float64Array.from(randArray(R * W, 9)) : new Float64Array(R * W);
      const loss = () => {
        const o = madffPairRef(x, R, W, E, H, w as unknown as MadffRefWeights);
        let l = 0;
        for (let i = 0; i < R * E; i++) l += Gs[i] * o.segMid[i] + Gd[i] * o.detMid[i];
        for (let i = 0; i < R * W; i++) l += G[i] * o.x[i];
        return l;
      };
      const h = 1e-6;
      const want = { x: centralDifferences(x, loss, h), ...Object.fromEntries(KEYS.map((k) => [k, centralDifferences(w[k], loss, h)])) } as Record<string, Float64Array>;

      const shapes = { fc1: [2, E, W], fc2: [2, W, E], c0: [2, H, W], c2: [2, W, H], f0: [2, H, W], f2: [2, W, H], spatial: [2, 3] };
      const tw = {} as Record<string, ReturnType<typeof rt.tensor>>;
      const tg = {} as Record<string, ReturnType<typeof rt.tensor>>;
      for (const k of KEYS) {
        tw[GPU_NAME[k]] = rt.tensor(Float32Array.from(w[k]), shapes[k]);
        tg[GPU_NAME[k]] = rt.empty(shapes[k]);
      }
      const weights = tw as unknown as MadffPairWeights;
      const grads = tg as unknown as MadffPairGrads;
      const tx = rt.tensor(Float32Array.from(x), [R, W]);
      const tG = rt.tensor(Float32Array.from(G), [R, W]);
      const gout = tG; // the tower's x' gets 0.1 of each out: outScale 0.1
      const gs = rt.tensor(Float32Array.from(Gs), [R, E]);
      const gd = rt.tensor(Float32Array.from(Gd), [R, E]);
      const fwd = madffPair(rt, tx, weights, { save: true });
      const dxs = madffBackward(rt, fwd.saved!, weights, grads, 0, withSeg ? gs : null, withGout ? gout : null, 0.1);
      const dxd = madffBackward(rt, fwd.saved!, weights, grads, 1, gd, withGout ? gout : null, 0.1);
      const dx = scaledSum(rt, [tG, dxs, dxd], [0.8, 1, 1]);
      // f32 chains of GEMMs, gates and two FFTs on order-1 values against float64 central
      // differences (their own error ~1e-9): 2e-5 of each array's largest entry.
      const check = async (got: ArrayLike<number>, wantArr: Float64Array, what: string) => {
        const scale = Math.max(1e-3, ...Array.from(wantArr, Math.abs));
        allclose(got, wantArr, { atol: 2e-5 * scale, rtol: 1e-3 }, what);
      };
      await check(await dx.read(), want.x, "d x");
      for (const k of KEYS) await check(await tg[GPU_NAME[k]].read(), want[k], `d ${k}`);
      if (!withGout) expect(Array.from(await grads.fc2.read()).every((v) => v === 0)).toBe(true);
      disposeSaved(fwd.saved!);
      for (const t of [fwd.segMid, fwd.detMid, fwd.x, dxs, dxd, dx, tx, tG, gs, gd, ...Object.values(tw), ...Object.values(tg)]) t.dispose();
    });
  }
});
