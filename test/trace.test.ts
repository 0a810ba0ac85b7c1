import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ClipMPCADModel, loadImages, NORMALIZATIONS, openSafetensors, runTrace, type WritableTensor } from "../src/index.js";
import { maxAbs, relL2 } from "./helpers/compare.js";
import { gpu } from "./helpers/gpu.js";
import { sharedFile, VOCAB_GZ } from "./helpers/shared.js";

// Fixtures and expected traces from test/reference/clipmpcad_ref.py (PyTorch, from the spec).
const DIR = "test/fixtures/model";
const CASES = JSON.parse(readFileSync(join(DIR, "cases.json"), "utf8")).cases as Record<
  string,
  { S: number; levels: number[]; classname: string; norm: "none" | "imagenet"; support: string[]; queries: string[]; naming: string }
>;

describe("trace against the PyTorch reference", () => {
  for (const [name, c] of Object.entries(CASES)) {
    // Case a runs through the library, case b through the CLI (dist/cli.js, built by npm test).
    const viaCli = name !== "a";
    it(`case ${name}: ${c.naming} names, S=${c.S}, levels ${c.levels.join(",")}, normalize ${c.norm}${viaCli ? ", via the CLI" : ""}`, async () => {
      const opts = {
        clip: join(DIR, `clip-${name}.safetensors`),
        adapters: join(DIR, `adapters-${name}.safetensors`),
        vocab: sharedFile(VOCAB_GZ),
        className: c.classname,
        imageSize: c.S,
        levels: c.levels,
        normalize: c.norm,
        support: c.support.map((f) => join(DIR, f)),
        query: c.queries.map((f) => join(DIR, f)),
      };
      let got: Record<string, WritableTensor>;
      if (viaCli) {
        const out = join(mkdtempSync(join(tmpdir(), "trace-")), "trace.safetensors");
        const args = ["dist/cli.js", "trace", "--clip", opts.clip, "--adapters", opts.adapters, "--vocab", opts.vocab, "--class-name", opts.className,
          "--image-size", String(opts.imageSize), "--levels", opts.levels.join(","), "--normalize", opts.normalize, "--support", ...opts.support, "--query", ...opts.query, "--out", out];
        const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 300_000 });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/wrote \d+ tensors to/);
        const f = await openSafetensors(out);
        got = {};
        for (const k of f.tensors.keys()) got[k] = { shape: f.info(k).shape, data: await f.read(k) };
        await f.close();
      } else {
        got = await runTrace(await gpu(), opts);
      }
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

describe("batches", () => {
  it("a batch of images gives each exactly what it gets alone (spec 5.3)", async () => {
    const rt = await gpu();
    const c = CASES.b;
    const clip = await openSafetensors(join(DIR, "clip-b.safetensors"));
    const adapters = await openSafetensors(join(DIR, "adapters-b.safetensors"));
    const model = await ClipMPCADModel.load(rt, { clip, adapters, imageSize: c.S, levels: c.levels, text: false });
    const imgs = loadImages(rt, [...c.queries, ...c.support].map((f) => join(DIR, f)), c.S, NORMALIZATIONS.imagenet);
    const batch = model.forward(imgs, { pooled: true });
    for (let i = 0; i < 3; i++) {
      const one = imgs.slice(i, 1);
      const alone = model.forward(one, { pooled: true });
      for (let j = 0; j < c.levels.length; j++) {
        const b = batch.seg[j].at(i);
        expect(Array.from(await alone.seg[j].read())).toEqual(Array.from(await b.read()));
        b.dispose();
      }
      const pb = (await batch.pooled!.read()).subarray(i * model.config.embed, (i + 1) * model.config.embed);
      expect(Array.from(await alone.pooled!.read())).toEqual(Array.from(pb));
      for (const t of [one, ...alone.seg, ...alone.det, alone.pooled!]) t.dispose();
    }
    for (const t of [imgs, ...batch.seg, ...batch.det, batch.pooled!]) t.dispose();
    model.dispose();
    await clip.close();
    await adapters.close();
  });
});
