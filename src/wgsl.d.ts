// WGSL sources are bundled as text (tsup `text` loader, the vitest plugin, scripts/wgsl-hooks.mjs).
declare module "*.wgsl" {
  const source: string;
  export default source;
}
