import { describe, expect, it } from "vitest";
import { add, mul, permute, scaledSum, ShapeError, transpose } from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { randArray } from "./helpers/random.js";
import { permuteRef } from "./reference/cpu.js";

const EXACT = { atol: 0, rtol: 0 };

describe("elementwise", () => {
  for (const n of [1, 17, 1000, 290 * 1024 + 3]) {
    it(`add, mul, scaled sums of ${n} elements`, async () => {
      const rt = await gpu();
      const [a, b, c] = [randArray(n, 1), randArray(n, 2), randArray(n, 3)];
      const [ta, tb, tc] = [rt.tensor(a, [n]), rt.tensor(b, [n]), rt.tensor(c, [n])];
      const s = add(rt, ta, tb);
      const p = mul(rt, ta, tb);
      const s2 = scaledSum(rt, [ta, tb], [0.3, -2]);
      const s3 = scaledSum(rt, [ta, tb, tc], [0.8, 0.1, 0.1]);
      const f = Math.fround;
      allclose(await s.read(), Array.from(a, (v, i) => f(v + b[i])), EXACT, "add");
      allclose(await p.read(), Array.from(a, (v, i) => f(v * b[i])), EXACT, "mul");
      allclose(await s2.read(), Array.from(a, (v, i) => 0.3 * v - 2 * b[i]), { atol: 1e-6, rtol: 1e-6 }, "sum2");
      allclose(await s3.read(), Array.from(a, (v, i) => 0.8 * v + 0.1 * b[i] + 0.1 * c[i]), { atol: 1e-6, rtol: 1e-6 }, "sum3");
      for (const t of [ta, tb, tc, s, p, s2, s3]) t.dispose();
    });
  }

  it("repeats a trailing-shape operand over every row", async () => {
    const rt = await gpu();
    const [T, W] = [7, 13];
    const x = randArray(T * W, 4);
    const row = randArray(W, 5);
    const [tx, tr] = [rt.tensor(x, [T, W]), rt.tensor(row, [1, W])];
    const out = add(rt, tx, tr);
    allclose(await out.read(), Array.from(x, (v, i) => Math.fround(v + row[i % W])), EXACT);
    expect(() => add(rt, tx, rt.empty([T], "f32", "col"))).toThrow(/add: b "col" \[7\] must have a's shape/);
    for (const t of [tx, tr, out]) t.dispose();
  });

  it("refuses an output that aliases an input", async () => {
    const rt = await gpu();
    const t = rt.empty([4]);
    expect(() => add(rt, t, t, t)).toThrow(ShapeError);
    t.dispose();
  });
});

describe("permute", () => {
  const cases: [number[], number[]][] = [
    [[1, 1], [1, 0]],
    [[17, 33], [1, 0]],
    [[290, 97], [1, 0]],
    [[3, 5, 7], [0, 2, 1]],
    [[3, 5, 7], [1, 0, 2]],
    [[3, 5, 7], [2, 0, 1]],
    [[3, 5, 7], [2, 1, 0]],
    [[3, 5, 7], [1, 2, 0]],
    [[3, 5, 7], [0, 1, 2]],
    [[16, 290, 64], [1, 0, 2]],
    [[33, 40, 65], [2, 1, 0]],
  ];
  for (const [shape, perm] of cases) {
    it(`[${shape}] by (${perm})`, async () => {
      const rt = await gpu();
      const n = shape.reduce((a, b) => a * b, 1);
      const x = randArray(n, n);
      const tx = rt.tensor(x, shape);
      const out = permute(rt, tx, perm);
      expect(out.shape).toEqual(perm.map((a) => shape[a]));
      allclose(await out.read(), permuteRef(x, shape, perm), EXACT);
      tx.dispose();
      out.dispose();
    });
  }

  it("transpose swaps the last two axes; a bad perm is refused", async () => {
    const rt = await gpu();
    const x = randArray(2 * 3 * 4, 8);
    const tx = rt.tensor(x, [2, 3, 4]);
    const out = transpose(rt, tx);
    allclose(await out.read(), permuteRef(x, [2, 3, 4], [0, 2, 1]), EXACT);
    expect(() => permute(rt, tx, [0, 0, 1])).toThrow(/permute: perm \[0, 0, 1\] must be a permutation/);
    tx.dispose();
    out.dispose();
  });
});
