/**
 * One runtime per test file (each file runs in its own forked process). CI always has
 * SwiftShader, so a missing adapter fails the tests; it is never a silent skip.
 */
import { afterAll } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";

let rt: Promise<Runtime> | undefined;

export function gpu(): Promise<Runtime> {
  if (!rt) {
    rt = createRuntime();
    afterAll(async () => (await rt!).dispose());
  }
  return rt;
}
