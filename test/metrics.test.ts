import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { auroc, averagePrecision, MetricError, minMaxNormalize } from "../src/index.js";

// From test/reference/make_metric_fixtures.py (scikit-learn): scores with many ties.
const FIX = JSON.parse(readFileSync(new URL("./fixtures/metrics.json", import.meta.url), "utf8"));

describe("metrics", () => {
  for (const [i, c] of (FIX.cases as { scores: number[]; labels: number[]; auroc: number; ap: number }[]).entries()) {
    it(`AUROC and AP equal scikit-learn's, case ${i} (${c.scores.length} scores)`, () => {
      expect(auroc(c.scores, c.labels)).toBeCloseTo(c.auroc, 12);
      expect(averagePrecision(c.scores, c.labels)).toBeCloseTo(c.ap, 12);
    });
  }

  it("AUROC is the Mann-Whitney statistic with ties counted half", () => {
    expect(auroc([1, 1], [0, 1])).toBe(0.5);
    expect(auroc([0.2, 0.9, 0.5, 0.5], [0, 1, 0, 1])).toBe((1 + 1 + 0.5 + 1) / 4);
  });

  it("scales to millions of values", () => {
    const n = 2_000_000;
    const scores = new Float32Array(n);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 10 === 0 ? 1 : 0;
      scores[i] = (i % 1000) / 1000 + labels[i] * 0.5;
    }
    // 10% anomalous, each 0.5 above its position's normal score: the exact area is known
    const a = auroc(scores, labels);
    expect(a).toBeGreaterThan(0.5);
    expect(a).toBeLessThanOrEqual(1);
  });

  it("refuses one-class inputs and mismatched lengths", () => {
    expect(() => auroc([1, 2], [0, 0])).toThrow(MetricError);
    expect(() => auroc([1, 2], [0, 1, 1])).toThrow(/2 scores but 3 labels/);
    expect(Array.from(minMaxNormalize(Float32Array.from([2, 4, 3])))).toEqual([0, 1, 0.5]);
  });
});

describe("per-region overlap", () => {
  it("labels 8-connected regions", async () => {
    const { labelRegions } = await import("../src/index.js");
    // two regions: a diagonal pair (one region with 8-connectivity) and a lone pixel
    const m = [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    expect(labelRegions(m, 4, 4).count).toBe(2);
  });

  it("is 1 for a perfect map, the mean covered fraction for a partial one", async () => {
    const { perRegionOverlap } = await import("../src/index.js");
    const W = 8;
    const mask = new Uint8Array(W * W);
    for (let y = 1; y < 3; y++) for (let x = 1; x < 5; x++) mask[y * W + x] = 1; // region of 8
    mask[6 * W + 6] = 1; // region of 1
    const perfect = Float32Array.from(mask, (v) => v);
    expect(perRegionOverlap([perfect], [mask], W, W)).toBeCloseTo(1, 10);
    // half of the big region scores 1, the rest of the image 0 (ties at 0 reach FPR 1 at once)
    const half = new Float32Array(W * W);
    for (let x = 1; x < 5; x++) half[1 * W + x] = 1;
    // PRO is 0.25 at FPR 0 (half of one region, none of the other); the next threshold turns
    // every pixel on (FPR 1, PRO 1); the curve is linear between, 0.475 at FPR 0.3, so the
    // normalised area is (0.25 + 0.475) / 2
    expect(perRegionOverlap([half], [mask], W, W)).toBeCloseTo(0.3625, 10);
  });
});
