import { describe, expect, it } from "vitest";
import { patchEmbed, ShapeError } from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { randArray } from "./helpers/random.js";
import { patchEmbedRef } from "./reference/cpu.js";

// After ln_pre values are ~1; sums of 3 P^2 products in f32 then a normalisation: 2e-5.
const TOL = { atol: 2e-5, rtol: 1e-5 };

describe("patch embedding", () => {
  // [S, P, W]: an exact grid, a side that leaves pixels over (as 240 / 14 does), a 1x1 grid.
  for (const [S, P, W] of [
    [32, 8, 48],
    [30, 7, 40],
    [14, 14, 32],
  ]) {
    it(`S=${S}, P=${P}, W=${W}, batch of 2`, async () => {
      const rt = await gpu();
      const C = 3;
      const G = Math.floor((S - P) / P) + 1;
      const T = 1 + G * G;
      const imgs = randArray(2 * C * S * S, S + P, 0, 1);
      const conv = randArray(W * C * P * P, 2, -0.2, 0.2);
      const cls = randArray(W, 3);
      const pos = randArray(T * W, 4);
      const g = randArray(W, 5, 0.5, 1.5);
      const b = randArray(W, 6, -0.1, 0.1);
      const weights = {
        conv: rt.tensor(conv, [W, C, P, P]),
        classEmbedding: rt.tensor(cls, [W]),
        positional: rt.tensor(pos, [T, W]),
        lnWeight: rt.tensor(g, [W]),
        lnBias: rt.tensor(b, [W]),
      };
      const ti = rt.tensor(imgs, [2, C, S, S]);
      const out = patchEmbed(rt, ti, weights);
      expect(out.shape).toEqual([2, T, W]);
      const got = await out.read();
      for (let i = 0; i < 2; i++) {
        const want = patchEmbedRef(imgs.subarray(i * C * S * S), C, S, conv, W, P, cls, pos, g, b);
        allclose(got.subarray(i * T * W, (i + 1) * T * W), want, TOL, `image ${i}`);
      }
      // one image alone gives what it gets in the batch
      const img1 = ti.at(1);
      const single = patchEmbed(rt, img1, weights);
      expect(single.shape).toEqual([T, W]);
      expect(Array.from(await single.read())).toEqual(Array.from(got.subarray(T * W)));
      for (const t of [...Object.values(weights), ti, out, img1, single]) t.dispose();
    });
  }

  it("says how to fix a positional embedding of the wrong grid", async () => {
    const rt = await gpu();
    const img = rt.empty([3, 28, 28]);
    const w = { conv: rt.empty([8, 3, 14, 14]), classEmbedding: rt.empty([8]), positional: rt.empty([10, 8], "f32", "pos"), lnWeight: rt.empty([8]), lnBias: rt.empty([8]) };
    expect(() => patchEmbed(rt, img, w)).toThrow(ShapeError);
    expect(() => patchEmbed(rt, img, w)).toThrow(/positional embedding "pos" \[10, 8\] must be \[5, 8\] for a 2x2 grid/);
    for (const t of [img, ...Object.values(w)]) t.dispose();
  });
});
