import { describe, expect, it } from "vitest";
import { madffPair, ShapeError } from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { randArray } from "./helpers/random.js";
import { madffPairRef } from "./reference/cpu.js";

// Chains of 5 GEMMs, an FFT and gates on values of order 1; the f32 rounding seen is up to
// 4e-7 (W <= 100), so 5e-6 leaves a 10x margin and still catches any wrong weight or order.
const TOL = { atol: 5e-6, rtol: 5e-6 };

describe("MADFF adapter pair", () => {
  for (const [R, W, E] of [
    [5, 64, 48],
    [19, 96, 40],
    [3, 100, 33],
  ]) {
    it(`${R} tokens, W=${W}, E=${E}`, async () => {
      const rt = await gpu();
      const H = Math.floor(W / 16);
      const x = randArray(R * W, R + W, -2, 2);
      const s = 1 / Math.sqrt(W);
      const w = {
        fc1: randArray(2 * E * W, 1, -s, s),
        fc2: randArray(2 * W * E, 2, -1 / Math.sqrt(E), 1 / Math.sqrt(E)),
        c0: randArray(2 * H * W, 3, -s, s),
        c2: randArray(2 * W * H, 4, -1, 1),
        f0: randArray(2 * H * W, 5, -s / 4, s / 4),
        f2: randArray(2 * W * H, 6, -1, 1),
        spatial: Float32Array.from([0.7, -0.3, 0.1, -0.5, 0.9, -0.2]),
      };
      const t = {
        fc1: rt.tensor(w.fc1, [2, E, W]),
        fc2: rt.tensor(w.fc2, [2, W, E]),
        channel0: rt.tensor(w.c0, [2, H, W]),
        channel2: rt.tensor(w.c2, [2, W, H]),
        frequency0: rt.tensor(w.f0, [2, H, W]),
        frequency2: rt.tensor(w.f2, [2, W, H]),
        spatial: rt.tensor(w.spatial, [2, 3]),
      };
      const tx = rt.tensor(x, [R, W]);
      // A first call creates what the runtime keeps (FFT twiddles, the placeholder binding).
      for (const o of Object.values(madffPair(rt, tx, t))) o.dispose();
      const before = rt.stats().bytesInUse;
      const out = madffPair(rt, tx, t);
      const want = madffPairRef(x, R, W, E, H, w);
      allclose(await out.segMid.read(), want.segMid, TOL, "seg mid");
      allclose(await out.detMid.read(), want.detMid, TOL, "det mid");
      allclose(await out.x.read(), want.x, TOL, "new x");
      expect(out.segMid.shape).toEqual([R, E]);
      for (const o of [out.segMid, out.detMid, out.x]) o.dispose();
      // every intermediate went back to the pool
      expect(rt.stats().bytesInUse).toBe(before);
      for (const v of [...Object.values(t), tx]) v.dispose();
    });
  }

  it("names the weight whose shape is wrong", async () => {
    const rt = await gpu();
    const x = rt.empty([4, 32]);
    const bad = rt.empty([2, 16, 31], "f32", "seg/det fc1");
    const ok = rt.empty([2, 2, 32]);
    expect(() => madffPair(rt, x, { fc1: bad, fc2: bad, channel0: ok, channel2: ok, frequency0: ok, frequency2: ok, spatial: ok })).toThrow(ShapeError);
    expect(() => madffPair(rt, x, { fc1: bad, fc2: bad, channel0: ok, channel2: ok, frequency0: ok, frequency2: ok, spatial: ok })).toThrow(/madff: fc1 \(seg, det\) "seg\/det fc1" \[2, 16, 31\] must have shape \[2, 16, 32\]/);
    for (const t of [x, bad, ok]) t.dispose();
  });
});
