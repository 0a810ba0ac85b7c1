// Node module hooks that load .wgsl files as text, so TypeScript sources run under tsx
// (`node --import tsx --import ./scripts/wgsl-hooks.mjs file.ts`) as they do in the bundle.
import { register } from "node:module";

register("data:text/javascript," + encodeURIComponent(`
import { readFile } from "node:fs/promises";
export async function load(url, context, next) {
  if (!url.endsWith(".wgsl")) return next(url, context);
  const text = await readFile(new URL(url), "utf8");
  return { format: "module", source: "export default " + JSON.stringify(text) + ";", shortCircuit: true };
}
`));
