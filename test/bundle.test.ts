// Checks the build that `npm test` makes first (tsup): the browser bundle is free of Node
// built-ins, the Node entry loads, and the CLI's --help and demo work.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sharedFile, TOKENIZER_CASES, VOCAB_GZ } from "./helpers/shared.js";

const built = existsSync("dist/browser.js") && existsSync("dist/index.js") && existsSync("dist/cli.js");

describe("bundle", () => {
  it("was built (npm test runs tsup before vitest)", () => {
    expect(built, "dist/ is missing: run `npm run build` (npm test does) before vitest").toBe(true);
  });

  it("the browser entry imports nothing from Node and nothing external", () => {
    const src = readFileSync("dist/browser.js", "utf8");
    const imports = [...src.matchAll(/(?:from\s*|import\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]);
    expect(imports).toEqual([]);
    expect(src).not.toMatch(/\brequire\(|process\.env|node:/);
  });

  it("the Node entry exports the runtime and kernels", async () => {
    const entry = "../dist/index.js"; // through a variable: typechecking must not need a build
    const lib = (await import(entry)) as Record<string, unknown>;
    for (const name of ["createRuntime", "Tensor", "linear", "matmul", "layerNorm", "softmax", "permute", "rowMax"]) {
      expect(lib, name).toHaveProperty(name);
    }
  });

  it("the CLI's --help lists its commands; selfcheck passes", () => {
    const help = spawnSync(process.execPath, ["dist/cli.js", "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    for (const cmd of ["demo", "info", "selfcheck", "tokenize", "trace"]) expect(help.stdout).toMatch(new RegExp(`\\b${cmd}\\b`));
    const check = spawnSync(process.execPath, ["dist/cli.js", "selfcheck"], { encoding: "utf8", timeout: 120_000 });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^adapter: /m);
    expect(check.stdout).toMatch(/self-check: .* OK$/m);
  });

  it("the demo (README's first command) finds the drawn defects and writes overlays", () => {
    const out = mkdtempSync(join(tmpdir(), "demo-"));
    const r = spawnSync(process.execPath, ["dist/cli.js", "demo", "--out", out], { encoding: "utf8", timeout: 600_000 });
    expect(r.status, r.stderr).toBe(0);
    const m = /image AUROC ([\d.]+), pixel AUROC ([\d.]+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    // the memory bank alone must find drawn defects, even with random weights
    expect(Number(m![2])).toBeGreaterThan(0.8);
    expect(Number(m![1])).toBeGreaterThan(0.8);
    expect(r.stdout).toMatch(/The weights are random/);
    const png = readFileSync(join(out, "01-defect.png"));
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");
  });

  it("the CLI's tokenize prints the reference ids for every case", () => {
    const cases: { text: string; context77: number[] }[] = JSON.parse(readFileSync(sharedFile(TOKENIZER_CASES), "utf8"));
    const file = join(mkdtempSync(join(tmpdir(), "tok-")), "texts.json");
    writeFileSync(file, JSON.stringify(cases.map((c) => c.text)));
    const r = spawnSync(process.execPath, ["dist/cli.js", "tokenize", "--vocab", sharedFile(VOCAB_GZ), "--json", file], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(cases.map((c) => c.context77));
    writeFileSync(file, JSON.stringify({ not: "an array" }));
    const bad = spawnSync(process.execPath, ["dist/cli.js", "tokenize", "--vocab", sharedFile(VOCAB_GZ), "--json", file], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/texts.json: expected a JSON array of strings/);
  });

  it("detect scores an image against normal shots and writes a heatmap", () => {
    const out = join(mkdtempSync(join(tmpdir(), "detect-")), "heat.png");
    const M = "test/fixtures/model";
    const r = spawnSync(process.execPath, ["dist/cli.js", "detect", "--clip", `${M}/clip-b.safetensors`, "--adapters", `${M}/adapters-b.safetensors`,
      "--image-size", "28", "--levels", "2,4", "--normal", `${M}/b-support-0.png`, "--image", `${M}/b-query-0.png`, "--out", out], { encoding: "utf8", timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.scoreZero).toBeNull(); // no vocabulary given: few-shot only
    expect(Number.isFinite(res.scoreFew) && res.score === res.scoreFew).toBe(true);
    expect(readFileSync(out).subarray(1, 4).toString()).toBe("PNG");
    const bad = spawnSync(process.execPath, ["dist/cli.js", "detect", "--model", "/nonexistent", "--normal", "a.png", "--image", "b.png"], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/model folder \/nonexistent does not exist/);
  });
});
