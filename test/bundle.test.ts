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

  it("the CLI's --help lists its commands; demo passes its self-check", () => {
    const help = spawnSync(process.execPath, ["dist/cli.js", "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/demo/);
    expect(help.stdout).toMatch(/info/);
    const demo = spawnSync(process.execPath, ["dist/cli.js", "demo"], { encoding: "utf8", timeout: 120_000 });
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/^adapter: /m);
    expect(demo.stdout).toMatch(/self-check: .* OK$/m);
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
});
