import { describe, expect, it } from "vitest";
import { linear, matmul, ShapeError } from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { randArray } from "./helpers/random.js";
import { matmulRef, type Act } from "./reference/cpu.js";

// f32 accumulation over K terms of size ~1: error grows like sqrt(K) * 2^-24; 1e-5 covers K <= 1000.
const TOL = { atol: 1e-5, rtol: 1e-5 };

describe("matmul", () => {
  const cases: [number, number, number][] = [
    [1, 1, 1],
    [17, 33, 5],
    [64, 64, 16],
    [65, 129, 31],
    [290, 96, 64],
    [3, 1000, 17],
  ];
  for (const [M, N, K] of cases) {
    for (const transB of [false, true]) {
      it(`${M}x${K} @ ${transB ? `(${N}x${K})^T` : `${K}x${N}`}`, async () => {
        const rt = await gpu();
        const a = randArray(M * K, M * 7 + K);
        const b = randArray(K * N, N * 13 + K);
        const ta = rt.tensor(a, [M, K]);
        const tb = rt.tensor(b, transB ? [N, K] : [K, N]);
        const out = matmul(rt, ta, tb, { transB });
        allclose(await out.read(), matmulRef(a, b, { batch: 1, M, N, K, transB, batchA: false, batchB: false }), TOL);
        for (const t of [ta, tb, out]) t.dispose();
      });
    }
  }

  // transA (weight gradients dy^T x): a stored [K,M], also with transB and a batch of 2
  for (const [M, N, K, transB, B] of [[17, 33, 5, false, 1], [65, 129, 290, false, 1], [64, 32, 104, true, 2]] as const) {
    it(`transA: ${B}x (${K}x${M})^T @ ${transB ? `(${N}x${K})^T` : `${K}x${N}`}`, async () => {
      const rt = await gpu();
      const at = randArray(B * K * M, M + 3 * K);
      const b = randArray(B * K * N, N + 5 * K);
      const a = new Float32Array(B * M * K); // the same a, stored [M,K] for the reference
      for (let z = 0; z < B; z++) for (let k = 0; k < K; k++) for (let m = 0; m < M; m++) a[z * M * K + m * K + k] = at[z * K * M + k * M + m];
      const ta = rt.tensor(at, B > 1 ? [B, K, M] : [K, M]);
      const tb = rt.tensor(b, B > 1 ? (transB ? [B, N, K] : [B, K, N]) : transB ? [N, K] : [K, N]);
      const out = matmul(rt, ta, tb, { transA: true, transB });
      expect(out.shape).toEqual(B > 1 ? [B, M, N] : [M, N]);
      allclose(await out.read(), matmulRef(a, b, { batch: B, M, N, K, transB, batchA: B > 1, batchB: B > 1 }), TOL);
      for (const t of [ta, tb, out]) t.dispose();
    });
  }

  const acts: Act[] = ["none", "gelu", "quickGelu", "relu", "leakyRelu", "sigmoid"];
  for (const act of acts) {
    it(`linear epilogue: bias, ${act}, alpha, residual`, async () => {
      const rt = await gpu();
      const [M, N, K] = [37, 70, 45];
      const x = randArray(M * K, 1, -2, 2);
      const w = randArray(N * K, 2);
      const bias = randArray(N, 3);
      const res = randArray(M * N, 4);
      const tx = rt.tensor(x, [M, K]);
      const tw = rt.tensor(w, [N, K]);
      const tbias = rt.tensor(bias, [N]);
      const tres = rt.tensor(res, [M, N]);
      const out = linear(rt, tx, tw, { bias: tbias, activation: act, alpha: 0.3, residual: tres, beta: 0.8 });
      const want = matmulRef(x, w, { batch: 1, M, N, K, transB: true, batchA: false, batchB: false, bias, act, alpha: 0.3, residual: res, beta: 0.8 });
      // GELU goes through an erf fit with relative error 1.2e-7: same budget as the sum.
      allclose(await out.read(), want, TOL, `linear ${act}`);
      for (const t of [tx, tw, tbias, tres, out]) t.dispose();
    });
  }

  it("in-place residual: out is the residual", async () => {
    const rt = await gpu();
    const [M, N, K] = [19, 23, 29];
    const x = randArray(M * K, 5);
    const w = randArray(N * K, 6);
    const res = randArray(M * N, 7);
    const tx = rt.tensor(x, [M, K]);
    const tw = rt.tensor(w, [N, K]);
    const tres = rt.tensor(res, [M, N]);
    linear(rt, tx, tw, { residual: tres, out: tres });
    allclose(await tres.read(), matmulRef(x, w, { batch: 1, M, N, K, transB: true, batchA: false, batchB: false, residual: res }), TOL);
    for (const t of [tx, tw, tres]) t.dispose();
  });

  it("batched, with a shared (2-D) b and with per-item b", async () => {
    const rt = await gpu();
    const [B, M, N, K] = [3, 21, 40, 18];
    const a = randArray(B * M * K, 8);
    const shared = randArray(K * N, 9);
    const per = randArray(B * K * N, 10);
    const ta = rt.tensor(a, [B, M, K]);
    const ts = rt.tensor(shared, [K, N]);
    const tp = rt.tensor(per, [B, K, N]);
    const o1 = matmul(rt, ta, ts);
    const o2 = matmul(rt, ta, tp);
    expect(o1.shape).toEqual([B, M, N]);
    allclose(await o1.read(), matmulRef(a, shared, { batch: B, M, N, K, transB: false, batchA: true, batchB: false }), TOL, "shared b");
    allclose(await o2.read(), matmulRef(a, per, { batch: B, M, N, K, transB: false, batchA: true, batchB: true }), TOL, "per-item b");
    for (const t of [ta, ts, tp, o1, o2]) t.dispose();
  });

  it("gate epilogue with a pre-activation scale: out = gate * sigmoid(2 * (x @ w^T))", async () => {
    const rt = await gpu();
    const [M, N, K] = [33, 40, 9];
    const x = randArray(M * K, 21);
    const w = randArray(N * K, 22);
    const g = randArray(M * N, 23);
    const [tx, tw, tg] = [rt.tensor(x, [M, K]), rt.tensor(w, [N, K]), rt.tensor(g, [M, N])];
    const out = linear(rt, tx, tw, { activation: "sigmoid", preScale: 2, gate: tg });
    const pre = matmulRef(x, w, { batch: 1, M, N, K, transB: true, batchA: false, batchB: false });
    allclose(await out.read(), Array.from(pre, (v, i) => g[i] / (1 + Math.exp(-2 * v))), TOL);
    for (const t of [tx, tw, tg, out]) t.dispose();
  });

  it("reads and writes views, and strided batches into a stacked buffer", async () => {
    const rt = await gpu();
    const [M, N, K] = [7, 12, 5];
    // a stack [2 items][3 blocks][M][N]; write block 1 of both items from batched inputs
    const stack = rt.tensor(new Float32Array(2 * 3 * M * N), [2, 3, M, N]);
    const a = randArray(2 * M * K, 31);
    const w = randArray(2 * N * K, 32);
    const ta = rt.tensor(a, [2, M, K]);
    const tw = rt.tensor(w, [2, N, K]);
    const block1 = stack.at(0).at(1); // [M, N] at element M*N
    linear(rt, ta, tw, { out: block1, batchStrides: { out: 3 * M * N } });
    const got = await stack.read();
    const want = matmulRef(a, w, { batch: 2, M, N, K, transB: true, batchA: true, batchB: true });
    for (let z = 0; z < 2; z++) {
      allclose(got.subarray((z * 3 + 1) * M * N, (z * 3 + 2) * M * N), want.subarray(z * M * N, (z + 1) * M * N), TOL, `item ${z}`);
      expect(Array.from(got.subarray(z * 3 * M * N, (z * 3 + 1) * M * N)).every((v) => v === 0)).toBe(true);
    }
    // a view as input: the second item's weight alone
    const w1 = tw.at(1);
    const y = linear(rt, ta.at(0), w1);
    allclose(await y.read(), matmulRef(a.subarray(0, M * K), w.subarray(N * K), { batch: 1, M, N, K, transB: true, batchA: false, batchB: false }), TOL, "view input");
    expect(() => linear(rt, ta, tw, { out: block1, batchStrides: { out: 6 * M * N } })).toThrow(/out .* is too small for 2 item\(s\)/);
    for (const t of [stack, ta, tw, block1, w1, y]) t.dispose();
  });

  it("rejects mismatched shapes with a message naming the kernel and shapes", async () => {
    const rt = await gpu();
    const a = rt.empty([4, 5], "f32", "x");
    const w = rt.empty([6, 7], "f32", "w");
    expect(() => linear(rt, a, w)).toThrow(ShapeError);
    expect(() => linear(rt, a, w)).toThrow(/matmul: inner sizes differ: a "x" \[4, 5\] has K=5, b "w" \[6, 7\] \(transposed\) has K=7/);
    a.dispose();
    w.dispose();
  });
});
