// Adapter training (spec 9) against test/reference/train_ref.py (PyTorch autograd and Adam on
// fixture case a, a tiny 24-layer CLIP): five steps of the train-trace, abnormal a-query-0
// with its mask, then normal a-support-0, cycling.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSafetensors, runTrainTrace, type WritableTensor } from "../src/index.js";
import { relL2 } from "./helpers/compare.js";
import { gpu } from "./helpers/gpu.js";
import { sharedFile, VOCAB_GZ } from "./helpers/shared.js";

const DIR = "test/fixtures/model";
const A = JSON.parse(readFileSync(join(DIR, "cases.json"), "utf8")).cases.a as { S: number; levels: number[]; classname: string };

describe("train-trace against the PyTorch reference", () => {
  for (const task of ["segmentation", "classification"] as const) {
    it(`case a, ${task}: loss, every adapter gradient and the weights after each of 5 Adam steps`, async () => {
      const got: Record<string, WritableTensor> = await runTrainTrace(await gpu(), {
        clip: join(DIR, "clip-a.safetensors"),
        adapters: join(DIR, "adapters-a.safetensors"),
        vocab: sharedFile(VOCAB_GZ),
        className: A.classname,
        imageSize: A.S,
        levels: A.levels,
        task,
        abnormal: [{ image: join(DIR, "a-query-0.png"), mask: join(DIR, "a-query-0-mask.png") }],
        normal: [join(DIR, "a-support-0.png")],
        steps: 5,
      });
      const want = await openSafetensors(join(DIR, `train-a-${task}.safetensors`));
      expect(Object.keys(got).sort()).toEqual([...want.tensors.keys()].sort());
      const worst = { grad: 0, param: 0, loss: 0 };
      for (const key of want.tensors.keys()) {
        const w = await want.read(key);
        const g = got[key];
        expect(g.shape, key).toEqual(want.info(key).shape);
        const kind = key.split(".")[2] as "grad" | "param" | "loss";
        const wNorm = Math.hypot(...w);
        if (kind === "grad" && wNorm === 0) {
          // no loss reaches it (the last level's fc2, the classification task's seg adapters)
          expect(g.data.every((v) => v === 0), key).toBe(true);
          continue;
        }
        const e = relL2(g.data, w);
        worst[kind in worst ? kind : "loss"] = Math.max(worst[kind in worst ? kind : "loss"], e);
        // The tolerance for gradients: relative L2 below 1e-3. The loss is f32 sums of
        // the same terms (1e-5). Weights move by about lr = 1e-3 per step whatever the
        // gradient's size (Adam normalises it), so an entry whose gradient is near zero moves
        // by a rounding-sensitive amount: 1e-4 of the weights' norm (seen: 2e-5).
        expect(e, key).toBeLessThan(kind === "grad" ? 1e-3 : kind === "param" ? 1e-4 : 1e-5);
      }
      await want.close();
      console.log(`${task}: worst relative L2 ${JSON.stringify(worst)}`);
    });
  }
});
