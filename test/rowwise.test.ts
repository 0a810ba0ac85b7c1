import { describe, expect, it } from "vitest";
import { createRuntime, layerNorm, rowMax, rowMean, ShapeError, softmax } from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { randArray } from "./helpers/random.js";
import { layerNormRef, rowReduceRef, softmaxRef } from "./reference/cpu.js";

// Row sizes below, at and above one workgroup (256 threads), and odd ones.
const SHAPES: [number, number][] = [
  [1, 1],
  [17, 33],
  [3, 256],
  [290, 97],
  [5, 1000],
  [2, 1024],
];

describe("layerNorm", () => {
  for (const [rows, cols] of SHAPES) {
    it(`${rows}x${cols}`, async () => {
      const rt = await gpu();
      // An offset mean (3) checks the two-pass variance.
      const x = randArray(rows * cols, rows + cols, 2, 4);
      const g = randArray(cols, 11, 0.5, 1.5);
      const b = randArray(cols, 12);
      const [tx, tg, tb] = [rt.tensor(x, [rows, cols]), rt.tensor(g, [cols]), rt.tensor(b, [cols])];
      const out = layerNorm(rt, tx, tg, tb);
      // |out| ~ 1; per-row mean/var in f32 over <= 1024 terms
      allclose(await out.read(), layerNormRef(x, rows, cols, g, b), { atol: 2e-5, rtol: 1e-5 });
      for (const t of [tx, tg, tb, out]) t.dispose();
    });
  }

  it("names the kernel and shapes when gamma does not fit", async () => {
    const rt = await gpu();
    const x = rt.empty([4, 8], "f32", "x");
    const g = rt.empty([7], "f32", "ln.weight");
    expect(() => layerNorm(rt, x, g, g)).toThrow(ShapeError);
    expect(() => layerNorm(rt, x, g, g)).toThrow(/layernorm: gamma "ln.weight" \[7\].*8 elements/);
    x.dispose();
    g.dispose();
  });
});

describe("softmax", () => {
  for (const [rows, cols] of SHAPES) {
    it(`${rows}x${cols}, scale 0.125 and 100`, async () => {
      const rt = await gpu();
      const x = randArray(rows * cols, rows * 3 + cols, -3, 3);
      const tx = rt.tensor(x, [rows, cols]);
      for (const scale of [0.125, 100]) {
        const out = softmax(rt, tx, { scale });
        // scale * x rounds to f32 before exp: relative error up to |scale * x| * 2^-24 (1.8e-5 at 300).
        const rtol = Math.max(1e-5, 3 * 3 * scale * 2 ** -24);
        allclose(await out.read(), softmaxRef(x, rows, cols, scale), { atol: 1e-6, rtol }, `scale ${scale}`);
        out.dispose();
      }
      tx.dispose();
    });
  }
});

describe("row reductions", () => {
  for (const [rows, cols] of SHAPES) {
    it(`mean and max of ${rows}x${cols}`, async () => {
      const rt = await gpu();
      const x = randArray(rows * cols, rows * 5 + cols, -10, 10);
      const tx = rt.tensor(x, [rows, cols]);
      const m = rowMean(rt, tx);
      const mx = rowMax(rt, tx);
      expect(m.shape).toEqual([rows]);
      allclose(await m.read(), rowReduceRef(x, rows, cols, "mean"), { atol: 1e-5, rtol: 1e-5 }, "mean");
      allclose(await mx.read(), rowReduceRef(x, rows, cols, "max"), { atol: 0, rtol: 0 }, "max");
      for (const t of [tx, m, mx]) t.dispose();
    });
  }

  it("folds rows into a 2-D grid past the per-dimension workgroup limit", async () => {
    // The fold is what runs past 65535 rows; a lowered limit exercises it at a size SwiftShader
    // runs quickly (70001 rows take 23 s there).
    const rt = await createRuntime({ maxWorkgroupsPerDimension: 7 });
    const [rows, cols] = [31, 300];
    const x = randArray(rows * cols, 99);
    const tx = rt.tensor(x, [rows, cols]);
    const mx = rowMax(rt, tx);
    const ln = layerNorm(rt, tx, rt.tensor(new Float32Array(cols).fill(1), [cols]), rt.tensor(new Float32Array(cols), [cols]));
    const sm = softmax(rt, tx);
    allclose(await mx.read(), rowReduceRef(x, rows, cols, "max"), { atol: 0, rtol: 0 }, "max");
    allclose(await ln.read(), layerNormRef(x, rows, cols, new Float32Array(cols).fill(1), new Float32Array(cols)), { atol: 2e-5, rtol: 1e-5 }, "layernorm");
    allclose(await sm.read(), softmaxRef(x, rows, cols), { atol: 1e-6, rtol: 1e-5 }, "softmax");
    rt.dispose();
  });
});
