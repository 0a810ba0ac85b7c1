// `train` then `evaluate` from the CLI (dist/cli.js, built by npm test) on a generated set:
// random-model and synthetic-set write a model folder and an MVFA-layout dataset, train
// writes adapters in the checkpoint layout, evaluate reads them.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSafetensors } from "../src/index.js";
import { sharedFile, VOCAB_GZ } from "./helpers/shared.js";

const cli = (...args: string[]) => spawnSync(process.execPath, ["dist/cli.js", ...args], { encoding: "utf8", timeout: 600_000 });

describe("train and evaluate from the CLI", () => {
  it("on a generated set and random model", async () => {
    const dir = mkdtempSync(join(tmpdir(), "train-cli-"));
    const model = join(dir, "model");
    let r = cli("random-model", "--out", model, "--vocab", sharedFile(VOCAB_GZ));
    expect(r.status, r.stderr).toBe(0);
    r = cli("synthetic-set", "--out", join(dir, "data"), "--valid", "2", "--test", "2", "--size", "48");
    expect(r.status, r.stderr).toBe(0);
    const out = join(dir, "trained.safetensors");
    r = cli("train", "--model", model, "--image-size", "48", "--data", join(dir, "data"), "--dataset", "Toy", "--shots", "1", "--epochs", "2", "--no-augment", "--select-on-test", "--out", out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/training on 1 abnormal \+ 1 normal shots of Toy \(segmentation\), 2 epochs/);
    // the reference's protocol: the test set after every epoch, the best epoch kept (and flagged)
    expect(r.stdout).toMatch(/epoch 1\/2: loss \d+\.\d+ \(.*\), test image AUROC \d+\.\d+, pixel AUROC \d+\.\d+\n[\s\S]*epoch 2\/2: loss \d+\.\d+/);
    expect(r.stdout).toMatch(/wrote .*trained\.safetensors: adapters of epoch [12] \(best on the test set: its metrics are optimistic\)/);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]); // no temporary file left
    // the official key layout: the same names and shapes as the checkpoint it started from
    const [trained, start] = [await openSafetensors(out), await openSafetensors(join(model, "adapters.safetensors"))];
    expect([...trained.tensors.keys()].sort()).toEqual([...start.tensors.keys()].sort());
    for (const k of start.tensors.keys()) expect(trained.info(k).shape, k).toEqual(start.info(k).shape);
    expect(trained.metadata.dataset).toBe("Toy");
    await trained.close();
    await start.close();
    r = cli("evaluate", "--clip", join(model, "clip.safetensors"), "--adapters", out, "--vocab", join(model, "bpe_simple_vocab_16e6.txt.gz"), "--image-size", "48", "--data", join(dir, "data"), "--dataset", "Toy", "--shots", "1", "--no-overlays");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/dataset Toy \(segmentation\), 1 shots/);
    expect(r.stdout).toMatch(/\| \d+\.\d+ \| \d+\.\d+ \| \d+\.\d+ \|/);
    // asking for more shots than valid/ holds names the folder
    r = cli("train", "--model", model, "--data", join(dir, "data"), "--dataset", "Toy", "--shots", "5", "--out", out);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/valid[/\\]good[/\\]img holds 2 images, fewer than the 5 shots/);
  }, 600_000);
});
