// Checks the build that `npm test` makes first (tsup): the browser bundle is free of Node
// built-ins, the Node entry loads, and the CLI's --help and demo work.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

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
});
