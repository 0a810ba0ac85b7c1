import { describe, expect, it } from "vitest";
import { attention, ShapeError } from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { randArray } from "./helpers/random.js";
import { attentionRef } from "./reference/cpu.js";

// Scores of unit-scale q, k over d <= 128 and a weighted mean of v in [-1, 1]: f32 error
// of a few 1e-7; 2e-5 leaves room for the rescaling of the streaming softmax.
const TOL = { atol: 2e-5, rtol: 1e-4 };

describe("fused attention", () => {
  // [T, heads, head dim]; T from 1 to 577 (ViT-L at 336 px), head dims 32..128.
  const cases: [number, number, number][] = [
    [1, 2, 32],
    [17, 2, 64],
    [77, 2, 64],
    [290, 1, 64],
    [33, 3, 80],
    [20, 1, 96],
    [45, 2, 128],
    [577, 1, 32],
  ];
  for (const [T, heads, d] of cases) {
    for (const causal of [false, true]) {
      it(`T=${T}, ${heads} heads of ${d}${causal ? ", causal" : ""}`, async () => {
        const rt = await gpu();
        const W = heads * d;
        const qkv = randArray(T * 3 * W, T * 31 + d + (causal ? 1 : 0), -1.5, 1.5);
        const t = rt.tensor(qkv, [T, 3 * W]);
        const out = attention(rt, t, { heads, causal });
        expect(out.shape).toEqual([T, W]);
        allclose(await out.read(), attentionRef(qkv, 1, T, W, heads, causal), TOL);
        t.dispose();
        out.dispose();
      });
    }
  }

  it("batches give each item what it gets alone", async () => {
    const rt = await gpu();
    const [B, T, heads, d] = [3, 19, 2, 32];
    const W = heads * d;
    const qkv = randArray(B * T * 3 * W, 5);
    const t = rt.tensor(qkv, [B, T, 3 * W]);
    const out = attention(rt, t, { heads });
    const got = await out.read();
    allclose(got, attentionRef(qkv, B, T, W, heads, false), TOL);
    const one = attention(rt, t.at(1), { heads });
    expect(Array.from(await one.read())).toEqual(Array.from(got.subarray(T * W, 2 * T * W)));
    for (const x of [t, out, one]) x.dispose();
  });

  it("refuses widths that do not split into heads, and odd head dims", async () => {
    const rt = await gpu();
    const t = rt.empty([5, 3 * 60], "f32", "qkv");
    expect(() => attention(rt, t, { heads: 7 })).toThrow(ShapeError);
    expect(() => attention(rt, t, { heads: 10 })).toThrow(/head dim 6 .* must be a multiple of 4/);
    t.dispose();
  });
});
