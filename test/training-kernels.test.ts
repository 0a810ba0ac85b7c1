// Kernels of adapter training (spec 9), against float64 CPU references: Adam as PyTorch
// computes it, and the focal + dice losses with gradients checked by finite differences.
import { describe, expect, it } from "vitest";
import { adamStep, attention, attentionBackward, headGradient, segLoss, ShapeError } from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { randArray, rng } from "./helpers/random.js";
import { attentionBackwardRef, attentionRef, bilinearRef } from "./reference/cpu.js";
import { centralDifferences } from "./helpers/gradcheck.js";

describe("adam", () => {
  it("three steps equal PyTorch's formula in float64, on a view, leaving its neighbours alone", async () => {
    const rt = await gpu();
    const n = 1003;
    const pad = 5;
    const p0 = randArray(n + 2 * pad, 1);
    const buf = rt.tensor(p0, [n + 2 * pad]);
    const param = buf.view([n], pad);
    const m = rt.tensor(new Float32Array(n), [n]);
    const v = rt.tensor(new Float32Array(n), [n]);
    const [lr, b1, b2, eps] = [1e-3, 0.5, 0.999, 1e-8];
    const ref = { p: Float64Array.from(p0.subarray(pad, pad + n)), m: new Float64Array(n), v: new Float64Array(n) };
    for (let step = 1; step <= 3; step++) {
      const g = randArray(n, 10 + step, -2, 2);
      const gt = rt.tensor(g, [n]);
      adamStep(rt, param, gt, m, v, { lr, betas: [b1, b2], eps, step });
      gt.dispose();
      const bc1 = 1 - b1 ** step;
      const bc2 = 1 - b2 ** step;
      for (let i = 0; i < n; i++) {
        ref.m[i] += (1 - b1) * (g[i] - ref.m[i]);
        ref.v[i] = b2 * ref.v[i] + (1 - b2) * g[i] * g[i];
        ref.p[i] -= (lr / bc1) * (ref.m[i] / (Math.sqrt(ref.v[i]) / Math.sqrt(bc2) + eps));
      }
    }
    const all = await buf.read();
    allclose(all.subarray(pad, pad + n), ref.p, { atol: 1e-7, rtol: 1e-6 }, "param");
    allclose(await m.read(), ref.m, { atol: 1e-7, rtol: 1e-5 }, "m");
    allclose(await v.read(), ref.v, { atol: 1e-9, rtol: 1e-5 }, "v");
    expect(Array.from(all.subarray(0, pad))).toEqual(Array.from(p0.subarray(0, pad)));
    expect(Array.from(all.subarray(pad + n))).toEqual(Array.from(p0.subarray(pad + n)));
    expect(() => adamStep(rt, param, m, m, rt.empty([4], "f32", "short"), { step: 1 })).toThrow(/v "short" \[4\] must have param's size/);
    expect(() => adamStep(rt, param, m, m, v, { step: 0 })).toThrow(ShapeError);
    for (const t of [buf, param, m, v]) t.dispose();
  });
});

/** focal + dice of spec 9 in float64 (the reference's FocalLoss and BinaryDiceLoss, batch 1). */
function segLossRef(prob: ArrayLike<number>, mask: ArrayLike<number>, smooth = 1e-5) {
  const n = mask.length;
  let focal = 0;
  let inter = 0;
  let sp = 0;
  let st = 0;
  for (let i = 0; i < n; i++) {
    const cls = Math.trunc(mask[i]); // .long()
    const t0 = Math.min(Math.max(1 - cls, smooth), 1 - smooth);
    const t1 = Math.min(Math.max(cls, smooth), 1 - smooth);
    const pt = t0 * prob[i] + t1 * prob[n + i] + smooth;
    focal += -((1 - pt) ** 2) * Math.log(pt);
    inter += prob[n + i] * mask[i];
    sp += prob[n + i];
    st += mask[i];
  }
  return { focal: focal / n, dice: 1 - (2 * inter + 1) / (sp + st + 1) };
}

describe("segmentation losses", () => {
  it("focal and dice and their gradient match float64 and finite differences", async () => {
    const rt = await gpu();
    const [H, W] = [29, 37];
    const n = H * W;
    const r = rng(4);
    // a 2-class softmax map and a mask with a blob, plus a few 0.5 values (class 0 for focal)
    const prob = new Float64Array(2 * n);
    const mask = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const l0 = 3 * (r() - 0.5);
      const l1 = 3 * (r() - 0.5);
      const z = Math.exp(l0) + Math.exp(l1);
      prob[i] = Math.fround(Math.exp(l0) / z);
      prob[n + i] = Math.fround(Math.exp(l1) / z);
      const [y, x] = [Math.floor(i / W), i % W];
      mask[i] = (y - 12) ** 2 + (x - 20) ** 2 < 40 ? 1 : r() < 0.02 ? 0.5 : 0;
    }
    const tp = rt.tensor(Float32Array.from(prob), [2, H, W]);
    const tm = rt.tensor(mask, [H, W]);
    const { loss, grad } = segLoss(rt, tp, tm, { focalWeight: 1, diceWeight: 1 });
    const want = segLossRef(prob, mask);
    allclose(await loss.read(), [want.focal, want.dice], { atol: 0, rtol: 2e-5 }, "loss");
    const g = await grad.read();
    // central differences of the float64 loss, at every pixel of both planes
    const numeric = centralDifferences(prob, () => {
      const l = segLossRef(prob, mask);
      return l.focal + l.dice;
    }, 1e-6);
    const scale = Math.max(...numeric.map(Math.abs));
    allclose(g, numeric, { atol: 1e-4 * scale, rtol: 1e-3 }, "grad");
    expect(() => segLoss(rt, tm, tm)).toThrow(/prob .* must be \[2, \.\.\.mask's shape\]/);
    for (const t of [tp, tm, loss, grad]) t.dispose();
  });
});

describe("adam on the reference's training run", () => {
  it("five steps of PyTorch's own Adam on fixture case a, from its gradients", async () => {
    const { openSafetensors } = await import("../src/index.js");
    const rt = await gpu();
    const DIR = "test/fixtures/model";
    const trace = await openSafetensors(`${DIR}/train-a-segmentation.safetensors`);
    const init = await openSafetensors(`${DIR}/adapters-a.safetensors`);
    const untouched: string[] = [];
    for (const name of init.tensors.keys()) {
      const p0 = await init.read(name);
      const n = p0.length;
      const [param, m, v] = [rt.tensor(p0, [n]), rt.tensor(new Float32Array(n), [n]), rt.tensor(new Float32Array(n), [n])];
      for (let s = 0; s < 5; s++) {
        const g = rt.tensor(await trace.read(`step.${s}.grad.${name}`), [n]);
        adamStep(rt, param, g, m, v, { lr: 1e-3, betas: [0.5, 0.999], step: s + 1 });
        g.dispose();
        allclose(await param.read(), await trace.read(`step.${s}.param.${name}`), { atol: 1e-7, rtol: 1e-5 }, `${name} after step ${s + 1}`);
      }
      if (Array.from(await param.read()).every((x, i) => x === p0[i])) untouched.push(name);
      for (const t of [param, m, v]) t.dispose();
    }
    // the last level's fc2 (seg and det) only feeds the residual stream after the last block,
    // which no loss reads: zero gradient, no move
    expect(untouched.sort()).toEqual(["det_adapters.3.fc2.0.weight", "seg_adapters.3.fc2.0.weight"]);
    await trace.close();
    await init.close();
  });
});

describe("up-map backward", () => {
  for (const [G, S, C] of [[5, 23, 1], [4, 40, 2], [1, 7, 2], [17, 240, 2]]) {
    it(`is the adjoint of the bilinear resize: ${G}x${G}x${C} from ${S}x${S}`, async () => {
      const { upMapBackward } = await import("../src/index.js");
      const { bilinearRef } = await import("./reference/cpu.js");
      const rt = await gpu();
      const dmap = randArray(C * S * S, G * 100 + S);
      const t = rt.tensor(dmap, C === 1 ? [S, S] : [C, S, S]);
      const got = upMapBackward(rt, t, G);
      expect(got.shape).toEqual(C === 1 ? [G * G] : [G * G, C]);
      // column by column: the forward of each unit source value, dotted with dmap
      const want = new Float64Array(G * G * C);
      const e = new Float64Array(G * G);
      for (let cell = 0; cell < G * G; cell++) {
        e.fill(0);
        e[cell] = 1;
        const col = bilinearRef(e, 1, G, G, S, S);
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let i = 0; i < S * S; i++) s += col[i] * dmap[c * S * S + i];
          want[cell * C + c] = s;
        }
      }
      allclose(await got.read(), want, { atol: 1e-5, rtol: 1e-5 }, "d values");
      t.dispose();
      got.dispose();
    });
  }
});

describe("normalize backward", () => {
  for (const [rows, cols] of [[1, 1], [17, 33], [289, 768], [5, 1500]]) {
    it(`matches central differences of F.normalize: ${rows} x ${cols}`, async () => {
      const { rowNormalizeBackward } = await import("../src/index.js");
      const rt = await gpu();
      const x = randArray(rows * cols, rows + cols);
      x[0] = 0.9; // row 0 of the 1x1 case: a plain nonzero value
      if (rows > 3) x.fill(0, 3 * cols, 4 * cols); // row 3: a zero row (norm below eps)
      const dy = randArray(rows * cols, 7 + rows);
      const [tx, tdy] = [rt.tensor(x, [rows, cols]), rt.tensor(dy, [rows, cols])];
      const got = await rowNormalizeBackward(rt, tx, tdy, { eps: 1e-12 }).read();
      // analytic float64, checked itself by central differences on a few entries
      const want = new Float64Array(rows * cols);
      const loss = (r: number, v: Float64Array) => {
        const n = Math.max(Math.hypot(...v), 1e-12);
        return v.reduce((s, xi, i) => s + (xi / n) * dy[r * cols + i], 0);
      };
      for (let r = 0; r < rows; r++) {
        const v = Float64Array.from(x.subarray(r * cols, (r + 1) * cols));
        const n = Math.hypot(...v);
        const dot = v.reduce((s, xi, i) => s + xi * dy[r * cols + i], 0);
        for (let i = 0; i < cols; i++) want[r * cols + i] = n > 1e-12 ? dy[r * cols + i] / n - (v[i] * dot) / n ** 3 : dy[r * cols + i] / 1e-12;
        if (n > 1e-12 && r < 4) {
          const i = (r * 7) % cols;
          const h = 1e-6;
          const keep = v[i];
          v[i] = keep + h;
          const up = loss(r, v);
          v[i] = keep - h;
          const down = loss(r, v);
          v[i] = keep;
          expect((up - down) / (2 * h)).toBeCloseTo(want[r * cols + i], 5);
        }
      }
      allclose(got, want, { atol: 1e-5, rtol: 1e-4 }, "dx");
      for (const t of [tx, tdy]) t.dispose();
    });
  }
});

describe("zero-shot head gradients", () => {
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const bceLoss = (l: ArrayLike<number>, P: number, y: number) => {
    let s = 0;
    for (let p = 0; p < P; p++) s += sigmoid(l[2 * p + 1] - l[2 * p]);
    const x = s / P;
    return Math.max(x, 0) - x * y + Math.log(1 + Math.exp(-Math.abs(x)));
  };

  for (const label of [0, 1]) {
    it(`det BCE term (label ${label}): loss and dlogits against central differences`, async () => {
      const { detBceBackward } = await import("../src/index.js");
      const rt = await gpu();
      const P = 289;
      const l = Float64Array.from(randArray(2 * P, 30 + label, -4, 4), Math.fround);
      const t = rt.tensor(Float32Array.from(l), [P, 2]);
      const { loss, dlogits } = detBceBackward(rt, t, label);
      expect((await loss.read())[0]).toBeCloseTo(bceLoss(l, P, label), 5);
      const numeric = centralDifferences(l, () => bceLoss(l, P, label), 1e-5);
      allclose(await dlogits.read(), numeric, { atol: 1e-8, rtol: 1e-3 }, "dlogits");
      for (const x of [t, loss, dlogits]) x.dispose();
    });
  }

  it("2-class softmax backward against central differences", async () => {
    const { softmax2Backward } = await import("../src/index.js");
    const rt = await gpu();
    const N = 13 * 11;
    const z = Float64Array.from(randArray(2 * N, 41, -5, 5), Math.fround);
    const dp = randArray(2 * N, 42);
    const f = (v: Float64Array) => {
      let s = 0;
      for (let i = 0; i < N; i++) {
        const p1 = sigmoid(v[N + i] - v[i]);
        s += (1 - p1) * dp[i] + p1 * dp[N + i];
      }
      return s;
    };
    const [tz, td] = [rt.tensor(Float32Array.from(z), [2, 13, 11]), rt.tensor(dp, [2, 13, 11])];
    const got = await softmax2Backward(rt, tz, td).read();
    const numeric = centralDifferences(z, () => f(z), 1e-5);
    allclose(got, numeric, { atol: 1e-6, rtol: 1e-4 }, "dz");
    for (const x of [tz, td]) x.dispose();
  });
});

describe("one level's head gradient", () => {
  const [G, E, S] = [4, 16, 23];
  const P = G * G;
  const T = P + 1;
  const sig = (v: number) => 1 / (1 + Math.exp(-v));

  /** The level's loss in float64 from tokens [T, E] (spec 9, as train_ref.py computes it). */
  function levelLoss(tok: Float64Array, tf: Float64Array, o: { label?: number; mask?: Float32Array }) {
    const logits = new Float64Array(2 * P);
    for (let p = 0; p < P; p++) {
      const row = tok.subarray((p + 1) * E, (p + 2) * E);
      const n = Math.max(Math.hypot(...row), 1e-12);
      for (let c = 0; c < 2; c++) {
        let s = 0;
        for (let e = 0; e < E; e++) s += (row[e] / n) * tf[e * 2 + c];
        logits[2 * p + c] = 100 * s;
      }
    }
    if (o.mask === undefined) {
      let s = 0;
      for (let p = 0; p < P; p++) s += sig(logits[2 * p + 1] - logits[2 * p]);
      const x = s / P;
      return Math.max(x, 0) - x * o.label! + Math.log(1 + Math.exp(-Math.abs(x)));
    }
    const planes = [0, 1].map((c) => bilinearRef(Array.from({ length: P }, (_, p) => logits[2 * p + c]), 1, G, G, S, S));
    const prob = new Float64Array(2 * S * S);
    for (let i = 0; i < S * S; i++) {
      prob[S * S + i] = sig(planes[1][i] - planes[0][i]);
      prob[i] = 1 - prob[S * S + i];
    }
    const l = segLossRef(prob, o.mask);
    return l.focal + l.dice;
  }

  for (const kind of ["det", "seg"] as const) {
    it(`${kind}: the loss and d loss / d tokens match float64 central differences at every entry`, async () => {
      const rt = await gpu();
      const tok = Float64Array.from(randArray(T * E, kind === "det" ? 51 : 52), Math.fround);
      const tfRaw = randArray(E * 2, 53);
      for (let c = 0; c < 2; c++) {
        const n = Math.hypot(...Array.from({ length: E }, (_, e) => tfRaw[e * 2 + c]));
        for (let e = 0; e < E; e++) tfRaw[e * 2 + c] /= n;
      }
      const tf = Float64Array.from(tfRaw);
      const mask = new Float32Array(S * S).map((_, i) => (Math.floor(i / S) > 12 && i % S < 9 ? 1 : 0));
      const o = kind === "det" ? { label: 1 } : { mask };
      const [tt, ttf, tm] = [rt.tensor(Float32Array.from(tok), [T, E]), rt.tensor(tfRaw, [E, 2]), rt.tensor(mask, [S, S])];
      const { loss, dtokens } = headGradient(rt, tt, ttf, kind === "det" ? { kind, label: 1 } : { kind, mask: tm });
      const l = await loss.read();
      expect(kind === "det" ? l[0] : l[0] + l[1]).toBeCloseTo(levelLoss(tok, tf, o), 4);
      const numeric = centralDifferences(tok, () => levelLoss(tok, tf, o), 1e-6);
      const got = await dtokens.read();
      expect(Array.from(got.subarray(0, E))).toEqual(new Array(E).fill(0)); // class token
      const scale = Math.max(...numeric.map(Math.abs));
      allclose(got, numeric, { atol: 2e-3 * scale, rtol: 2e-3 }, "d tokens");
      for (const x of [tt, ttf, tm, loss, dtokens]) x.dispose();
    });
  }
});

describe("frozen-layer backward", () => {
  const acts = ["none", "gelu", "quickGelu", "relu", "leakyRelu", "sigmoid"] as const;
  for (const act of acts) {
    it(`${act}: dy * act'(x) as PyTorch's backward, against central differences`, async () => {
      const { activationBackward } = await import("../src/index.js");
      const { activate } = await import("./reference/cpu.js");
      const rt = await gpu();
      const n = 1001;
      const x = randArray(n, 61, -4, 4);
      x[0] = 0; // the kink of ReLU / LeakyReLU: PyTorch uses the left slope (0, 0.01)
      const dy = randArray(n, 62);
      const got = await activationBackward(rt, rt.tensor(x, [n]), rt.tensor(dy, [n]), act).read();
      const v = Float64Array.from(x);
      const want = Array.from(v, (xi, i) => {
        if (xi === 0 && act === "relu") return 0;
        if (xi === 0 && act === "leakyRelu") return 0.01 * dy[i];
        const h = 1e-6;
        return (dy[i] * (activate(xi + h, act) - activate(xi - h, act))) / (2 * h);
      });
      allclose(got, want, { atol: 1e-6, rtol: 1e-5 }, `d ${act}`);
    });
  }

  for (const [rows, cols] of [[3, 33], [7, 768]]) {
    it(`layernorm ${rows} x ${cols}: the input gradient against central differences`, async () => {
      const { layerNormBackward } = await import("../src/index.js");
      const { layerNormRef } = await import("./reference/cpu.js");
      const rt = await gpu();
      const x = Float64Array.from(randArray(rows * cols, 70 + cols, -2, 3), Math.fround);
      const dy = randArray(rows * cols, 71);
      const g = randArray(cols, 72, 0.5, 1.5);
      const b = randArray(cols, 73);
      const got = await layerNormBackward(rt, rt.tensor(Float32Array.from(x), [rows, cols]), rt.tensor(dy, [rows, cols]), rt.tensor(g, [cols])).read();
      const f = () => layerNormRef(x, rows, cols, g, b).reduce((s, y, i) => s + y * dy[i], 0);
      allclose(got, centralDifferences(x, f, 1e-5), { atol: 1e-4, rtol: 1e-3 }, "d x");
    });
  }
});

describe("attention backward", () => {
  it("the float64 reference formulas equal central differences of the forward", () => {
    const [B, T, W, heads] = [2, 5, 8, 2];
    const qkv = Float64Array.from(randArray(B * T * 3 * W, 5, -1.5, 1.5));
    const dout = Float64Array.from(randArray(B * T * W, 6));
    const loss = () => attentionRef(qkv, B, T, W, heads, false).reduce((s, v, i) => s + v * dout[i], 0);
    allclose(attentionBackwardRef(qkv, dout, B, T, W, heads), centralDifferences(qkv, loss, 1e-6), { atol: 1e-8, rtol: 1e-6 }, "dqkv");
  });

  // [batch, T, heads, head dim]: one key, a partial last tile, ViT-L's 290 tokens, d = 128.
  // Tolerance as the forward's: sums of T products of unit-scale values in f32.
  for (const [B, T, heads, d] of [[1, 1, 2, 32], [2, 19, 2, 64], [1, 290, 1, 64], [1, 45, 2, 128], [1, 33, 3, 80]]) {
    it(`${B}x T=${T}, ${heads} heads of ${d}: dq, dk, dv against float64`, async () => {
      const rt = await gpu();
      const W = heads * d;
      const qkv = randArray(B * T * 3 * W, T + d, -1.5, 1.5);
      const dout = randArray(B * T * W, T + 2 * d);
      const tq = rt.tensor(qkv, B > 1 ? [B, T, 3 * W] : [T, 3 * W]);
      const td = rt.tensor(dout, B > 1 ? [B, T, W] : [T, W]);
      const o = attention(rt, tq, { heads });
      const dqkv = attentionBackward(rt, tq, o, td, { heads });
      expect(dqkv.shape).toEqual(tq.shape);
      allclose(await dqkv.read(), attentionBackwardRef(qkv, dout, B, T, W, heads), { atol: 3e-5, rtol: 1e-4 }, "dqkv");
      for (const t of [tq, td, o, dqkv]) t.dispose();
    });
  }

  it("refuses a mismatched output gradient, naming it", async () => {
    const rt = await gpu();
    const tq = rt.tensor(new Float32Array(4 * 96), [4, 96]);
    const bad = rt.tensor(new Float32Array(4 * 31), [4, 31]);
    expect(() => attentionBackward(rt, tq, bad, bad, { heads: 1 })).toThrow(/o .* must have 128 elements/);
    for (const t of [tq, bad]) t.dispose();
  });
});
