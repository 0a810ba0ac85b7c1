// The benchmark runs end to end (tiny shapes, no peers): every part produces its numbers.
// Speeds are not asserted here; they belong to `npm run bench`.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { SHARED } from "./helpers/shared.js";

describe("npm run bench", () => {
  it("--smoke runs every case and writes the JSON", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "bench-")), "smoke.json");
    const r = await promisify(execFile)(process.execPath, ["--import", "tsx", "--import", "./scripts/wgsl-hooks.mjs", "bench/run.ts", "--smoke", "--no-peers", "--json", out], {
      encoding: "utf8",
      env: { ...process.env, CLIPMPCAD_SHARED: SHARED },
      timeout: 600_000,
    });
    expect(r.stdout).toMatch(/\| case \| shape \| ours ms \|/);
    const j = JSON.parse(readFileSync(out, "utf8"));
    expect(j.mode).toBe("smoke");
    expect(j.cases.map((c: { case: string }) => c.case)).toEqual(["linear qkv", "linear out", "linear fc", "linear proj", "attention", "ViT block"]);
    for (const c of j.cases) expect(c.ms.ours).toBeGreaterThan(0);
    expect(j.model["flat memory"]).toBe(true);
    for (const k of ["text features, base ensemble (ms)", "forward b1 ms per image", "forward b8 ms per image", "peak GPU memory MiB"]) expect(j.model[k], k).toBeGreaterThan(0);
  });

  it("bench:train --preset smoke times a training step and its memory", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "bench-")), "train.json");
    const r = await promisify(execFile)(process.execPath, ["--import", "tsx", "--import", "./scripts/wgsl-hooks.mjs", "bench/train.ts", "--preset", "smoke", "--steps", "1", "--json", out], { encoding: "utf8", timeout: 600_000 });
    expect(r.stdout).toMatch(/training step \(smoke, 32 px, segmentation\): \d+\.\d+ s; epoch of 88 images/);
    const j = JSON.parse(readFileSync(out, "utf8"));
    expect(j.stepMs).toBeGreaterThan(0);
    expect(j.peakMiB).toBeGreaterThan(j.weightsMiB);
  });
});
