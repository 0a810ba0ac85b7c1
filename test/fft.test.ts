import { describe, expect, it } from "vitest";
import { fftMagnitude, fftMagnitudeBackward, fftRadices, ShapeError } from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { randArray } from "./helpers/random.js";
import { dftMagnitudeBackwardRef, dftMagnitudeRef } from "./reference/cpu.js";
import { centralDifferences } from "./helpers/gradcheck.js";

describe("FFT magnitude", () => {
  it("splits lengths into radices", () => {
    expect(fftRadices(1024)).toEqual([4, 4, 4, 4, 4]);
    expect(fftRadices(768)).toEqual([4, 4, 4, 4, 3]);
    expect(fftRadices(1000)).toEqual([4, 2, 5, 5, 5]);
    expect(fftRadices(97)).toEqual([97]);
  });

  // Lengths of the issue (ViT-B 768, ViT-L 1024, a prime, a 5-smooth one) and small ones.
  for (const n of [1, 2, 8, 12, 97, 768, 1000, 1024]) {
    it(`matches a direct DFT for N=${n}`, async () => {
      const rt = await gpu();
      const rows = n > 500 ? 3 : 5;
      const x = randArray(rows * n, n + 3);
      const tx = rt.tensor(x, [rows, n]);
      const out = fftMagnitude(rt, tx);
      // Rounding grows with the number of terms summed per output (radix R per stage) and the
      // stages; bound it by 2^-24 * (sum of radices + 4) * ||x||_2 per row (||x|| <= sqrt(N)).
      const stages = fftRadices(n).reduce((a, r) => a + r, 0) + 4;
      const atol = 2 ** -24 * stages * Math.sqrt(n) * 2;
      allclose(await out.read(), dftMagnitudeRef(x, rows, n), { atol, rtol: 1e-5 }, `N=${n}`);
      tx.dispose();
      out.dispose();
    });
  }

  it("takes views (a batch item) and refuses lengths over the limit", async () => {
    const rt = await gpu();
    const [B, T, n] = [2, 3, 64];
    const x = randArray(B * T * n, 9);
    const tx = rt.tensor(x, [B, T, n]);
    const out = fftMagnitude(rt, tx.at(1));
    allclose(await out.read(), dftMagnitudeRef(x.subarray(T * n), T, n), { atol: 1e-5, rtol: 1e-5 });
    expect(() => fftMagnitude(rt, rt.empty([1, 4096], "f32", "wide"))).toThrow(ShapeError);
    for (const t of [tx, out]) t.dispose();
  });
});

describe("FFT magnitude backward", () => {
  it("the float64 reference equals central differences", () => {
    for (const n of [12, 97]) {
      const x = Float64Array.from(randArray(2 * n, n));
      const dy = Float64Array.from(randArray(2 * n, n + 1));
      const loss = () => dftMagnitudeRef(x, 2, n).reduce((s, v, i) => s + v * dy[i], 0);
      allclose(dftMagnitudeBackwardRef(x, dy, 2, n), centralDifferences(x, loss, 1e-6), { atol: 1e-7, rtol: 1e-6 }, `N=${n}`);
    }
  });

  // The lengths of the forward's test; the last row of each is zero, so every bin is exactly
  // 0 and contributes nothing (torch's abs gradient at 0). (A constant row would not do: its
  // other bins are rounding noise in f32, with a direction of their own.)
  for (const n of [1, 2, 8, 12, 97, 768, 1000, 1024]) {
    it(`matches float64 for N=${n}`, async () => {
      const rt = await gpu();
      const rows = 3;
      const x = randArray(rows * n, n + 5);
      x.fill(0, (rows - 1) * n);
      const dy = randArray(rows * n, n + 6);
      const tx = rt.tensor(x, [rows, n]);
      const tdy = rt.tensor(dy, [rows, n]);
      const dx = fftMagnitudeBackward(rt, tx, tdy);
      // Two transforms of the forward's error each, scaled by ||dy|| <= sqrt(N).
      const stages = fftRadices(n).reduce((a, r) => a + r, 0) + 4;
      const atol = 2 ** -24 * stages * n * 8;
      allclose(await dx.read(), dftMagnitudeBackwardRef(x, dy, rows, n), { atol, rtol: 1e-4 }, `N=${n}`);
      expect(() => fftMagnitudeBackward(rt, tx, tx.view([n], 0))).toThrow(/dy .* must match x/);
      for (const t of [tx, tdy, dx]) t.dispose();
    });
  }
});
