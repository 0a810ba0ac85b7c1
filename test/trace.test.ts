import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSafetensors, runTrace } from "../src/index.js";
import { gpu } from "./helpers/gpu.js";
import { sharedFile, VOCAB_GZ } from "./helpers/shared.js";

// Fixtures and expected traces from test/reference/clipmpcad_ref.py (PyTorch, from the spec).
const DIR = "test/fixtures/model";
const CASES = JSON.parse(readFileSync(join(DIR, "cases.json"), "utf8")).cases as Record<
  string,
  { S: number; levels: number[]; classname: string; norm: "none" | "imagenet"; support: string[]; queries: string[]; naming: string }
>;

function relL2(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

function maxAbs(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}

describe("trace against the PyTorch reference", () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`case ${name}: ${c.naming} names, S=${c.S}, levels ${c.levels.join(",")}, normalize ${c.norm}`, async () => {
      const rt = await gpu();
      const got = await runTrace(rt, {
        clip: join(DIR, `clip-${name}.safetensors`),
        adapters: join(DIR, `adapters-${name}.safetensors`),
        vocab: sharedFile(VOCAB_GZ),
        className: c.classname,
        imageSize: c.S,
        levels: c.levels,
        normalize: c.norm,
        support: c.support.map((f) => join(DIR, f)),
        query: c.queries.map((f) => join(DIR, f)),
      });
      const want = await openSafetensors(join(DIR, `trace-${name}.safetensors`));
      expect(Object.keys(got).sort()).toEqual([...want.tensors.keys()].sort());
      const report: string[] = [];
      for (const key of want.tensors.keys()) {
        const w = await want.read(key);
        const g = got[key];
        expect(g.shape, key).toEqual(want.info(key).shape);
        // The tolerances: tokens and text features to relative L2 1e-4, maps 1e-3 absolute.
        if (/seg_map|det_score/.test(key)) {
          const e = maxAbs(g.data, w);
          report.push(`${key}: max abs ${e.toExponential(2)}`);
          expect(e, key).toBeLessThan(1e-3);
        } else {
          const e = relL2(g.data, w);
          report.push(`${key}: rel L2 ${e.toExponential(2)}`);
          expect(e, key).toBeLessThan(1e-4);
        }
      }
      await want.close();
      console.log(`case ${name}\n  ${report.join("\n  ")}`);
    });
  }
});
