import { describe, expect, it } from "vitest";
import { nearestDistance, rowNormalize, ShapeError } from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { randArray } from "./helpers/random.js";
import { nearestRef, normalizeRef } from "./reference/cpu.js";

describe("row normalisation", () => {
  it("divides by the clamped norm; a zero row stays zero", async () => {
    const rt = await gpu();
    const [R, C] = [9, 300];
    const x = randArray(R * C, 1);
    x.fill(0, 3 * C, 4 * C);
    const tx = rt.tensor(x, [R, C]);
    const out = rowNormalize(rt, tx, { eps: 1e-8 });
    allclose(await out.read(), normalizeRef(x, R, C, 1e-8), { atol: 1e-7, rtol: 1e-6 });
    tx.dispose();
    out.dispose();
  });
});

describe("memory-bank nearest neighbour", () => {
  // [queries, memory rows, width]: one tile, several chunks of tiles, odd sizes.
  for (const [Nq, Nm, E] of [
    [1, 1, 8],
    [17, 90, 33],
    [70, 2000, 48],
    [289, 3190, 64],
  ]) {
    it(`${Nq} queries against ${Nm} memory rows of ${E}`, async () => {
      const rt = await gpu();
      const q = randArray(Nq * E, Nq + 1);
      const m = randArray(Nm * E, Nm + 2);
      // plant near-copies so the minimum is small for some queries
      for (let i = 0; i < Math.min(Nq, Nm); i += 3) for (let c = 0; c < E; c++) m[((i * 7) % Nm) * E + c] = q[i * E + c] * 1.5 + 0.001 * c;
      const [tq, tm] = [rt.tensor(q, [Nq, E]), rt.tensor(m, [Nm, E])];
      const qn = rowNormalize(rt, tq, { eps: 1e-8 });
      const mn = rowNormalize(rt, tm, { eps: 1e-8 });
      const d = nearestDistance(rt, qn, mn);
      expect(d.shape).toEqual([Nq]);
      // cosines of unit vectors summed over E terms in f32: 1e-6 absolute
      allclose(await d.read(), nearestRef(q, Nq, m, Nm, E), { atol: 1e-6, rtol: 0 });
      for (const t of [tq, tm, qn, mn, d]) t.dispose();
    });
  }

  it("takes the bank in parts (views): the minimum over all of them", async () => {
    const rt = await gpu();
    const [Nq, Nm, E] = [9, 300, 16];
    const q = randArray(Nq * E, 41);
    const m = randArray(Nm * E, 42);
    const [tq, tm] = [rowNormalize(rt, rt.tensor(q, [Nq, E]), { eps: 1e-8 }), rowNormalize(rt, rt.tensor(m, [Nm, E]), { eps: 1e-8 })];
    const parts = [tm.view([100, E], 0), tm.view([0, E], 0), tm.view([200, E], 100 * E)];
    const whole = await nearestDistance(rt, tq, tm).read();
    expect(Array.from(await nearestDistance(rt, tq, parts).read())).toEqual(Array.from(whole));
    // leaving a part out changes the result to that of the rest alone
    allclose(await nearestDistance(rt, tq, parts[2]).read(), nearestRef(q, Nq, m.subarray(100 * E), 200, E), { atol: 1e-6, rtol: 0 });
    for (const t of [tq, tm, ...parts]) t.dispose();
  });

  it("writes into a view and refuses mismatched widths or an empty bank", async () => {
    const rt = await gpu();
    const q = rt.tensor(randArray(4 * 8, 3), [4, 8]);
    const m = rt.tensor(randArray(5 * 8, 4), [5, 8]);
    const out = rt.tensor(new Float32Array(12), [3, 4]);
    const view = out.at(1);
    nearestDistance(rt, q, m, { out: view });
    const got = await out.read();
    expect(got.subarray(0, 4).every((v) => v === 0) && got.subarray(8).every((v) => v === 0)).toBe(true);
    expect(got.subarray(4, 8).some((v) => v !== 0)).toBe(true);
    expect(() => nearestDistance(rt, q, rt.empty([5, 7], "f32", "bank"))).toThrow(ShapeError);
    expect(() => nearestDistance(rt, q, rt.empty([0, 8], "f32", "bank"))).toThrow(/memory bank "bank" \[0, 8\] is empty/);
    for (const t of [q, m, out, view]) t.dispose();
  });
});
