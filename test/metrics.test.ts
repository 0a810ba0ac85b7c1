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
