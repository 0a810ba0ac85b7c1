import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    {
      // WGSL files are imported as text, as tsup's `text` loader does for the build.
      name: "wgsl-text",
      load(id: string) {
        if (!id.endsWith(".wgsl")) return null;
        return `export default ${JSON.stringify(readFileSync(id, "utf8"))};`;
      },
    },
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // Dawn is not safe in worker threads: run each test file in its own forked process.
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
