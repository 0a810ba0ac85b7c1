import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  affineSample,
  augmentationMaps,
  augmentSupport,
  bicubicAntialiasResize,
  bilinearResize,
  flip,
  NORMALIZATIONS,
  pilBicubicResize,
  preprocessImage,
  resizePositionalEmbedding,
  type Affine,
} from "../src/index.js";
import { allclose } from "./helpers/allclose.js";
import { gpu } from "./helpers/gpu.js";
import { randArray, rng } from "./helpers/random.js";
import { affineSampleRef, bilinearRef } from "./reference/cpu.js";

// Written by test/reference/make_resample_fixtures.py with PyTorch 1.13 and Pillow 9.4.
const FIX = JSON.parse(readFileSync(new URL("./fixtures/resample.json", import.meta.url), "utf8"));
const f32 = (a: number[]) => Float32Array.from(a);

describe("bilinear resize (align_corners = true)", () => {
  for (const c of FIX.bilinear as { C: number; G: number; S: number; x: number[]; y: number[] }[]) {
    it(`matches torch: ${c.C}x${c.G}x${c.G} -> ${c.S}x${c.S}`, async () => {
      const rt = await gpu();
      const x = rt.tensor(f32(c.x), [c.C, c.G, c.G]);
      const y = bilinearResize(rt, x, c.S, c.S);
      // Same formula as torch in f32, but torch's CPU kernel rounds its lambdas and sums in
      // an order we could not reproduce exactly (no FMA pattern matched): up to 7 ulp of the
      // inputs (|x| <= 3) apart, so 4e-6 against torch; the float64 check below is tight.
      allclose(await y.read(), c.y, { atol: 4e-6, rtol: 1e-6 }, "vs torch");
      allclose(await y.read(), bilinearRef(c.x, c.C, c.G, c.G, c.S, c.S), { atol: 1e-6, rtol: 1e-6 }, "vs float64");
      x.dispose();
      y.dispose();
    });
  }

  it("odd, non-square sizes against the float64 reference", async () => {
    const rt = await gpu();
    const x = randArray(2 * 5 * 7, 3);
    const tx = rt.tensor(x, [2, 5, 7]);
    const y = bilinearResize(rt, tx, 13, 1);
    allclose(await y.read(), bilinearRef(x, 2, 5, 7, 13, 1), { atol: 1e-6, rtol: 1e-6 });
    tx.dispose();
    y.dispose();
  });
});

describe("affine sampling, reflection padding, and the support augmentation", () => {
  for (const c of FIX.affine as { C: number; H: number; W: number; thetas: number[]; x: number[]; y: number[] }[]) {
    it(`matches torch affine_grid + grid_sample: ${c.C}x${c.H}x${c.W}, 8 maps`, async () => {
      const rt = await gpu();
      const thetas: Affine[] = [];
      for (let i = 0; i < c.thetas.length; i += 6) thetas.push(c.thetas.slice(i, i + 6) as Affine);
      const x = rt.tensor(f32(c.x), [c.C, c.H, c.W]);
      const y = affineSample(rt, x, thetas);
      expect(y.shape).toEqual([8, c.C, c.H, c.W]);
      // coordinates go through f32 products; bilinear weights then differ by ~1e-7
      allclose(await y.read(), c.y, { atol: 2e-6, rtol: 1e-5 }, "vs torch");
      const want = new Float64Array(8 * c.C * c.H * c.W);
      thetas.forEach((t, i) => want.set(affineSampleRef(c.x, c.C, c.H, c.W, t), i * c.C * c.H * c.W));
      allclose(await y.read(), want, { atol: 2e-6, rtol: 1e-5 }, "vs float64");
      x.dispose();
      y.dispose();
    });
  }

  it("uses the spec's maps in the spec's order", () => {
    const maps = augmentationMaps();
    expect(maps).toHaveLength(8);
    expect(maps[0][1]).toBeCloseTo(Math.sin(Math.PI / 8), 12); // rotation by -pi/8: -sin(-pi/8)
    expect(maps[4]).toEqual([1, 0, 0.1, 0, 1, 0.1]);
    expect(maps[7]).toEqual([1, 0, 0.1, 0, 1, -0.1]);
  });

  it("augments one image 11-fold: itself, 8 affine maps, flips", async () => {
    const rt = await gpu();
    const [C, S] = [3, 9];
    const x = randArray(C * S * S, 77, 0, 1);
    const tx = rt.tensor(x, [C, S, S]);
    const aug = augmentSupport(rt, tx);
    expect(aug.shape).toEqual([11, C, S, S]);
    const got = await aug.read();
    const n = C * S * S;
    expect(Array.from(got.subarray(0, n))).toEqual(Array.from(x));
    augmentationMaps().forEach((t, i) => allclose(got.subarray((1 + i) * n, (2 + i) * n), affineSampleRef(x, C, S, S, t), { atol: 2e-6, rtol: 1e-5 }, `map ${i}`));
    const at = (c: number, y: number, xx: number) => x[c * S * S + y * S + xx];
    for (let c = 0; c < C; c++)
      for (let y = 0; y < S; y++)
        for (let xx = 0; xx < S; xx++) {
          expect(got[9 * n + c * S * S + y * S + xx]).toBe(at(c, y, S - 1 - xx));
          expect(got[10 * n + c * S * S + y * S + xx]).toBe(at(c, S - 1 - y, xx));
        }
    const both = flip(rt, tx, { horizontal: true, vertical: true });
    expect((await both.read())[0]).toBe(at(0, S - 1, S - 1));
    for (const t of [tx, aug, both]) t.dispose();
  });
});

describe("bicubic antialiased resize (CPU, positional embedding)", () => {
  for (const c of FIX.bicubic_aa as { C: number; g: number; G: number; x: number[]; y: number[] }[]) {
    it(`matches torch interpolate(bicubic, antialias): ${c.C}x${c.g}x${c.g} -> ${c.G}x${c.G}`, () => {
      const y = bicubicAntialiasResize(f32(c.x), c.C, c.g, c.g, c.G, c.G);
      // f32 arithmetic step by step as torch: equal but for the rare last-bit difference
      allclose(y, c.y, { atol: 1e-6, rtol: 1e-6 });
    });
  }

  it("resizes a positional embedding, keeping the class row", () => {
    const [g, G, W] = [4, 3, 5];
    const pos = randArray((1 + g * g) * W, 4);
    const out = resizePositionalEmbedding(pos, W, G);
    expect(out.length).toBe((1 + G * G) * W);
    expect(Array.from(out.subarray(0, W))).toEqual(Array.from(pos.subarray(0, W)));
    const chw = new Float32Array(W * g * g);
    for (let p = 0; p < g * g; p++) for (let c = 0; c < W; c++) chw[c * g * g + p] = pos[(1 + p) * W + c];
    const r = bicubicAntialiasResize(chw, W, g, g, G, G);
    expect(out[(1 + 4) * W + 2]).toBe(r[2 * G * G + 4]);
    expect(Array.from(resizePositionalEmbedding(pos, W, g))).toEqual(Array.from(pos));
  });
});

describe("PIL bicubic resize and preprocessing", () => {
  for (const c of FIX.pil_bicubic as { H: number; W: number; S: number; x: number[]; y: number[] }[]) {
    it(`CPU and GPU match Pillow bit for bit: ${c.W}x${c.H} -> ${c.S}x${c.S}`, async () => {
      const cpu = pilBicubicResize(Uint8Array.from(c.x), c.W, c.H, 3, c.S, c.S);
      expect(Array.from(cpu)).toEqual(c.y);
      const rt = await gpu();
      const img = rt.tensor(Uint32Array.from(c.x), [c.H, c.W, 3], "u32", "image");
      const out = preprocessImage(rt, img, c.S, NORMALIZATIONS.none);
      const got = await out.read();
      const S2 = c.S * c.S;
      const bytes = Array.from({ length: 3 * S2 }, (_, i) => Math.round(got[i] * 255));
      const want = Array.from({ length: 3 * S2 }, (_, i) => c.y[(i % S2) * 3 + Math.floor(i / S2)]);
      expect(bytes).toEqual(want);
      img.dispose();
      out.dispose();
    });
  }

  it("normalises as torchvision's ToTensor + Normalize, in f32", async () => {
    const rt = await gpu();
    const r = rng(5);
    const [H, W] = [11, 6];
    const bytes = Uint32Array.from({ length: H * W * 3 }, () => Math.floor(r() * 256));
    const img = rt.tensor(bytes, [H, W, 3], "u32");
    const out = preprocessImage(rt, img, 8, NORMALIZATIONS.imagenet);
    const got = await out.read();
    const resized = pilBicubicResize(Uint8Array.from(bytes), W, H, 3, 8, 8);
    const f = Math.fround;
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < 64; p++) {
        const v = resized[p * 3 + c];
        const want = f(f(f(v / 255) - f(NORMALIZATIONS.imagenet.mean[c])) / f(NORMALIZATIONS.imagenet.std[c]));
        expect(got[c * 64 + p]).toBe(want);
      }
    img.dispose();
    out.dispose();
  });
});
